using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// A consumer whose effects commit exactly once: the inbox record, the state change and the messages it publishes
/// through the outbox go into one <see cref="UnitOfWork"/>. A redelivered message (same message id) finds its inbox
/// record and changes nothing. A failure rolls everything back and MassTransit retries.
/// <para>
/// Deliveries that wait while one unit of work runs are applied together in the next (<see cref="DeliveryBatches"/>):
/// one inbox statement, the ordering and row locks of all of them taken at once in key order, each tenant's events applied in
/// arrival order and each event's changes written (and the context cleared) before the next reads, one commit. An event
/// that must wait for its predecessor is set aside (retried alone) while the rest go on. If the batch fails, each of its
/// events runs again in a unit of work of its own, so only a failing event fails.
/// </para>
/// Each event is applied for its message's tenant (its <c>TenantId</c>, when the contract has one): the row-level
/// security policies show and accept that tenant's rows only (see <see cref="TenantIsolation"/>).
/// </summary>
public abstract class TransactionalConsumer<TMessage, TDbContext>(TDbContext db) : IConsumer<TMessage>
    where TMessage : class
    where TDbContext : DbContext, IMessagingDbContext
{
    protected TDbContext Db { get; } = db;

    public Task Consume(ConsumeContext<TMessage> context)
    {
        var delivery = new Delivery(context);
        return context.TryGetPayload<IServiceProvider>(out var services) && services.GetService<DeliveryBatches>() is { } batches
            ? batches.RunAsync(GetType(), delivery, ApplyAsync)
            : ApplyAloneAsync(delivery, context.CancellationToken);
    }

    /// <summary>
    /// The ordering lock the event needs (see <see cref="ConversationOrder"/>), or null. It is taken before the event is
    /// applied, with those of the rest of its batch, in key order, so two batches never wait for each other in a circle.
    /// It may read (the lock's key may follow from a row the event names) but must not change anything.
    /// </summary>
    protected virtual ValueTask<string?> LockKeyAsync(TMessage message, CancellationToken cancellationToken) => ValueTask.FromResult<string?>(null);

    /// <summary>
    /// Keys naming the rows the event locks as it applies. Their locks are taken with the ordering locks, before any event of
    /// the batch applies, in key order: events that reach the same rows in different orders (one batch's arrival order
    /// against another's) then never wait for each other in a circle. Every writer of such a row must name it here.
    /// </summary>
    protected virtual IEnumerable<string> LockedRowKeys(TMessage message) => [];

    /// <summary>Change state and write outgoing messages with <see cref="Outbox.Publish{T}"/>; do not save.</summary>
    protected abstract Task HandleAsync(TMessage message, ConsumeContext<TMessage> context, CancellationToken cancellationToken);

    /// <summary>
    /// Called once per unit of work after its last event, before the save: for what is better written once for the
    /// whole batch (totals added up over its events) than by every event.
    /// </summary>
    protected virtual Task CompleteAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>Called as every unit of work (and every attempt of one) starts: forget what a rolled-back attempt added up.</summary>
    protected virtual void Restart()
    {
    }

    private async Task ApplyAsync(IReadOnlyList<Delivery> batch)
    {
        var cancellationToken = batch[0].Context.CancellationToken;
        if (batch.Count > 1)
        {
            try
            {
                await ApplyTogetherAsync(batch, cancellationToken);
                return;
            }
            catch (Exception) when (!cancellationToken.IsCancellationRequested)
            {
                Db.ChangeTracker.Clear(); // rolled back: each event now runs alone, and only a failing one fails
            }
        }

        foreach (var delivery in batch)
        {
            try
            {
                await ApplyAloneAsync(delivery, cancellationToken);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                Db.ChangeTracker.Clear();
                delivery.FailWith(ex);
            }
        }
    }

    private async Task ApplyAloneAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        WorkFor(delivery);
        await Db.RunAsync(async ct =>
        {
            Restart();
            if (await Db.TryRecordAsync(delivery.MessageId, GetType().Name, ct))
            {
                await Db.LockAllAsync(await LockKeysAsync(delivery, ct), ct);

                await HandleAsync(delivery.Message, delivery.Context, ct);
                await CompleteAsync(ct);
            }
        }, cancellationToken);
    }

    private async Task ApplyTogetherAsync(IReadOnlyList<Delivery> batch, CancellationToken cancellationToken)
    {
        var setAside = new List<(Delivery Delivery, PredecessorPendingException Waiting)>();
        WorkFor(batch[0]);
        await Db.RunAsync(async ct =>
        {
            Restart();
            var fresh = await Db.TryRecordAllAsync(batch.Select(d => d.MessageId).ToList(), GetType().Name, ct);
            // A message delivered twice in one batch applies once. One tenant's events go together, each tenant's in
            // arrival order: an ordering key is one tenant's, so every key keeps its order, and the connection's tenant
            // setting changes once per tenant of the batch instead of at every event.
            var toApply = batch.Where(d => fresh.Remove(d.MessageId))
                .OrderBy(d => MessageTenant<TMessage>.Of(d.Message), StringComparer.Ordinal).ToList();
            var keys = new List<string>();
            foreach (var delivery in toApply)
            {
                await WorkForAsync(delivery, ct);
                keys.AddRange(await LockKeysAsync(delivery, ct));
            }

            await Db.LockAllAsync(keys, ct);
            setAside.Clear();
            foreach (var delivery in toApply)
            {
                await WorkForAsync(delivery, ct);
                try
                {
                    await HandleAsync(delivery.Message, delivery.Context, ct);
                }
                catch (PredecessorPendingException waiting) when (!Db.ChangeTracker.HasChanges())
                {
                    // It changed nothing (the wait is decided before any change): it alone is retried, the rest go on.
                    await Db.ForgetRecordAsync(delivery.MessageId, GetType().Name, ct);
                    setAside.Add((delivery, waiting));
                    continue;
                }

                await Db.SaveChangesAsync(ct); // the next event's reads see this one's changes
                // Saved, so forgotten: the next event reads what it needs afresh, and a save never looks over the
                // entities of every event before it.
                Db.ChangeTracker.Clear();
            }

            await CompleteAsync(ct);
        }, cancellationToken);

        foreach (var (delivery, waiting) in setAside)
        {
            delivery.FailWith(waiting);
        }
    }

    private async Task<List<string>> LockKeysAsync(Delivery delivery, CancellationToken cancellationToken)
    {
        var keys = LockedRowKeys(delivery.Message).ToList();
        if (await LockKeyAsync(delivery.Message, cancellationToken) is { } orderingKey)
        {
            keys.Add(orderingKey);
        }

        return keys;
    }

    private void WorkFor(Delivery delivery)
    {
        if (Db is ServiceDbContext serviceDb)
        {
            serviceDb.WorkFor(MessageTenant<TMessage>.Of(delivery.Message));
        }
    }

    private Task WorkForAsync(Delivery delivery, CancellationToken cancellationToken) =>
        Db is ServiceDbContext serviceDb
            ? serviceDb.WorkForAsync(MessageTenant<TMessage>.Of(delivery.Message), cancellationToken)
            : Task.CompletedTask;

    private sealed class Delivery(ConsumeContext<TMessage> context) : BatchedDelivery
    {
        public ConsumeContext<TMessage> Context { get; } = context;

        public TMessage Message => Context.Message;

        public Guid MessageId { get; } = context.MessageId
            ?? throw new InvalidOperationException($"{typeof(TMessage).Name} arrived without a message id; it cannot be deduplicated.");
    }
}
