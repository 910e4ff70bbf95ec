using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Metrics.Services;

/// <summary>
/// Rebuilds a tenant's daily rollups from the facts, conversations and leads Metrics stored, with the same
/// contribution functions the live path uses: after a rebuild the figures are what the events gave.
/// </summary>
public sealed class RollupRebuilder(MetricsDbContext db)
{
    private const int RowsPerStatement = 1000;

    /// <summary>Every tenant Metrics holds anything for.</summary>
    public Task<IReadOnlyList<string>> TenantsAsync(CancellationToken cancellationToken) =>
        db.AcrossTenantsAsync<IReadOnlyList<string>>(async () => await db.Facts.Select(f => f.TenantId)
            .Union(db.Conversations.Select(c => c.TenantId))
            .Union(db.Leads.Select(l => l.TenantId))
            .Union(db.Rollups.Select(r => r.TenantId))
            .Union(db.Unrouted.Where(u => u.TenantId != null).Select(u => u.TenantId!))
            .Distinct().OrderBy(t => t).ToListAsync(cancellationToken), cancellationToken);

    /// <summary>Replaces the tenant's rollups with the sum of its stored contributions; returns the rows written.</summary>
    public async Task<int> RebuildAsync(string tenantId, CancellationToken cancellationToken)
    {
        await db.ForTenant(tenantId, cancellationToken); // from here on this context sees that tenant's rows only
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Consumers add to the rollups only at the end of their transaction: with the table locked, one that committed
        // before is in what is read below, one that has not yet added waits and adds its delta on top of the rebuild.
        await db.LockRollupsAsync(cancellationToken);

        var zone = FactRecorder.Zone(await db.Tenants.AsNoTracking().Where(t => t.TenantId == tenantId).Select(t => t.Timezone).FirstOrDefaultAsync(cancellationToken));
        var contributions = new Contributions(zone);
        var conversations = await db.Conversations.AsNoTracking().Where(c => c.TenantId == tenantId).ToDictionaryAsync(c => c.ConversationId, cancellationToken);
        foreach (var conversation in conversations.Values)
        {
            contributions.AddConversation(conversation);
        }

        await foreach (var lead in db.Leads.AsNoTracking().Where(l => l.TenantId == tenantId).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            contributions.AddLead(lead);
        }

        await foreach (var fact in db.Facts.AsNoTracking().Where(f => f.TenantId == tenantId).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            contributions.AddFact(fact, fact.ConversationId is null ? null : conversations.GetValueOrDefault(fact.ConversationId));
        }

        // The tenant's unanswered messages count on its days (operators' figures): again in its zone as it is now.
        // Only those whose day changed (the tenant's zone changed) are written.
        var moves = new Dictionary<DateOnly, List<string>>();
        await foreach (var unrouted in db.Unrouted.AsNoTracking().Where(u => u.TenantId == tenantId)
                           .Select(u => new { u.InboundMessageId, u.ReceivedAt, u.Day }).AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var day = contributions.DayOf(unrouted.ReceivedAt);
            if (day != unrouted.Day)
            {
                (moves.TryGetValue(day, out var ids) ? ids : moves[day] = []).Add(unrouted.InboundMessageId);
            }
        }

        foreach (var (day, ids) in moves)
        {
            foreach (var chunk in ids.Chunk(RowsPerStatement))
            {
                await db.Unrouted.Where(u => u.TenantId == tenantId && chunk.Contains(u.InboundMessageId))
                    .ExecuteUpdateAsync(u => u.SetProperty(x => x.Day, day), cancellationToken);
            }
        }

        await db.Rollups.Where(r => r.TenantId == tenantId).ExecuteDeleteAsync(cancellationToken);
        var rows = contributions.NonZero.ToList();
        foreach (var chunk in rows.Chunk(RowsPerStatement))
        {
            await db.AddToRollupsAsync(tenantId, chunk, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return rows.Count;
    }
}
