using MassTransit;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>
/// Keeps the audit trail: one entry per <see cref="AuditRecorded"/>, whichever service published it. The
/// inbox makes a redelivered event a no-op, so each change is recorded once. Fields longer than their columns
/// are cut rather than refused, so one oversized detail cannot block the trail.
/// </summary>
public sealed class AuditRecordedConsumer(RoutingDbContext db, TimeProvider time) : TransactionalConsumer<AuditRecorded, RoutingDbContext>(db)
{
    // The trail is SafeNotify-wide (some records have no tenant, and operators read it across tenants): its
    // rows are written as the cross-tenant role, saved inside that scope.
    protected override Task HandleAsync(AuditRecorded message, ConsumeContext<AuditRecorded> context, CancellationToken cancellationToken) =>
        Db.AcrossTenantsAsync(async () =>
        {
            Db.AuditEntries.Add(Entry(message));
            await Db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

    private AuditEntry Entry(AuditRecorded message) =>
        new()
        {
            Id = Ids.New("aud"),
            TenantId = message.TenantId,
            Action = Cut(message.Action, 64)!,
            TargetType = Cut(message.TargetType, 40)!,
            TargetId = Cut(message.TargetId, 100)!,
            Detail = Cut(message.Detail, 500),
            ActorRole = Cut(message.ActorRole, 20)!,
            ActorTenantId = message.ActorTenantId,
            ActorKeyId = message.ActorKeyId,
            ActorStaffId = Cut(message.ActorStaffId, 40),
            ActorStaffName = Cut(message.ActorStaffName, 100),
            Service = Cut(message.Service, 20)!,
            OccurredAt = message.OccurredAt,
            RecordedAt = time.GetUtcNow(),
        };

    private static string? Cut(string? value, int length) => value is null || value.Length <= length ? value : value[..length];
}
