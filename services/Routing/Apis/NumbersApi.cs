using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

/// <summary>
/// Create or change a number. Fields that may be cleared (webhookUrl, twilioSid, businessHours,
/// defaultAgentId) are read as raw JSON so that PATCH can tell "absent" (keep) from <c>null</c> (clear).
/// </summary>
public sealed record NumberRequest(
    string? PhoneNumber,
    string? DisplayName,
    bool? IsActive,
    bool? IsPrimary,
    JsonElement WebhookUrl,
    JsonElement TwilioSid,
    JsonElement BusinessHours,
    string? Timezone,
    bool? AutoReply,
    JsonElement DefaultAgentId);

/// <summary>
/// A number as the tenant sees it. <c>routingStatus</c> says whether it answers customers (ANSWERING) or why
/// not (INACTIVE, OVER_PLAN_LIMIT after a downgrade, CRM_DISABLED), and <c>routingStatusDetail</c> says it in words.
/// </summary>
public sealed record NumberResponse(
    string Id, string PhoneNumber, string DisplayName, bool IsActive, bool IsPrimary, string? WebhookUrl, string? TwilioSid,
    WeeklyHours? BusinessHours, string Timezone, bool AutoReply, string? DefaultAgentId, int TotalMessages, int TotalLeads,
    NumberRoutingStatus RoutingStatus, string? RoutingStatusDetail, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt)
{
    public static NumberResponse From(WhatsAppNumber n, TenantRouting routing)
    {
        var status = routing.StatusOf(n);
        return new(n.Id, n.PhoneNumber, n.DisplayName, n.IsActive, n.IsPrimary, n.WebhookUrl, n.TwilioSid, n.BusinessHours, n.Timezone,
            n.AutoReply, n.DefaultAgentId, n.TotalMessages, n.TotalLeads, status, PlanAllowance.Explain(status, routing.Tenant), n.CreatedAt, n.UpdatedAt);
    }
}

/// <summary>A tenant's WhatsApp numbers (seed "UserWhatsAppNumber").</summary>
public static class NumbersApi
{
    public static RouteGroupBuilder MapNumbersApi(this IEndpointRouteBuilder app)
    {
        var numbers = app.MapGroup("/api/numbers").WithTags("Numbers");
        // Every member reads the numbers (an inbox is filtered by them); admins change them.
        numbers.MapGet("/", List).RequireTenant(TenantRole.Agent).WithName("ListNumbers").WithSummary("List the tenant's WhatsApp numbers");
        numbers.MapPost("/", Create).RequireTenant(TenantRole.Admin).WithName("CreateNumber").WithSummary("Add a WhatsApp number (within the plan's limit)");
        numbers.MapGet("/{id}", Get).RequireTenant(TenantRole.Agent).WithName("GetNumber").WithSummary("Read a WhatsApp number");
        numbers.MapPatch("/{id}", Update).RequireTenant(TenantRole.Admin).WithName("UpdateNumber").WithSummary("Change a WhatsApp number");
        numbers.MapDelete("/{id}", Delete).RequireTenant(TenantRole.Admin).WithName("DeleteNumber").WithSummary("Remove a WhatsApp number");
        return numbers;
    }

    private static async Task<Results<Ok<PagedList<NumberResponse>>, ProblemHttpResult>> List(
        HttpContext context, RoutingDbContext db, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var paging = PageQuery.From(page, pageSize);
        // A plan allows at most five numbers: the whole set is small, and the routing status needs all of it.
        if (await ReadRoutingAsync(db, context.TenantId(), cancellationToken) is not { } routing)
        {
            return Problems.NotFound("Tenant");
        }

        var all = routing.NumbersByPhone.Values.OrderByDescending(n => n.IsPrimary).ThenBy(n => n.CreatedAt).ThenBy(n => n.Id, StringComparer.Ordinal).ToList();
        var items = all.Skip(paging.Skip).Take(paging.PageSize).Select(n => NumberResponse.From(n, routing)).ToList();
        return TypedResults.Ok(new PagedList<NumberResponse>(items, paging.Page, paging.PageSize, all.Count));
    }

    private static async Task<Results<Ok<NumberResponse>, ProblemHttpResult>> Get(string id, HttpContext context, RoutingDbContext db, CancellationToken cancellationToken)
    {
        var routing = await ReadRoutingAsync(db, context.TenantId(), cancellationToken);
        var number = routing?.NumbersByPhone.Values.FirstOrDefault(n => n.Id == id);
        return number is null ? Problems.NotFound("Number") : TypedResults.Ok(NumberResponse.From(number, routing!));
    }

    /// <summary>The tenant's routing data as stored now (not from the directory: an API answer must show the committed state).</summary>
    private static async Task<TenantRouting?> ReadRoutingAsync(RoutingDbContext db, string tenantId, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
        if (tenant is null)
        {
            return null;
        }

        var numbers = await db.Numbers.AsNoTracking().Where(n => n.TenantId == tenantId).ToListAsync(cancellationToken);
        return new TenantRouting(tenant, numbers, []);
    }

    private static async Task<IResult> Create(
        NumberRequest request, HttpContext context, RoutingDbContext db, RoutingDirectory directory, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var now = time.GetUtcNow();
        var number = new WhatsAppNumber
        {
            Id = Ids.New("num"),
            TenantId = tenantId,
            PhoneNumber = request.PhoneNumber?.Trim() ?? "",
            DisplayName = request.DisplayName?.Trim() ?? "",
            CreatedAt = now,
            UpdatedAt = now,
        };
        var errors = Apply(request, number, creating: true);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var tenant = await db.LockTenantAsync(tenantId, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant");
        }

        var count = await db.Numbers.CountAsync(n => n.TenantId == tenantId, cancellationToken);
        if (count >= tenant.MaxWhatsappNumbers)
        {
            return Problems.PlanLimitExceeded("WhatsApp numbers", tenant.MaxWhatsappNumbers, count, tenant.CrmPlan);
        }

        // Row-level security shows this check the tenant's own numbers only: another tenant's number with the same
        // phone, even one committed at this very moment, is refused by the unique index (see UniqueConflict).
        if (await db.Numbers.AnyAsync(n => n.PhoneNumber == number.PhoneNumber, cancellationToken))
        {
            return Problems.Conflict("This phone number is already registered.", kind: "number-exists");
        }

        if (await CheckDefaultAgentAsync(context, db, number) is { } agentProblem)
        {
            return agentProblem;
        }

        number.IsPrimary = request.IsPrimary ?? count == 0;
        await ClearOtherPrimaryAsync(db, number, cancellationToken);
        db.Numbers.Add(number);
        Publish(db, number, deleted: false, now);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await RoutingDirectory.AnnounceChangeAsync(db, tenantId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return UniqueConflict(ex);
        }

        directory.Invalidate(tenantId);
        var routing = await ReadRoutingAsync(db, tenantId, cancellationToken);
        return TypedResults.Created($"/api/numbers/{number.Id}", NumberResponse.From(number, routing!));
    }

    private static async Task<IResult> Update(
        string id, NumberRequest request, HttpContext context, RoutingDbContext db, RoutingDirectory directory, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var number = await LockAndFindAsync(db, tenantId, id, cancellationToken);
        if (number is null)
        {
            return Problems.NotFound("Number");
        }

        var errors = Apply(request, number, creating: false);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        // The tenant's own numbers only, as on create: across tenants the unique index decides.
        if (request.PhoneNumber is not null && await db.Numbers.AnyAsync(n => n.PhoneNumber == number.PhoneNumber && n.Id != number.Id, cancellationToken))
        {
            return Problems.Conflict("This phone number is already registered.", kind: "number-exists");
        }

        if (await CheckDefaultAgentAsync(context, db, number) is { } agentProblem)
        {
            return agentProblem;
        }

        if (request.IsPrimary is { } primary)
        {
            number.IsPrimary = primary;
            await ClearOtherPrimaryAsync(db, number, cancellationToken);
        }

        number.UpdatedAt = time.GetUtcNow();
        Publish(db, number, deleted: false, number.UpdatedAt);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await RoutingDirectory.AnnounceChangeAsync(db, tenantId, cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return UniqueConflict(ex);
        }

        directory.Invalidate(tenantId);
        var routing = await ReadRoutingAsync(db, tenantId, cancellationToken);
        return TypedResults.Ok(NumberResponse.From(number, routing!));
    }

    /// <summary>Removes a number; when it was the primary one, the oldest remaining number becomes primary.</summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(
        string id, HttpContext context, RoutingDbContext db, RoutingDirectory directory, TimeProvider time, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var number = await LockAndFindAsync(db, tenantId, id, cancellationToken);
        if (number is null)
        {
            return Problems.NotFound("Number");
        }

        var now = time.GetUtcNow();
        db.Numbers.Remove(number);
        Publish(db, number, deleted: true, now);
        await db.SaveChangesAsync(cancellationToken);
        if (number.IsPrimary
            && await db.Numbers.Where(n => n.TenantId == tenantId).OrderByDescending(n => n.IsActive).ThenBy(n => n.CreatedAt).ThenBy(n => n.Id)
                .FirstOrDefaultAsync(cancellationToken) is { } successor)
        {
            successor.IsPrimary = true;
            successor.UpdatedAt = now;
            Publish(db, successor, deleted: false, now);
            await db.SaveChangesAsync(cancellationToken);
        }

        await RoutingDirectory.AnnounceChangeAsync(db, tenantId, cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        directory.Invalidate(tenantId);
        return TypedResults.NoContent();
    }

    /// <summary>
    /// Locks the tenant's row, then reads the number. Every change to a tenant's numbers takes that lock (a create
    /// counts against the plan under it), so each reads the numbers as the one before left them: of two numbers
    /// made primary at once the later wins, instead of one being told it is primary while the other is, and a
    /// deleted primary's successor cannot collide with a number made primary meanwhile.
    /// </summary>
    private static async Task<WhatsAppNumber?> LockAndFindAsync(RoutingDbContext db, string tenantId, string id, CancellationToken cancellationToken) =>
        await db.LockTenantAsync(tenantId, cancellationToken) is null
            ? null
            : await db.Numbers.FirstOrDefaultAsync(n => n.Id == id && n.TenantId == tenantId, cancellationToken);

    /// <summary>Copies the given fields onto the number and validates the result.</summary>
    private static ValidationErrors Apply(NumberRequest request, WhatsAppNumber number, bool creating)
    {
        var errors = new ValidationErrors();
        if (creating || request.PhoneNumber is not null)
        {
            number.PhoneNumber = request.PhoneNumber?.Trim() ?? "";
            errors.Check(Validators.IsE164(number.PhoneNumber), "phoneNumber", "An E.164 phone number such as +573001234567.");
        }

        if (creating || request.DisplayName is not null)
        {
            number.DisplayName = request.DisplayName?.Trim() ?? "";
            errors.Check(number.DisplayName.Length is > 0 and <= 100, "displayName", "Required, at most 100 characters.");
        }

        number.IsActive = request.IsActive ?? number.IsActive;
        number.AutoReply = request.AutoReply ?? number.AutoReply;
        if (request.Timezone is not null)
        {
            number.Timezone = request.Timezone;
            errors.Check(Validators.IsTimeZone(request.Timezone), "timezone", "An IANA time zone such as America/Bogota.");
        }

        if (OptionalString(request.WebhookUrl, "webhookUrl", errors, out var webhookUrl))
        {
            number.WebhookUrl = webhookUrl;
            errors.Check(webhookUrl is null || Validators.IsHttpUrl(webhookUrl), "webhookUrl", "An absolute http(s) URL.");
        }

        if (OptionalString(request.TwilioSid, "twilioSid", errors, out var twilioSid))
        {
            number.TwilioSid = twilioSid;
            errors.Check(twilioSid is null || (twilioSid.StartsWith("AC", StringComparison.Ordinal) && twilioSid.Length == 34),
                "twilioSid", "The Twilio account SID that owns the number (AC followed by 32 characters).");
        }

        if (OptionalString(request.DefaultAgentId, "defaultAgentId", errors, out var defaultAgentId))
        {
            number.DefaultAgentId = defaultAgentId;
        }

        if (request.BusinessHours.ValueKind != JsonValueKind.Undefined)
        {
            if (WeeklyHours.TryParse(request.BusinessHours, out var hours, out var error))
            {
                number.BusinessHours = hours;
            }
            else
            {
                errors.Add("businessHours", error!);
            }
        }

        return errors;
    }

    /// <summary>True when the field was given (a string, or null to clear it).</summary>
    private static bool OptionalString(JsonElement value, string field, ValidationErrors errors, out string? text)
    {
        text = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Undefined:
                return false;
            case JsonValueKind.Null:
                return true;
            case JsonValueKind.String:
                text = value.GetString()!.Trim();
                text = text.Length == 0 ? null : text;
                return true;
            default:
                errors.Add(field, "A string, or null.");
                return false;
        }
    }

    private static async Task<IResult?> CheckDefaultAgentAsync(HttpContext context, RoutingDbContext db, WhatsAppNumber number)
    {
        if (number.DefaultAgentId is null)
        {
            return null;
        }

        // Across tenants on purpose: an agent Routing does not know yet (409, retry) differs from another tenant's (400).
        var agent = await db.AcrossTenantsAsync(() => db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.AgentId == number.DefaultAgentId, context.RequestAborted), context.RequestAborted);
        if (agent is null)
        {
            return Problems.NotYetKnown(context, "The default agent",
                "defaultAgentId must be an agent of this tenant. If it was created a moment ago, retry shortly.");
        }

        // Another tenant's agent and a deleted one are refused alike (the same answer: nothing leaks).
        return agent.TenantId == number.TenantId && !agent.Deleted
            ? null
            : new ValidationErrors().Add("defaultAgentId", "Not an agent of this tenant.").ToProblem();
    }

    /// <summary>Which unique rule a concurrent request won: the phone number, or the one primary number per tenant.</summary>
    private static ProblemHttpResult UniqueConflict(DbUpdateException exception) =>
        exception.InnerException is Npgsql.PostgresException { ConstraintName: "ix_whatsapp_numbers_one_primary" }
            ? Problems.Conflict("Another number of this tenant became primary at the same moment; retry.", kind: "primary-number-conflict")
            : Problems.Conflict("This phone number is already registered.", kind: "number-exists");

    private static async Task ClearOtherPrimaryAsync(RoutingDbContext db, WhatsAppNumber number, CancellationToken cancellationToken)
    {
        if (number.IsPrimary)
        {
            await db.Numbers.Where(n => n.TenantId == number.TenantId && n.Id != number.Id && n.IsPrimary)
                .ExecuteUpdateAsync(n => n.SetProperty(x => x.IsPrimary, false), cancellationToken);
        }
    }

    private static void Publish(RoutingDbContext db, WhatsAppNumber number, bool deleted, DateTimeOffset now) =>
        db.Publish(new NumberChanged(number.TenantId, number.Id, number.PhoneNumber, number.IsActive, deleted, now), orderingKey: number.TenantId);
}
