using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;

namespace SafeNotify.Crm.Metrics.Services;

/// <summary>
/// Keeps a removed tenant removed. Its <c>TenantDeprovisioned</c> travels under the tenant's ordering key while
/// news of its agents travels under each agent's (and a consumer may run events of one key side by side), so
/// Metrics can hear of a migrated tenant's "Asistente" after the tenant was rolled back. Every consumer that
/// creates a row describing a tenant asks <see cref="IsRemovedAsync"/> first; the removal marks the tenant.
/// Both take the same transaction lock, so a description committed just before the removal is removed with it,
/// and one handled after it sees the mark. News that adds figures (facts, conversations, leads) holds the same lock
/// shared (<see cref="HoldAgainstRemovalAsync"/>), so it does not wait for other figures, only for a removal.
/// </summary>
public static class RemovedTenants
{
    private static string LockKey(string tenantId) => $"tenant:{tenantId}";

    /// <summary>Takes the tenant's lock until the transaction ends and says whether the tenant was removed.</summary>
    public static async Task<bool> IsRemovedAsync(MetricsDbContext db, string tenantId, CancellationToken cancellationToken)
    {
        await db.LockAsync(LockKey(tenantId), cancellationToken);
        return await db.RemovedTenants.AnyAsync(r => r.TenantId == tenantId, cancellationToken);
    }

    /// <summary>
    /// Takes the tenant's lock shared until the transaction ends: a removal waits for this transaction, or this one for
    /// the removal, and a check made afterwards (in a later statement) sees its mark.
    /// </summary>
    public static Task HoldAgainstRemovalAsync(MetricsDbContext db, string tenantId, CancellationToken cancellationToken) =>
        db.LockSharedAsync(LockKey(tenantId), cancellationToken);

    /// <summary>Takes the tenant's lock until the transaction ends and marks the tenant removed (once).</summary>
    public static async Task MarkAsync(MetricsDbContext db, string tenantId, DateTimeOffset at, CancellationToken cancellationToken)
    {
        await db.LockAsync(LockKey(tenantId), cancellationToken);
        if (!await db.RemovedTenants.AnyAsync(r => r.TenantId == tenantId, cancellationToken))
        {
            db.RemovedTenants.Add(new RemovedTenant { TenantId = tenantId, RemovedAt = at });
        }
    }
}
