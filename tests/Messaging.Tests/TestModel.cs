using System.Collections.Concurrent;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Messaging.Tests;

/// <summary>An event the tests publish. <see cref="RunId"/> separates the test classes that share one broker.</summary>
public sealed record OrderPlaced(Guid RunId, string OrderId, string Key, int Number);

/// <summary>A command whose handling the tests count, to see a redelivery change nothing.</summary>
public sealed record CountVisit(Guid RunId, string CounterId);

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
