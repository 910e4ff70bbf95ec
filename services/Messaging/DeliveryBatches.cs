using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// Group commit for consumers. Deliveries of one consumer that arrive while a unit of work of that consumer runs wait
/// for it to end, then the first of them leads the next unit of work for all of them (up to <see cref="MaxBatchSize"/>).
/// Nothing ever waits for a batch to fill: a delivery that finds no unit of work running starts one at once, alone, so
/// under light load each event is its own batch and under load the batch grows to what is already waiting in the
/// prefetch. Each delivery still completes (or fails, and is retried by MassTransit) on its own.
/// <para>
/// With <see cref="ConsumerOptions.ConcurrentUnitsOfWork"/> set, the service's consumers together run at most that many
/// units of work at once: a backlog then costs the service no more CPU than that, and its batches grow instead.
/// </para>
/// </summary>
public sealed class DeliveryBatches(IMeterFactory meters, IOptions<ConsumerOptions> options)
{
    /// <summary>The most events one unit of work applies; a prefetch larger than this simply makes more batches.</summary>
    public const int MaxBatchSize = 32;

    private readonly ConcurrentDictionary<Type, Lane> _lanes = new();

    private readonly SemaphoreSlim? _unitsOfWork = options.Value.ConcurrentUnitsOfWork is { } limit ? new SemaphoreSlim(limit) : null;

    private readonly Histogram<int> _batchSize = meters.Create(ServiceDefaultsExtensions.ActivitySourceName)
        .CreateHistogram<int>("safenotify.consumer.batch.size", "{message}", "Messages one consumer applied in one unit of work.");

    /// <summary>
    /// Applies <paramref name="delivery"/> in a batch of <paramref name="consumer"/>'s deliveries: either this call
    /// leads a batch (<paramref name="apply"/> runs with it first) or another call's batch includes it. Returns when its
    /// own outcome is known, throwing its own failure.
    /// </summary>
    public async Task RunAsync<TDelivery>(Type consumer, TDelivery delivery, Func<IReadOnlyList<TDelivery>, Task> apply)
        where TDelivery : BatchedDelivery
    {
        var lane = _lanes.GetOrAdd(consumer, _ => new Lane());
        if (!lane.JoinOrLead(delivery) && !await delivery.TurnAsync())
        {
            delivery.ThrowIfFailed();
            return; // applied by another delivery's batch
        }

        // Deliveries arriving while the leader waits for a unit of work's turn join its batch.
        if (_unitsOfWork is not null)
        {
            await _unitsOfWork.WaitAsync();
        }

        var batch = lane.TakeBatch(delivery).Cast<TDelivery>().ToList();
        _batchSize.Record(batch.Count, new KeyValuePair<string, object?>("consumer", consumer.Name));
        try
        {
            await apply(batch);
        }
        catch (Exception ex)
        {
            foreach (var item in batch)
            {
                item.FailWith(ex); // the batch failed as a whole before deciding anyone's outcome
            }
        }
        finally
        {
            _unitsOfWork?.Release();
            foreach (var item in batch.Where(item => !ReferenceEquals(item, delivery)))
            {
                item.Finish();
            }

            lane.PassOn();
        }

        delivery.ThrowIfFailed();
    }

    private sealed class Lane
    {
        private readonly Lock _gate = new();
        private readonly Queue<BatchedDelivery> _waiting = new();
        private bool _leading;

        /// <summary>True when the caller leads now; otherwise it waits in line.</summary>
        public bool JoinOrLead(BatchedDelivery delivery)
        {
            lock (_gate)
            {
                if (_leading)
                {
                    _waiting.Enqueue(delivery);
                    return false;
                }

                _leading = true;
                return true;
            }
        }

        public List<BatchedDelivery> TakeBatch(BatchedDelivery leader)
        {
            lock (_gate)
            {
                var batch = new List<BatchedDelivery> { leader };
                while (batch.Count < MaxBatchSize && _waiting.TryDequeue(out var next))
                {
                    batch.Add(next);
                }

                return batch;
            }
        }

        /// <summary>Hands the lead to the first delivery still waiting, or leaves the lane idle.</summary>
        public void PassOn()
        {
            BatchedDelivery? next;
            lock (_gate)
            {
                if (!_waiting.TryDequeue(out next))
                {
                    _leading = false;
                    return;
                }
            }

            next.Lead();
        }
    }
}

/// <summary>One delivery in a <see cref="DeliveryBatches"/> lane: its outcome, and the signal that ends its wait.</summary>
public abstract class BatchedDelivery
{
    private readonly TaskCompletionSource<bool> _turn = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Exception? _failure;

    /// <summary>Records that this delivery failed; it is retried on its own.</summary>
    public void FailWith(Exception failure) => _failure ??= failure;

    internal Task<bool> TurnAsync() => _turn.Task;

    /// <summary>Its batch ended: it was applied, or <see cref="FailWith"/> said why not.</summary>
    internal void Finish() => _turn.TrySetResult(false);

    /// <summary>It leads the next batch.</summary>
    internal void Lead() => _turn.TrySetResult(true);

    internal void ThrowIfFailed()
    {
        if (_failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
        }
    }
}
