using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

/// <summary>SafeNotify operators: tenants, their plans and their keys.</summary>
public static class AdminTenantsApi
{
    public static RouteGroupBuilder MapAdminTenantsApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Admin").RequireOperator().AcrossTenants<RoutingDbContext>();

        admin.MapPost("/tenants", CreateTenant).WithName("CreateTenant").WithSummary("Create a tenant; its API key is shown once");
        admin.MapGet("/tenants", ListTenants).WithName("ListTenants").WithSummary("List tenants");
        admin.MapGet("/tenants/{id}", GetTenant).WithName("GetTenant").WithSummary("Read a tenant");
        admin.MapPatch("/tenants/{id}", UpdateTenant).WithName("UpdateTenant").WithSummary("Change a tenant's plan, CRM switch, name or time zone");
        admin.MapPost("/tenants/{id}/announce", Announce).WithName("AnnounceTenant")
            .WithSummary("Tell every service of the tenant as it is now, again: for a service added after the tenant was created (the staff console)");
        admin.MapGet("/unrouted-messages", ListUnrouted).WithName("ListUnroutedMessages")
            .WithSummary("Messages nobody could route, newest first; filter by tenantId and reason (unknown_number, number_inactive, over_plan_limit, crm_disabled, account_mismatch)");
        return admin;
    }

    private static async Task<Results<Created<CreatedTenantResponse>, ValidationProblem, ProblemHttpResult>> CreateTenant(
        CreateTenantRequest request, RoutingDbContext db, TimeProvider time, HttpContext http, IOptions<ConsoleAddress> console, CancellationToken cancellationToken)
    {
        var plan = Plans.Find(request.CrmPlan ?? Plans.Basic.Name);
        var timezone = request.Timezone ?? "America/Bogota";
        var errors = new ValidationErrors()
            .Check(!string.IsNullOrWhiteSpace(request.SafeNotifyUserId) && request.SafeNotifyUserId.Length <= 64, "safeNotifyUserId", "Required, at most 64 characters.")
            .Check(!string.IsNullOrWhiteSpace(request.Name) && request.Name.Length <= 200, "name", "Required, at most 200 characters.")
            .Check(plan is not null, "crmPlan", "One of free, basic, pro, enterprise.")
            .Check(Validators.IsTimeZone(timezone), "timezone", "An IANA time zone such as America/Bogota.");
        if (request.FirstOwner is { } firstOwner)
        {
            errors.Check(Validators.IsEmailAddress(firstOwner.Email), "firstOwner.email", "An address such as ana@example.com, at most 254 characters.")
                .Check(!string.IsNullOrWhiteSpace(firstOwner.DisplayName) && firstOwner.DisplayName.Trim().Length <= 100, "firstOwner.displayName", "Required, at most 100 characters.");
        }

        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var userId = request.SafeNotifyUserId!.Trim();
        if (await db.Tenants.AnyAsync(t => t.SafeNotifyUserId == userId, cancellationToken))
        {
            return Problems.Conflict("This SafeNotify user already has a CRM tenant.", kind: "tenant-exists");
        }

        var now = time.GetUtcNow();
        var tenant = new Tenant
        {
            Id = Ids.New("tnt"),
            SafeNotifyUserId = userId,
            Name = request.Name!.Trim(),
            CrmEnabled = request.CrmEnabled ?? true,
            CrmPlan = plan!.Name,
            Timezone = timezone,
            CreatedAt = now,
            UpdatedAt = now,
        };
        tenant.ApplyPlan(plan);
        var key = ApiKeys.NewKey();
        db.Tenants.Add(tenant);
        var firstKey = new ApiKey { Id = Ids.New("key"), TenantId = tenant.Id, Hash = ApiKeys.Hash(key), Prefix = ApiKeys.DisplayPrefix(key), CreatedAt = now };
        db.ApiKeys.Add(firstKey);
        db.Audit(http, tenant.Id, AuditActions.TenantCreated, "tenant", tenant.Id, $"plan {tenant.CrmPlan}, crmEnabled {tenant.CrmEnabled}", now);
        db.Audit(http, tenant.Id, AuditActions.ApiKeyIssued, "api_key", firstKey.Id, $"first key {firstKey.Prefix}…", now);
        // The owner's link is made here, shown only in this answer; the console gets its hash and invites the owner.
        var ownerToken = request.FirstOwner is null ? null : SecretTokens.New();
        var ownerInvitation = request.FirstOwner is { } owner
            ? new FirstOwnerInvitation(owner.Email!.Trim(), owner.DisplayName!.Trim(), SecretTokens.Hash(ownerToken!), now + FirstOwnerInvitation.Lifetime)
            : null;
        db.Publish(new TenantProvisioned(tenant.Id, tenant.SafeNotifyUserId, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan,
            tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone, now) { FirstOwner = ownerInvitation }, orderingKey: tenant.Id);

        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return Problems.Conflict("This SafeNotify user already has a CRM tenant.", kind: "tenant-exists");
        }

        return TypedResults.Created($"/api/admin/tenants/{tenant.Id}", new CreatedTenantResponse(
            tenant.Id, tenant.SafeNotifyUserId, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan, tenant.MaxAgents,
            tenant.MaxWhatsappNumbers, tenant.Timezone, tenant.CreatedAt, key,
            ownerToken is null ? null : console.Value.InvitationLink(ownerToken), ownerInvitation?.ExpiresAt));
    }

    private static async Task<Ok<PagedList<TenantResponse>>> ListTenants(
        RoutingDbContext db, string? safeNotifyUserId, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var paging = PageQuery.From(page, pageSize);
        var query = db.Tenants.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(safeNotifyUserId))
        {
            query = query.Where(t => t.SafeNotifyUserId == safeNotifyUserId);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderBy(t => t.CreatedAt).ThenBy(t => t.Id).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<TenantResponse>(items.Select(TenantResponse.From).ToList(), paging.Page, paging.PageSize, total));
    }

    /// <summary>
    /// Publishes the tenant as it is now (<see cref="TenantProvisioned"/>, as of its last change, so it never overrides a newer
    /// one): every service takes it as an upsert, and one that never heard of the tenant (a console added to an existing
    /// installation) learns of it.
    /// </summary>
    private static async Task<Results<Accepted, ProblemHttpResult>> Announce(string id, RoutingDbContext db, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant");
        }

        db.Publish(new TenantProvisioned(tenant.Id, tenant.SafeNotifyUserId, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan,
            tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone, tenant.UpdatedAt), orderingKey: tenant.Id);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<Results<Ok<TenantResponse>, ProblemHttpResult>> GetTenant(string id, RoutingDbContext db, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == id, cancellationToken);
        return tenant is null ? Problems.NotFound("Tenant") : TypedResults.Ok(TenantResponse.From(tenant));
    }

    /// <summary>
    /// Changes a tenant. A downgrade deletes nothing: numbers beyond the new limit stop answering (see
    /// <see cref="PlanAllowance"/>) and Agent, told by <see cref="TenantPlanChanged"/>, applies the agent limit.
    /// </summary>
    private static async Task<Results<Ok<TenantResponse>, ValidationProblem, ProblemHttpResult>> UpdateTenant(
        string id, UpdateTenantRequest request, RoutingDbContext db, RoutingDirectory directory, TimeProvider time, HttpContext http,
        CancellationToken cancellationToken)
    {
        var plan = request.CrmPlan is null ? null : Plans.Find(request.CrmPlan);
        var errors = new ValidationErrors()
            .Check(request.Name is null || (request.Name.Trim().Length is > 0 and <= 200), "name", "At most 200 characters, not empty.")
            .Check(request.CrmPlan is null || plan is not null, "crmPlan", "One of free, basic, pro, enterprise.")
            .Check(request.Timezone is null || Validators.IsTimeZone(request.Timezone), "timezone", "An IANA time zone such as America/Bogota.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // The row lock orders this change with concurrent number creates, which lock the tenant to check the limit.
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tenant = await db.LockTenantAsync(id, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant");
        }

        var before = (tenant.CrmEnabled, tenant.CrmPlan, tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone);
        var beforeName = tenant.Name;
        tenant.Name = request.Name?.Trim() ?? tenant.Name;
        tenant.CrmEnabled = request.CrmEnabled ?? tenant.CrmEnabled;
        tenant.Timezone = request.Timezone ?? tenant.Timezone;
        if (plan is not null)
        {
            tenant.ApplyPlan(plan);
        }

        var changes = new List<string>();
        if (before.CrmPlan != tenant.CrmPlan)
        {
            changes.Add($"plan {before.CrmPlan} -> {tenant.CrmPlan}");
        }

        if (before.CrmEnabled != tenant.CrmEnabled)
        {
            changes.Add($"crmEnabled {before.CrmEnabled} -> {tenant.CrmEnabled}");
        }

        if (before.Timezone != tenant.Timezone)
        {
            changes.Add($"timezone {before.Timezone} -> {tenant.Timezone}");
        }

        if (beforeName != tenant.Name)
        {
            changes.Add("name changed");
        }

        // UpdatedAt moves only when something changed: a migrated tenant changed since is kept by a rollback.
        var planChanged = before != (tenant.CrmEnabled, tenant.CrmPlan, tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone);
        if (planChanged || changes.Count > 0)
        {
            tenant.UpdatedAt = time.GetUtcNow();
        }

        if (planChanged)
        {
            db.Publish(new TenantPlanChanged(tenant.Id, tenant.CrmEnabled, tenant.CrmPlan, tenant.MaxAgents, tenant.MaxWhatsappNumbers,
                tenant.Timezone, tenant.UpdatedAt), orderingKey: tenant.Id);
        }

        if (changes.Count > 0)
        {
            var action = before.CrmPlan != tenant.CrmPlan ? AuditActions.TenantPlanChanged : AuditActions.TenantSettingsChanged;
            db.Audit(http, tenant.Id, action, "tenant", tenant.Id, string.Join("; ", changes), tenant.UpdatedAt);
        }

        await db.SaveChangesAsync(cancellationToken);
        await RoutingDirectory.AnnounceChangeAsync(db, tenant.Id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        directory.Invalidate(tenant.Id);
        return TypedResults.Ok(TenantResponse.From(tenant));
    }

    private static async Task<Ok<PagedList<UnroutedMessageResponse>>> ListUnrouted(
        RoutingDbContext db, string? tenantId, string? reason, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var paging = PageQuery.From(page, pageSize);
        var query = db.UnroutedMessages.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(tenantId))
        {
            query = query.Where(m => m.TenantId == tenantId);
        }

        if (!string.IsNullOrWhiteSpace(reason))
        {
            query = query.Where(m => m.Reason == reason);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query
            .OrderByDescending(m => m.ReceivedAt).Skip(paging.Skip).Take(paging.PageSize)
            .Select(m => new UnroutedMessageResponse(m.Id, m.MessageSid, m.AccountSid, m.To, m.CustomerId, m.Reason, m.TenantId, m.ReceivedAt))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<UnroutedMessageResponse>(items, paging.Page, paging.PageSize, total));
    }
}
