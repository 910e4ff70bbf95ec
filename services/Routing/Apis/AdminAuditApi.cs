using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

/// <summary>One audited change: who (role, tenant, key id or staff member), what (action, target, detail) and when.</summary>
public sealed record AuditEntryResponse(
    string Id, string? TenantId, string Action, string TargetType, string TargetId, string? Detail, AuditActorResponse Actor, string Service,
    DateTimeOffset OccurredAt)
{
    public static AuditEntryResponse From(AuditEntry e) =>
        new(e.Id, e.TenantId, e.Action, e.TargetType, e.TargetId, e.Detail, new AuditActorResponse(e.ActorRole, e.ActorTenantId, e.ActorKeyId, e.ActorStaffId, e.ActorStaffName), e.Service,
            e.OccurredAt);
}

/// <summary>Who made a change: a key (<c>keyId</c>), a staff member in the console (<c>staffId</c>, <c>staffName</c>) or the system.</summary>
public sealed record AuditActorResponse(string Role, string? TenantId, string? KeyId, string? StaffId = null, string? StaffName = null);

/// <summary>The audit trail of critical changes across SafeNotify CRM, for operators.</summary>
public static class AdminAuditApi
{
    public static RouteGroupBuilder MapAdminAuditApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/audit").WithTags("Admin").RequireOperator().AcrossTenants<RoutingDbContext>();
        admin.MapGet("/", List).WithName("ListAuditEntries")
            .WithSummary("Critical changes, newest first; filter by tenantId, action (e.g. tenant.plan_changed, api_key.revoked) and from/to (ISO 8601)");
        return admin;
    }

    private static async Task<Results<Ok<PagedList<AuditEntryResponse>>, ValidationProblem>> List(
        RoutingDbContext db, string? tenantId, string? action, string? from, string? to, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        var fromTime = ParseTime(from);
        var toTime = ParseTime(to);
        var errors = new ValidationErrors()
            .Check(from is null || fromTime is not null, "from", "An ISO 8601 date or time, e.g. 2026-11-25T00:00:00Z.")
            .Check(to is null || toTime is not null, "to", "An ISO 8601 date or time, e.g. 2026-11-26T00:00:00Z.")
            .Check(fromTime is null || toTime is null || fromTime <= toTime, "to", "Not before from.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        var paging = PageQuery.From(page, pageSize);
        var query = db.AuditEntries.AsNoTracking();
        if (!string.IsNullOrWhiteSpace(tenantId))
        {
            query = query.Where(e => e.TenantId == tenantId);
        }

        if (!string.IsNullOrWhiteSpace(action))
        {
            var wanted = action.Trim().ToLowerInvariant();
            query = query.Where(e => e.Action == wanted);
        }

        if (fromTime is { } start)
        {
            query = query.Where(e => e.OccurredAt >= start);
        }

        if (toTime is { } end)
        {
            query = query.Where(e => e.OccurredAt < end);
        }

        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(e => e.OccurredAt).ThenByDescending(e => e.Id)
            .Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<AuditEntryResponse>(items.Select(AuditEntryResponse.From).ToList(), paging.Page, paging.PageSize, total));
    }

    // A bare date means its midnight in UTC; a time without offset is UTC.
    private static DateTimeOffset? ParseTime(string? value) =>
        value is not null && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed)
            ? parsed.ToUniversalTime()
            : null;
}
