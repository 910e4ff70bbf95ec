using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Apis;

/// <summary>
/// Agent changes and prompt activations enter the audit trail (kept by Routing): an <see cref="AuditRecorded"/>
/// in the outbox, committed with the change by the caller's save. The detail names what changed, never prompt text.
/// </summary>
internal static class AgentAudit
{
    public static void Audit(this AgentDbContext db, HttpContext http, string tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt)
    {
        var caller = CallerIdentity.From(http);
        db.Publish(new AuditRecorded(tenantId, action, targetType, targetId, detail, caller?.Role ?? "system", caller?.TenantId, caller?.KeyId,
            "agent", occurredAt));
    }

    /// <summary>The agent's name as a short quoted label (the tenant chose it; it is not a customer's data).</summary>
    public static string Label(string name) => "\"" + (name.Length <= 60 ? name : name[..60] + "…") + "\"";
}
