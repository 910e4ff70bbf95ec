using Microsoft.AspNetCore.Http;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// A critical change enters the audit trail (kept by Routing) the same way in every service: an
/// <see cref="AuditRecorded"/> in the outbox, committed with the change by the caller's save, naming who made it
/// from the signed identity, or the system when no caller made it (a consumer, a timer). Details carry ids and
/// field names, never secrets, prompt text or customer data.
/// </summary>
public static class AuditExtensions
{
    /// <summary>The actor role of a change the service made by itself (<see cref="AuditRecorded.ActorRole"/>).</summary>
    public const string SystemActor = "system";

    /// <summary>A change made by the caller of <paramref name="http"/>.</summary>
    public static void Audit(this MessagingDbContext db, HttpContext http, string? tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt) =>
        db.Audit(CallerIdentity.From(http), tenantId, action, targetType, targetId, detail, occurredAt);

    /// <summary>A change the service made by itself, on a message or a timer: the actor is the system.</summary>
    public static void Audit(this MessagingDbContext db, string? tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt) =>
        db.Audit(caller: null, tenantId, action, targetType, targetId, detail, occurredAt);

    /// <summary>A change made by <paramref name="caller"/> (the system when null).</summary>
    public static void Audit(this MessagingDbContext db, CallerIdentity? caller, string? tenantId, string action, string targetType, string targetId,
        string? detail, DateTimeOffset occurredAt) =>
        db.Publish(new AuditRecorded(tenantId, action, targetType, targetId, detail, caller?.Role ?? SystemActor, caller?.TenantId, caller?.KeyId,
            db.SchemaName, occurredAt, caller?.StaffId, caller?.StaffName));
}
