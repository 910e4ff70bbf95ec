using System.Collections.Concurrent;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging.Tests;

/// <summary>An event the tests publish. <see cref="RunId"/> separates the test classes that share one broker.</summary>
public sealed record OrderPlaced(Guid RunId, string OrderId, string Key, int Number);

/// <summary>A command whose handling the tests count, to see a redelivery change nothing.</summary>
public sealed record CountVisit(Guid RunId, string CounterId);

/// <summary>Visits two counters, locking them in the order it names them. Two types, so two consumers run at once.</summary>
public sealed record VisitPair(Guid RunId, string First, string Second);

/// <inheritdoc cref="VisitPair"/>
public sealed record VisitPairAgain(Guid RunId, string First, string Second);

public sealed class Order
{
    public required string Id { get; init; }
    public required string Customer { get; init; }
}

public sealed class Counter
{
    public required string Id { get; init; }
    public int Visits { get; set; }
}

public sealed class TestDbContext(DbContextOptions<TestDbContext> options) : MessagingDbContext(options, "shop")
{
    public DbSet<Order> Orders => Set<Order>();
    public DbSet<Counter> Counters => Set<Counter>();
    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Order>().HasKey(o => o.Id);
        modelBuilder.Entity<Counter>().HasKey(c => c.Id);
    }
}

/// <summary>Everything the consumers saw, in the order they saw it.</summary>
public sealed class Received
{
    public ConcurrentQueue<(OrderPlaced Message, Guid? MessageId)> Orders { get; } = new();

    /// <summary>How many times Postgres broke a deadlock by failing a pair visit's lock.</summary>
    public int Deadlocks => _deadlocks;

    private int _deadlocks;

    public void DeadlockBroken() => Interlocked.Increment(ref _deadlocks);
}

public sealed class OrderPlacedConsumer(Received received) : IConsumer<OrderPlaced>
{
    public Task Consume(ConsumeContext<OrderPlaced> context)
    {
        received.Orders.Enqueue((context.Message, context.MessageId));
        return Task.CompletedTask;
    }
}

/// <summary>One consumer at a time, one message at a time: arrival order on the queue is observable.</summary>
public sealed class OrderPlacedConsumerDefinition : ConsumerDefinition<OrderPlacedConsumer>
{
    protected override void ConfigureConsumer(IReceiveEndpointConfigurator endpoint, IConsumerConfigurator<OrderPlacedConsumer> consumer, IRegistrationContext context)
    {
        endpoint.PrefetchCount = 1;
        endpoint.ConcurrentMessageLimit = 1;
    }
}

public sealed class CountVisitConsumer(TestDbContext db) : TransactionalConsumer<CountVisit, TestDbContext>(db)
{
    protected override async Task HandleAsync(CountVisit message, ConsumeContext<CountVisit> context, CancellationToken cancellationToken)
    {
        var counter = await Db.Counters.FirstAsync(c => c.Id == message.CounterId, cancellationToken);
        counter.Visits++;
    }
}

/// <summary>Locks two counters one after the other, in the message's order, and visits both.</summary>
public abstract class PairVisitConsumer<TMessage>(TestDbContext db, Received received) : TransactionalConsumer<TMessage, TestDbContext>(db)
    where TMessage : class
{
    protected abstract (string First, string Second) Pair(TMessage message);

    protected override IEnumerable<string> LockedRowKeys(TMessage message) => ["counter:" + Pair(message).First, "counter:" + Pair(message).Second];

    protected override async Task HandleAsync(TMessage message, ConsumeContext<TMessage> context, CancellationToken cancellationToken)
    {
        var (first, second) = Pair(message);
        foreach (var id in new[] { first, second })
        {
            // The table and column names come from the EF model; the id is a parameter.
            var sql = $"SELECT * FROM {Db.TableOf<Counter>()} WHERE {Db.ColumnOf<Counter>(c => c.Id)} = {{0}} FOR UPDATE";
            try
            {
                var counter = await Db.Counters.FromSqlRaw(sql, id).SingleAsync(cancellationToken);
                counter.Visits++;
                await Task.Delay(TimeSpan.FromMilliseconds(5), cancellationToken); // time for the other consumer to take its first lock
            }
            catch (Exception ex) when ((ex as Npgsql.PostgresException ?? ex.InnerException as Npgsql.PostgresException)?.SqlState == Npgsql.PostgresErrorCodes.DeadlockDetected)
            {
                received.DeadlockBroken(); // EF reports it as a transient failure around Npgsql's exception
                throw;
            }
        }
    }
}

public sealed class VisitPairConsumer(TestDbContext db, Received received) : PairVisitConsumer<VisitPair>(db, received)
{
    protected override (string First, string Second) Pair(VisitPair message) => (message.First, message.Second);
}

public sealed class VisitPairAgainConsumer(TestDbContext db, Received received) : PairVisitConsumer<VisitPairAgain>(db, received)
{
    protected override (string First, string Second) Pair(VisitPairAgain message) => (message.First, message.Second);
}
