using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Apis;

/// <summary>
/// Handoffs, exports and erasures enter the audit trail (kept by Routing): an <see cref="AuditRecorded"/> in the
/// outbox, committed with the change by the caller's save. Details carry ids and the employee, never a customer's
/// words, name or phone.
/// </summary>
internal static class LeadAudit
{
    public static void Audit(this LeadDbContext db, HttpContext http, string tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt)
    {
        var caller = CallerIdentity.From(http);
        db.Publish(new AuditRecorded(tenantId, action, targetType, targetId, detail, caller?.Role ?? "system", caller?.TenantId, caller?.KeyId,
            "lead", occurredAt));
    }
}
