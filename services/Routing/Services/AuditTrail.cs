using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// Routing's own critical changes (tenants, plans, keys) enter the audit trail like every other service's:
/// an <see cref="AuditRecorded"/> written to the outbox, committed with the change by the caller's save.
/// </summary>
public static class AuditTrail
{
    public const string Service = "routing";

    public static void Audit(this RoutingDbContext db, HttpContext http, string? tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt)
    {
        var caller = CallerIdentity.From(http);
        db.Publish(new AuditRecorded(tenantId, action, targetType, targetId, detail, caller?.Role ?? "system", caller?.TenantId, caller?.KeyId,
            Service, occurredAt));
    }
}
