using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

public sealed record CreateTenantRequest(string? SafeNotifyUserId, string? Name, bool? CrmEnabled, string? CrmPlan, string? Timezone);

public sealed record UpdateTenantRequest(string? Name, bool? CrmEnabled, string? CrmPlan, string? Timezone);

/// <summary>A tenant as operators see it; <c>migrationRunId</c> names the <c>migrate-users</c> run that created it (null: made by hand).</summary>
public sealed record TenantResponse(
    string Id, string SafeNotifyUserId, string Name, bool CrmEnabled, string CrmPlan, int? MaxAgents,
    int MaxWhatsappNumbers, string Timezone, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? MigrationRunId, string? LegacyPlanType)
{
    public static TenantResponse From(Tenant t) =>
        new(t.Id, t.SafeNotifyUserId, t.Name, t.CrmEnabled, t.CrmPlan, t.MaxAgents, t.MaxWhatsappNumbers, t.Timezone, t.CreatedAt, t.UpdatedAt,
            t.MigrationRunId, t.LegacyPlanType);
}

/// <summary>The tenant as created, with its first API key, shown this once.</summary>
public sealed record CreatedTenantResponse(
    string Id, string SafeNotifyUserId, string Name, bool CrmEnabled, string CrmPlan, int? MaxAgents,
    int MaxWhatsappNumbers, string Timezone, DateTimeOffset CreatedAt, string ApiKey);

public sealed record IssuedApiKeyResponse(string Id, string ApiKey, DateTimeOffset CreatedAt);

public sealed record UnroutedMessageResponse(string Id, string MessageSid, string AccountSid, string To, string CustomerId, string Reason, string? TenantId, DateTimeOffset ReceivedAt);

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
        admin.MapPost("/tenants/{id}/api-keys", IssueApiKey).WithName("IssueApiKey").WithSummary("Issue another API key (rotation)");
        admin.MapDelete("/tenants/{id}/api-keys/{keyId}", RevokeApiKey).WithName("RevokeApiKey").WithSummary("Revoke an API key");
        admin.MapGet("/unrouted-messages", ListUnrouted).WithName("ListUnroutedMessages")
            .WithSummary("Messages nobody could route, newest first; filter by tenantId and reason (unknown_number, number_inactive, over_plan_limit, crm_disabled, account_mismatch)");
        return admin;
    }

    private static async Task<Results<Created<CreatedTenantResponse>, ValidationProblem, ProblemHttpResult>> CreateTenant(
        CreateTenantRequest request, RoutingDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var plan = Plans.Find(request.CrmPlan ?? Plans.Basic.Name);
        var timezone = request.Timezone ?? "America/Bogota";
        var errors = new ValidationErrors()
            .Check(!string.IsNullOrWhiteSpace(request.SafeNotifyUserId) && request.SafeNotifyUserId.Length <= 64, "safeNotifyUserId", "Required, at most 64 characters.")
            .Check(!string.IsNullOrWhiteSpace(request.Name) && request.Name.Length <= 200, "name", "Required, at most 200 characters.")
            .Check(plan is not null, "crmPlan", "One of free, basic, pro, enterprise.")
            .Check(Validators.IsTimeZone(timezone), "timezone", "An IANA time zone such as America/Bogota.");
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
        db.ApiKeys.Add(new ApiKey { Id = Ids.New("key"), TenantId = tenant.Id, Hash = ApiKeys.Hash(key), Prefix = ApiKeys.DisplayPrefix(key), CreatedAt = now });
        db.Publish(new TenantProvisioned(tenant.Id, tenant.SafeNotifyUserId, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan,
            tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone, now), orderingKey: tenant.Id);

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
            tenant.MaxWhatsappNumbers, tenant.Timezone, tenant.CreatedAt, key));
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
        string id, UpdateTenantRequest request, RoutingDbContext db, RoutingDirectory directory, TimeProvider time, CancellationToken cancellationToken)
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
        tenant.Name = request.Name?.Trim() ?? tenant.Name;
        tenant.CrmEnabled = request.CrmEnabled ?? tenant.CrmEnabled;
        tenant.Timezone = request.Timezone ?? tenant.Timezone;
        if (plan is not null)
        {
            tenant.ApplyPlan(plan);
        }

        tenant.UpdatedAt = time.GetUtcNow();
        if (before != (tenant.CrmEnabled, tenant.CrmPlan, tenant.MaxAgents, tenant.MaxWhatsappNumbers, tenant.Timezone))
        {
            db.Publish(new TenantPlanChanged(tenant.Id, tenant.CrmEnabled, tenant.CrmPlan, tenant.MaxAgents, tenant.MaxWhatsappNumbers,
                tenant.Timezone, tenant.UpdatedAt), orderingKey: tenant.Id);
        }

        await db.SaveChangesAsync(cancellationToken);
        await RoutingDirectory.AnnounceChangeAsync(db, tenant.Id, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        directory.Invalidate(tenant.Id);
        return TypedResults.Ok(TenantResponse.From(tenant));
    }

    private static async Task<Results<Created<IssuedApiKeyResponse>, ProblemHttpResult>> IssueApiKey(
        string id, RoutingDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!await db.Tenants.AnyAsync(t => t.Id == id, cancellationToken))
        {
            return Problems.NotFound("Tenant");
        }

        var key = ApiKeys.NewKey();
        var apiKey = new ApiKey { Id = Ids.New("key"), TenantId = id, Hash = ApiKeys.Hash(key), Prefix = ApiKeys.DisplayPrefix(key), CreatedAt = time.GetUtcNow() };
        db.ApiKeys.Add(apiKey);
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.Created($"/api/admin/tenants/{id}/api-keys/{apiKey.Id}", new IssuedApiKeyResponse(apiKey.Id, key, apiKey.CreatedAt));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKey(
        string id, string keyId, RoutingDbContext db, TimeProvider time, CancellationToken cancellationToken)
    {
        var key = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == keyId && k.TenantId == id, cancellationToken);
        if (key is null)
        {
            return Problems.NotFound("API key");
        }

        key.RevokedAt ??= time.GetUtcNow();
        await db.SaveChangesAsync(cancellationToken);
        return TypedResults.NoContent();
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
