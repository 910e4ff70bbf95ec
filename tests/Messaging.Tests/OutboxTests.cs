using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Messaging.Tests;

public sealed class OutboxFixture : IAsyncLifetime
{
    public MessagingHost Host { get; private set; } = null!;
    public string Database { get; private set; } = "";
    public string Broker { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Database = await (await SharedServers.PostgresAsync()).CreateDatabaseAsync("outbox");
        Broker = (await SharedServers.RabbitMqAsync()).ConnectionString;
        // Polling every 30 s: anything faster than that was delivered because the commit woke the dispatcher.
        Host = await MessagingHost.StartAsync(Database, Broker, Guid.NewGuid(), "outbox-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromSeconds(30));
    }

    public async Task DisposeAsync() => await Host.DisposeAsync();
}

/// <summary>
/// The tests on the shared broker use one host: a second host would consume the same published messages on its own
/// queues, against its own database.
/// </summary>
[CollectionDefinition(Name)]
public sealed class SharedBrokerCollection : ICollectionFixture<OutboxFixture>
{
    public const string Name = "one host on the shared broker";
}

[Collection(SharedBrokerCollection.Name)]
public sealed class OutboxTests(OutboxFixture fixture)
{
    private static readonly TimeSpan WellUnderThePollInterval = TimeSpan.FromSeconds(10);
    private MessagingHost Host => fixture.Host;

    [Fact]
    public async Task An_event_written_with_its_state_change_is_published_as_soon_as_the_transaction_commits()
    {
        var orderId = NewOrderId();
        await Host.WithDbAsync(async db =>
        {
            db.Orders.Add(new Order { Id = orderId, Customer = "María González" });
            db.Publish(new OrderPlaced(Host.RunId, orderId, orderId, 1), orderingKey: orderId);
            await db.SaveChangesAsync();
        });

        var published = await Eventually.ReturnsAsync(
            () => Task.FromResult(Host.OrdersOfThisRun().FirstOrDefault(o => o.OrderId == orderId)),
            "the OrderPlaced event on the broker", WellUnderThePollInterval);
        Assert.Equal(1, published.Number);
        Assert.True(await Host.WithDbAsync(db => db.Orders.AnyAsync(o => o.Id == orderId)));
        Assert.NotNull((await OutboxRowsMentioningAsync(orderId)).Single().DispatchedAt);
    }

    [Fact]
    public async Task A_rolled_back_transaction_leaves_neither_the_state_change_nor_its_event()
    {
        var rolledBack = NewOrderId();
        await Host.WithDbAsync(async db =>
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Orders.Add(new Order { Id = rolledBack, Customer = "Carlos López" });
            db.Publish(new OrderPlaced(Host.RunId, rolledBack, rolledBack, 1), orderingKey: rolledBack);
            await db.SaveChangesAsync();
            await transaction.RollbackAsync();
        });

        // A later committed event goes through the same dispatcher: once it arrives, the rolled-back one would have too.
        var marker = NewOrderId();
        await Host.WithDbAsync(async db =>
        {
            db.Publish(new OrderPlaced(Host.RunId, marker, marker, 1), orderingKey: marker);
            await db.SaveChangesAsync();
        });
        await Eventually.TrueAsync(() => Task.FromResult(Host.OrdersOfThisRun().Any(o => o.OrderId == marker)), "the marker event", WellUnderThePollInterval);

        Assert.DoesNotContain(Host.OrdersOfThisRun(), o => o.OrderId == rolledBack);
        Assert.False(await Host.WithDbAsync(db => db.Orders.AnyAsync(o => o.Id == rolledBack)));
        Assert.Empty(await OutboxRowsMentioningAsync(rolledBack));
    }

    [Fact]
    public async Task A_save_that_fails_publishes_nothing()
    {
        var existing = NewOrderId();
        await Host.WithDbAsync(async db =>
        {
            db.Orders.Add(new Order { Id = existing, Customer = "first" });
            await db.SaveChangesAsync();
        });

        var failedEvent = NewOrderId();
        await Assert.ThrowsAsync<DbUpdateException>(() => Host.WithDbAsync(async db =>
        {
            db.Orders.Add(new Order { Id = existing, Customer = "a duplicate key" });
            db.Publish(new OrderPlaced(Host.RunId, failedEvent, failedEvent, 1), orderingKey: failedEvent);
            await db.SaveChangesAsync();
        }));

        Assert.Empty(await OutboxRowsMentioningAsync(failedEvent));
    }

    [Fact]
    public async Task A_redelivered_message_changes_nothing_the_second_time()
    {
        var counterId = NewOrderId();
        await Host.WithDbAsync(async db =>
        {
            db.Counters.Add(new Counter { Id = counterId });
            await db.SaveChangesAsync();
        });

        var messageId = NewId.NextGuid();
        var consumed = new ConsumeCounter(messageId);
        var bus = Host.Services.GetRequiredService<IBus>();
        using var observer = bus.ConnectConsumeObserver(consumed);

        // The broker delivers the same message (same id) twice, as after a consumer crash before its ack.
        for (var delivery = 0; delivery < 2; delivery++)
        {
            await bus.Publish(new CountVisit(Host.RunId, counterId), context => context.MessageId = messageId);
        }

        await Eventually.TrueAsync(() => Task.FromResult(consumed.Count == 2), "both deliveries consumed");
        Assert.Equal(1, await Host.WithDbAsync(db => db.Counters.Where(c => c.Id == counterId).Select(c => c.Visits).SingleAsync()));
        Assert.Equal(1, await Host.WithDbAsync(db => db.InboxMessages.CountAsync(m => m.MessageId == messageId)));
    }

    [Fact]
    public async Task Two_dispatchers_publish_the_events_of_one_key_once_each_and_in_order()
    {
        await using var second = await MessagingHost.StartAsync(fixture.Database, fixture.Broker, Host.RunId,
            "outbox-second-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromSeconds(30));
        var prefix = NewOrderId();
        var keys = Enumerable.Range(0, 5).Select(k => $"{prefix}-key{k}").ToArray();
        const int perKey = 30;

        // Interleaved across keys, alternately from each instance, one transaction each: both dispatchers are busy.
        for (var number = 1; number <= perKey; number++)
        {
            foreach (var key in keys)
            {
                var writer = (number + Array.IndexOf(keys, key)) % 2 == 0 ? Host : second;
                await writer.WithDbAsync(async db =>
                {
                    db.Publish(new OrderPlaced(Host.RunId, $"{key}-{number}", key, number), orderingKey: key);
                    await db.SaveChangesAsync();
                });
            }
        }

        IReadOnlyList<OrderPlaced> Mine() => Host.OrdersOfThisRun().Where(o => o.Key.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        await Eventually.TrueAsync(() => Task.FromResult(Mine().Count >= keys.Length * perKey), "every event delivered", TimeSpan.FromSeconds(60));

        var received = Mine();
        Assert.Equal(keys.Length * perKey, received.Select(o => o.OrderId).Distinct().Count());
        Assert.Equal(keys.Length * perKey, received.Count);
        foreach (var key in keys)
        {
            Assert.Equal(Enumerable.Range(1, perKey), received.Where(o => o.Key == key).Select(o => o.Number));
        }
    }

    [Fact]
    public async Task A_message_that_can_never_be_published_is_parked_for_operators_and_does_not_block_others()
    {
        var key = NewOrderId();
        await Host.WithDbAsync(async db =>
        {
            db.OutboxMessages.Add(new OutboxMessage
            {
                MessageId = Guid.NewGuid(),
                MessageType = "SafeNotify.Crm.Contracts.NoSuchEvent, SafeNotify.Crm.Contracts",
                Body = $"{{\"key\":\"{key}\"}}",
                OrderingKey = key,
                CreatedAt = DateTimeOffset.UtcNow,
                NextAttemptAt = DateTimeOffset.UtcNow,
            });
            db.Publish(new OrderPlaced(Host.RunId, key, key, 2), orderingKey: key);
            await db.SaveChangesAsync();
        });

        await Eventually.TrueAsync(() => Task.FromResult(Host.OrdersOfThisRun().Any(o => o.OrderId == key)), "the next event of the same key", WellUnderThePollInterval);
        var parked = await Host.WithDbAsync(db => db.OutboxMessages.SingleAsync(m => m.OrderingKey == key && m.FailedAt != null));
        Assert.Contains("Unknown message type", parked.LastError);
    }

    [Fact]
    public async Task A_free_keys_event_goes_out_even_behind_more_due_events_waiting_for_their_key_than_a_pass_looks_at()
    {
        // A pass looks at a window of the earliest due rows (four batches): with batches of 2, eight rows.
        var database = await (await SharedServers.PostgresAsync()).CreateDatabaseAsync("outbox-window");
        await using var host = await MessagingHost.StartAsync(database, fixture.Broker, Guid.NewGuid(),
            "outbox-window-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromSeconds(1), batchSize: 2);
        var waiting = NewOrderId();
        var free = NewOrderId();
        await host.WithDbAsync(async db =>
        {
            // The key's first event is a timer due in an hour: its twenty later events, all due now, wait for it.
            db.Publish(new OrderPlaced(host.RunId, waiting + "-timer", waiting, 0), orderingKey: waiting, notBefore: DateTimeOffset.UtcNow.AddHours(1));
            for (var number = 1; number <= 20; number++)
            {
                db.Publish(new OrderPlaced(host.RunId, $"{waiting}-{number}", waiting, number), orderingKey: waiting);
            }

            db.Publish(new OrderPlaced(host.RunId, free, free, 1), orderingKey: free);
            await db.SaveChangesAsync();
        });

        await Eventually.TrueAsync(() => Task.FromResult(host.OrdersOfThisRun().Any(o => o.OrderId == free)), "the free key's event", TimeSpan.FromSeconds(20));
        Assert.DoesNotContain(host.OrdersOfThisRun(), o => o.Key == waiting);
    }

    [Fact]
    public async Task An_event_whose_transaction_commits_long_after_it_was_written_is_still_published()
    {
        // Passes look back only a couple of seconds (the dispatched rows before that are dead weight in the index);
        // the earliest pending row is measured again each poll interval (1 s here), and that is what finds this one.
        var database = await (await SharedServers.PostgresAsync()).CreateDatabaseAsync("outbox-late");
        await using var host = await MessagingHost.StartAsync(database, fixture.Broker, Guid.NewGuid(),
            "outbox-late-" + Guid.NewGuid().ToString("N")[..8], TimeSpan.FromSeconds(1));
        var early = NewOrderId();
        var late = NewOrderId();
        await host.WithDbAsync(async db =>
        {
            db.Publish(new OrderPlaced(host.RunId, early, early, 1), orderingKey: early);
            await db.SaveChangesAsync();
        });
        await Eventually.TrueAsync(() => Task.FromResult(host.OrdersOfThisRun().Any(o => o.OrderId == early)), "the first event", TimeSpan.FromSeconds(10));

        await host.WithDbAsync(async db =>
        {
            // Written a minute ago by a transaction that only commits now.
            db.Publish(new OrderPlaced(host.RunId, late, late, 1), orderingKey: late).NextAttemptAt = DateTimeOffset.UtcNow.AddMinutes(-1);
            await db.SaveChangesAsync();
        });

        await Eventually.TrueAsync(() => Task.FromResult(host.OrdersOfThisRun().Any(o => o.OrderId == late)), "the late-committed event", TimeSpan.FromSeconds(10));
    }

    private async Task<List<OutboxMessage>> OutboxRowsMentioningAsync(string text) =>
        (await Host.WithDbAsync(db => db.OutboxMessages.AsNoTracking().ToListAsync())).Where(m => m.Body.Contains(text, StringComparison.Ordinal)).ToList();

    private static string NewOrderId() => "ord-" + Guid.NewGuid().ToString("N")[..12];

    private sealed class ConsumeCounter(Guid messageId) : IConsumeObserver
    {
        private int _count;
        public int Count => Volatile.Read(ref _count);

        public Task PreConsume<T>(ConsumeContext<T> context) where T : class => Task.CompletedTask;

        public Task PostConsume<T>(ConsumeContext<T> context) where T : class
        {
            if (context.MessageId == messageId)
            {
                Interlocked.Increment(ref _count);
            }

            return Task.CompletedTask;
        }

        public Task ConsumeFault<T>(ConsumeContext<T> context, Exception exception) where T : class => Task.CompletedTask;
    }
}
