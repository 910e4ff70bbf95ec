using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Messaging.Tests;

/// <summary>Deliveries that wait while a unit of work runs are applied together, each exactly once, each failing alone.</summary>
[Collection(SharedBrokerCollection.Name)]
public sealed class BatchTests(OutboxFixture fixture)
{
    private MessagingHost Host => fixture.Host;

    [Fact]
    public async Task Messages_arriving_together_are_applied_in_shared_units_of_work_each_exactly_once()
    {
        var counterId = await NewCounterAsync();
        using var sizes = new BatchSizes();
        var bus = Host.Services.GetRequiredService<IBus>();
        var ids = Enumerable.Range(0, 300).Select(_ => NewId.NextGuid()).ToList();

        // Every message once, and a third of them a second time (a redelivery after a lost acknowledgement).
        await Task.WhenAll(ids.Concat(ids.Take(100)).Select(id => bus.Publish(new CountVisit(Host.RunId, counterId), context => context.MessageId = id)));

        await Eventually.TrueAsync(async () => await VisitsAsync(counterId) == 300 && await InboxRowsAsync(ids) == 300, "every visit counted");
        await Task.Delay(TimeSpan.FromSeconds(1)); // redeliveries still in flight would show now
        Assert.Equal(300, await VisitsAsync(counterId));
        Assert.True(sizes.Largest > 1, $"the largest unit of work applied {sizes.Largest} message(s)");
    }

    [Fact]
    public async Task A_message_that_fails_in_a_batch_fails_alone_and_the_rest_are_applied()
    {
        var counterId = await NewCounterAsync();
        using var faults = new FaultObserver();
        var bus = Host.Services.GetRequiredService<IBus>();
        using var observer = bus.ConnectConsumeObserver(faults);
        var good = Enumerable.Range(0, 120).Select(_ => NewId.NextGuid()).ToList();
        var bad = Enumerable.Range(0, 3).Select(_ => NewId.NextGuid()).ToHashSet();

        // Counters that do not exist make the handler throw, in the middle of the stream.
        var publishes = good.Select(id => (Id: id, Counter: counterId)).ToList();
        publishes.InsertRange(40, bad.Select(id => (Id: id, Counter: "missing-" + id)));
        await Task.WhenAll(publishes.Select(p => bus.Publish(new CountVisit(Host.RunId, p.Counter), context => context.MessageId = p.Id)));

        await Eventually.TrueAsync(async () => await VisitsAsync(counterId) == good.Count && bad.All(faults.Failed.ContainsKey), "good visits counted, bad ones failed");
        Assert.DoesNotContain(faults.Failed.Keys, id => !bad.Contains(id));
        Assert.Equal(0, await InboxRowsAsync(bad.ToList())); // a failed message leaves no inbox record: its retry is applied if it can be
    }

    [Fact]
    public async Task Two_consumers_locking_the_same_rows_in_opposite_orders_never_deadlock()
    {
        var (a, b) = (await NewCounterAsync(), await NewCounterAsync());
        var received = Host.Services.GetRequiredService<Received>();
        var deadlocksBefore = received.Deadlocks;
        var bus = Host.Services.GetRequiredService<IBus>();

        // One consumer locks a then b, the other b then a, each in batches that hold their locks until they commit.
        await Task.WhenAll(Enumerable.Range(0, 150).SelectMany(_ => new[]
        {
            bus.Publish(new VisitPair(Host.RunId, a, b)),
            bus.Publish(new VisitPairAgain(Host.RunId, b, a)),
        }));

        await Eventually.TrueAsync(async () => await VisitsAsync(a) == 300 && await VisitsAsync(b) == 300, "every pair visited");
        Assert.Equal(deadlocksBefore, received.Deadlocks);
    }

    private async Task<string> NewCounterAsync()
    {
        var counterId = "counter-" + Guid.NewGuid().ToString("N")[..12];
        await Host.WithDbAsync(async db =>
        {
            db.Counters.Add(new Counter { Id = counterId });
            await db.SaveChangesAsync();
        });
        return counterId;
    }

    private Task<int> VisitsAsync(string counterId) =>
        Host.WithDbAsync(db => db.Counters.Where(c => c.Id == counterId).Select(c => c.Visits).SingleAsync());

    private Task<int> InboxRowsAsync(IReadOnlyList<Guid> ids) =>
        Host.WithDbAsync(db => db.InboxMessages.CountAsync(m => ids.Contains(m.MessageId)));

    private sealed class FaultObserver : IConsumeObserver, IDisposable
    {
        public ConcurrentDictionary<Guid, bool> Failed { get; } = new();

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class
        {
            if (context.Message is CountVisit && context.MessageId is { } id)
            {
                Failed[id] = true;
            }

            return Task.CompletedTask;
        }

        public void Dispose()
        {
        }
    }

    /// <summary>The sizes the consumers' units of work report to the service's meter.</summary>
    private sealed class BatchSizes : IDisposable
    {
        private readonly MeterListener _listener = new();
        private int _largest;

        public BatchSizes()
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name == "safenotify.consumer.batch.size")
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<int>((_, size, tags, _) =>
            {
                foreach (var tag in tags)
                {
                    if (tag is { Key: "consumer", Value: nameof(CountVisitConsumer) })
                    {
                        InterlockedMax(size);
                    }
                }
            });
            _listener.Start();
        }

        public int Largest => Volatile.Read(ref _largest);

        public void Dispose() => _listener.Dispose();

        private void InterlockedMax(int size)
        {
            int seen;
            while (size > (seen = Volatile.Read(ref _largest)) && Interlocked.CompareExchange(ref _largest, size, seen) != seen)
            {
            }
        }
    }
}
