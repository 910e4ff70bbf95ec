using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Ingress.Data;

/// <summary>What the sending of our messages reads and locks in Ingress's schema.</summary>
public static class OutboundQueries
{
    /// <summary>
    /// Makes <paramref name="db"/> work for the tenant of an outbound message known only by its id (a timer, a
    /// Twilio callback): the one read that crosses tenants. False when there is no such message.
    /// </summary>
    public static async Task<bool> ForTenantOfAsync(this IngressDbContext db, string outboundId, CancellationToken cancellationToken)
    {
        var tenantId = await db.AcrossTenantsAsync(() => db.OutboundMessages.AsNoTracking()
            .Where(m => m.OutboundId == outboundId).Select(m => m.TenantId).FirstOrDefaultAsync(cancellationToken), cancellationToken);
        if (tenantId is null)
        {
            return false;
        }

        await db.ForTenant(tenantId, cancellationToken);
        return true;
    }

    /// <summary>The message with its parts, tracked, or null.</summary>
    public static Task<OutboundMessage?> OutboundMessageAsync(this IngressDbContext db, string outboundId, CancellationToken cancellationToken) =>
        MessageWithParts(db, outboundId, cancellationToken);

    /// <summary>Compiled once: the sender reads a message several times on its way out.</summary>
    private static readonly Func<IngressDbContext, string, CancellationToken, Task<OutboundMessage?>> MessageWithParts =
        EF.CompileAsyncQuery((IngressDbContext db, string outboundId, CancellationToken _) =>
            db.OutboundMessages.Include(m => m.Parts).FirstOrDefault(m => m.OutboundId == outboundId));

    /// <summary>
    /// The message with its parts, its row locked until the transaction ends (status callbacks and the message's end take
    /// this lock, so neither misses the other's change) and read fresh: what the context tracked before is forgotten, so
    /// call it first in its transaction. Null when there is no such message.
    /// </summary>
    public static async Task<OutboundMessage?> LockOutboundMessageAsync(this IngressDbContext db, string outboundId, CancellationToken cancellationToken)
    {
        // The table and column names come from the EF model, never from input; the value is a parameter.
        var sql = $"SELECT 1 FROM {db.TableOf<OutboundMessage>()} WHERE {db.ColumnOf<OutboundMessage>(m => m.OutboundId)} = {{0}} FOR UPDATE";
        await db.Database.ExecuteSqlRawAsync(sql, [outboundId], cancellationToken);
        db.ChangeTracker.Clear();
        return await db.OutboundMessageAsync(outboundId, cancellationToken);
    }

    /// <summary>The customer's 24-hour window on our number: from their newest message to it.</summary>
    public static async Task<CustomerServiceWindow> CustomerServiceWindowAsync(this IngressDbContext db, string number, string customer,
        CancellationToken cancellationToken) =>
        new(await db.InboundMessages.Where(m => m.To == number && m.CustomerId == customer).MaxAsync(m => (DateTimeOffset?)m.ReceivedAt, cancellationToken));

    /// <summary>The message of the queue that <paramref name="message"/> waits for (the one being sent first), or null.</summary>
    public static Task<SendQueue.Ahead?> FirstAheadAsync(this IngressDbContext db, OutboundMessage message, CancellationToken cancellationToken) =>
        db.OutboundMessages.AsNoTracking().Where(SendQueue.AheadOf(message))
            .OrderByDescending(m => m.StartedAt != null)
            .Select(m => new SendQueue.Ahead(m.OutboundId, m.StartedAt != null))
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>The next message of <paramref name="message"/>'s queue to take its turn, or null.</summary>
    public static Task<string?> NextInQueueAsync(this IngressDbContext db, OutboundMessage message, CancellationToken cancellationToken) =>
        db.OutboundMessages.AsNoTracking().Where(SendQueue.WaitingBehind(message))
            .OrderBy(m => m.QueueSequence).ThenBy(m => m.RequestedAt).ThenBy(m => m.Sequence)
            .Select(m => m.OutboundId)
            .FirstOrDefaultAsync(cancellationToken);

    /// <summary>Whether the message numbered just before <paramref name="message"/> in its queue is recorded.</summary>
    public static Task<bool> PredecessorRecordedAsync(this IngressDbContext db, OutboundMessage message, CancellationToken cancellationToken) =>
        db.OutboundMessages.AnyAsync(SendQueue.PredecessorOf(message), cancellationToken);

    /// <summary>Which of <paramref name="sids"/> are recorded for a part already.</summary>
    public static Task<List<string>> RecordedSidsAsync(this IngressDbContext db, IReadOnlyCollection<string> sids, CancellationToken cancellationToken) =>
        db.OutboundParts.AsNoTracking().Where(p => p.TwilioSid != null && sids.Contains(p.TwilioSid)).Select(p => p.TwilioSid!).ToListAsync(cancellationToken);

    /// <summary>
    /// Makes <paramref name="db"/> work for the tenant of the message whose part was sent as <paramref name="twilioSid"/>
    /// and returns that message's id, or null when no part has that SID (yet). A callback names only the SID, so the
    /// lookup crosses tenants on purpose; the rest is the message's tenant's.
    /// </summary>
    public static async Task<string?> ForTenantOfSidAsync(this IngressDbContext db, string twilioSid, CancellationToken cancellationToken)
    {
        var owner = await db.AcrossTenantsAsync(() => db.OutboundParts.AsNoTracking().Where(p => p.TwilioSid == twilioSid)
            .Select(p => new { p.OutboundId, p.TenantId }).FirstOrDefaultAsync(cancellationToken), cancellationToken);
        if (owner is null)
        {
            return null;
        }

        await db.ForTenant(owner.TenantId, cancellationToken);
        return owner.OutboundId;
    }

    /// <summary>
    /// Reserves the next sending slot of <paramref name="number"/>, <paramref name="interval"/> after the last one (or now):
    /// one statement, so every instance shares the pace.
    /// </summary>
    public static async Task<DateTimeOffset> ReserveSlotAsync(this IngressDbContext db, string number, TimeSpan interval, CancellationToken cancellationToken)
    {
        var table = db.TableOf<SenderPacing>();
        var numberColumn = db.ColumnOf<SenderPacing>(p => p.Number);
        var next = db.ColumnOf<SenderPacing>(p => p.NextSlotAt);
        var sql = $$"""
            INSERT INTO {{table}} ({{numberColumn}}, {{next}}) VALUES ({0}, now() + {1})
            ON CONFLICT ({{numberColumn}}) DO UPDATE SET {{next}} = GREATEST({{table}}.{{next}}, now()) + {1}
            RETURNING {{next}} - {1} AS "Value"
            """;
        var slots = await db.Database.SqlQueryRaw<DateTimeOffset>(sql, number, interval).ToListAsync(cancellationToken);
        return slots.Single();
    }

    /// <summary>Keeps a callback for a SID not recorded yet (once per status), and forgets those older than <paramref name="expired"/>.</summary>
    public static async Task KeepEarlyCallbackAsync(this IngressDbContext db, EarlyStatusCallback callback, DateTimeOffset expired, CancellationToken cancellationToken)
    {
        await db.InsertIfAbsentAsync(callback, cancellationToken);
        await db.EarlyStatusCallbacks.Where(c => c.ReceivedAt < expired).ExecuteDeleteAsync(cancellationToken);
    }
}
