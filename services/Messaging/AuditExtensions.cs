using Microsoft.AspNetCore.Http;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// A critical change enters the audit trail (kept by Routing) the same way in every service: an
/// <see cref="AuditRecorded"/> in the outbox, committed with the change by the caller's save, naming who made it
/// from the signed identity. Details carry ids and field names, never secrets, prompt text or customer data.
/// </summary>
public static class AuditExtensions
{
    /// <summary>The actor of a change no caller made (the service acting on its own, e.g. from an event).</summary>
    public const string SystemActor = "system";

    public static void Audit(this ServiceDbContext db, HttpContext http, string? tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt)
    {
        var caller = CallerIdentity.From(http);
        db.Publish(new AuditRecorded(tenantId, action, targetType, targetId, detail, caller?.Role ?? SystemActor, caller?.TenantId, caller?.KeyId,
            db.SchemaName, occurredAt));
    }

    /// <summary>A change the service made on its own: the actor is <see cref="SystemActor"/>.</summary>
    public static void Audit(this ServiceDbContext db, string? tenantId, string action, string targetType, string targetId, string? detail,
        DateTimeOffset occurredAt) =>
        db.Publish(new AuditRecorded(tenantId, action, targetType, targetId, detail, SystemActor, null, null, db.SchemaName, occurredAt));
}
