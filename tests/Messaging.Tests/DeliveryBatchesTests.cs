using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.Messaging.Tests;

/// <summary>The group commit on its own, without a broker: who leads, who waits, and the service's bound on units of work.</summary>
public sealed class DeliveryBatchesTests
{
    private const int Consumers = 4;
    private const int DeliveriesPerConsumer = 60;

    [Fact]
    public async Task A_service_bounded_to_one_unit_of_work_applies_every_delivery_once_one_batch_at_a_time()
    {
        var run = await RunAsync(concurrentUnitsOfWork: 1);

        Assert.Equal(1, run.MostAtOnce);
        Assert.Equal(Consumers * DeliveriesPerConsumer, run.Applied.Count);
        Assert.Equal(run.Applied.Count, run.Applied.Distinct().Count());
        Assert.True(run.LargestBatch > 1, "a backlog waiting for its turn drains in larger batches");
    }

    [Fact]
    public async Task Without_a_bound_each_consumer_runs_its_own_unit_of_work()
    {
        var run = await RunAsync(concurrentUnitsOfWork: null);

        Assert.True(run.MostAtOnce > 1, $"at most {run.MostAtOnce} unit(s) of work ran at once");
        Assert.True(run.MostAtOnce <= Consumers, $"{run.MostAtOnce} units of work ran at once for {Consumers} consumers");
        Assert.Equal(Consumers * DeliveriesPerConsumer, run.Applied.Distinct().Count());
    }

    private static async Task<Run> RunAsync(int? concurrentUnitsOfWork)
    {
        using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var batches = new DeliveryBatches(services.GetRequiredService<IMeterFactory>(),
            Options.Create(new ConsumerOptions { ConcurrentUnitsOfWork = concurrentUnitsOfWork }));
        var run = new Run();
        var consumerTypes = new[] { typeof(int), typeof(string), typeof(Uri), typeof(Guid) };

        async Task ApplyAsync(IReadOnlyList<Delivery> batch)
        {
            var atOnce = Interlocked.Increment(ref run.Running);
            lock (run)
            {
                run.MostAtOnce = Math.Max(run.MostAtOnce, atOnce);
                run.LargestBatch = Math.Max(run.LargestBatch, batch.Count);
                run.Applied.AddRange(batch.Select(d => d.Name));
            }

            await Task.Delay(5); // a unit of work's round trips to the database
            Interlocked.Decrement(ref run.Running);
        }

        await Task.WhenAll(consumerTypes.SelectMany(type => Enumerable.Range(0, DeliveriesPerConsumer).Select(i => Task.Run(() =>
            batches.RunAsync(type, new Delivery($"{type.Name}-{i}"), ApplyAsync)))));
        return run;
    }

    private sealed class Run
    {
        public int Running;
        public int MostAtOnce;
        public int LargestBatch;
        public List<string> Applied { get; } = [];
    }

    private sealed class Delivery(string name) : BatchedDelivery
    {
        public string Name { get; } = name;
    }
}
