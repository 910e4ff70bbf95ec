using MassTransit;
using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// Keeps the messages of one ordering key (a conversation, or a (number, customer) pair) in order when several
/// instances of a service, and several concurrent deliveries within one instance, compete on one queue.
/// <para>
/// Why this design: the outbox already publishes one key's messages one after another, and RabbitMQ delivers a
/// queue in order, but competing consumers (two replicas, and a prefetch of 32 within each) may handle two
/// messages of one conversation at once, and either may commit first. Two things restore order without taking
/// parallelism away from different conversations:
/// </para>
/// <list type="number">
/// <item>A Postgres advisory lock on the key, taken first in the consumer's transaction and released by its
/// commit or rollback: the handling of one key is serialised across every instance (the database is the one
/// thing they share), needs no table, and never blocks another conversation (a hash collision merely makes two
/// conversations wait for each other now and then).</item>
/// <item>Where a consumer's state knows the last sequence it handled for the key (Lead, from Ingress's per
/// (number, customer) sequence), a message whose predecessor has not been handled yet throws
/// <see cref="PredecessorPendingException"/>: its transaction rolls back, and the retry filter set up in
/// <see cref="ServiceHostingExtensions"/> tries it again every <see cref="RetryInterval"/>, up to
/// <see cref="MaxWaits"/> times (5 s). The predecessor was queued before it, so it is almost always being
/// handled already, a few milliseconds away. The wait is bounded because a predecessor may never come (it was
/// not routed, or erased): then the message is handled as it is.</item>
/// </list>
/// RabbitMQ partitioning (consistent-hash exchange, single-active-consumer queues) was the alternative: it needs a
/// broker plugin and a fixed partition count, and gives every partition to the first instance that starts, while
/// the database lock lets every instance take any conversation.
/// </summary>
public static class ConversationOrder
{
    public const int MaxWaits = 100;

    public static readonly TimeSpan RetryInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>
    /// Takes the transaction-scoped lock of <paramref name="orderingKey"/>: call it first inside the consumer's
    /// transaction. Whoever else handles the same key waits here until this transaction ends.
    /// </summary>
    public static Task LockAsync<TDbContext>(this TDbContext db, string orderingKey, CancellationToken cancellationToken)
        where TDbContext : DbContext =>
        db.LockAsync(orderingKey, shared: false, cancellationToken);

    /// <summary>
    /// Takes <paramref name="key"/>'s transaction-scoped lock shared: holders of it do not wait for one another, only
    /// for (and then hold off) whoever takes it with <see cref="LockAsync{TDbContext}(TDbContext, string, CancellationToken)"/>.
    /// </summary>
    public static Task LockSharedAsync<TDbContext>(this TDbContext db, string key, CancellationToken cancellationToken)
        where TDbContext : DbContext =>
        db.LockAsync(key, shared: true, cancellationToken);

    /// <summary>
    /// Takes the locks of all <paramref name="keys"/> in one statement, in the order of their hashes (the locks
    /// themselves), so two transactions locking overlapping sets never wait for each other in a circle.
    /// </summary>
    public static async Task LockAllAsync<TDbContext>(this TDbContext db, IReadOnlyCollection<string> keys, CancellationToken cancellationToken)
        where TDbContext : DbContext
    {
        if (keys.Count == 0)
        {
            return;
        }

        if (keys.Count == 1)
        {
            await db.LockAsync(keys.First(), shared: false, cancellationToken);
            return;
        }

        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("An ordering lock lives as long as a transaction: begin one first.");
        }

        var distinct = keys.Distinct(StringComparer.Ordinal).ToArray();
        await db.Database.ExecuteSqlAsync(
            $"SELECT pg_advisory_xact_lock(h) FROM (SELECT DISTINCT hashtextextended(k, 0) AS h FROM unnest({distinct}) AS k ORDER BY h) AS sorted",
            cancellationToken);
    }

    private static async Task LockAsync<TDbContext>(this TDbContext db, string key, bool shared, CancellationToken cancellationToken)
        where TDbContext : DbContext
    {
        if (db.Database.CurrentTransaction is null)
        {
            throw new InvalidOperationException("An ordering lock lives as long as a transaction: begin one first.");
        }

        await (shared
            ? db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock_shared(hashtextextended({key}, 0))", cancellationToken)
            : db.Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock(hashtextextended({key}, 0))", cancellationToken));
    }

    /// <summary>
    /// Throws <see cref="PredecessorPendingException"/> when message <paramref name="sequence"/> of a key must wait for
    /// an earlier one (<paramref name="lastHandled"/> is the newest handled, null if none), unless it has waited
    /// long enough already. Call it before changing anything: a batch then sets the message aside and goes on.
    /// </summary>
    public static void WaitForPredecessor(ConsumeContext context, string orderingKey, long sequence, long? lastHandled)
    {
        var expected = (lastHandled ?? 0) + 1;
        if (sequence > expected && context.GetRetryAttempt() < MaxWaits)
        {
            throw new PredecessorPendingException(orderingKey, sequence, lastHandled);
        }
    }
}

/// <summary>A message arrived before its predecessor was handled: it is tried again shortly (see <see cref="ConversationOrder"/>).</summary>
public sealed class PredecessorPendingException(string orderingKey, long sequence, long? lastHandled)
    : Exception($"Message {sequence} of '{orderingKey}' waits for its predecessor (last handled: {lastHandled?.ToString() ?? "none"}).");
