using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Messaging.Tests;

/// <summary>Its own broker, which the test stops and starts again: no other test shares it.</summary>
public sealed class BrokerOutageTests : IAsyncLifetime
{
    private readonly RabbitMqServer _broker = new();
    private MessagingHost _host = null!;

    public async Task InitializeAsync()
    {
        await _broker.StartAsync();
        var database = await (await SharedServers.PostgresAsync()).CreateDatabaseAsync("outage");
        _host = await MessagingHost.StartAsync(database, _broker.ConnectionString, Guid.NewGuid(), "outage");
    }

    public async Task DisposeAsync()
    {
        await _host.DisposeAsync();
        await _broker.DisposeAsync();
    }

    [Fact]
    public async Task Events_stored_while_the_broker_is_down_are_published_once_it_is_back()
    {
        await _broker.StopAsync();

        var keys = new[] { "clinic", "restaurant", "gym" };
        const int perKey = 5;
        for (var number = 1; number <= perKey; number++)
        {
            foreach (var key in keys)
            {
                // The business keeps working: state and events commit while the broker is away.
                await _host.WithDbAsync(async db =>
                {
                    db.Orders.Add(new Order { Id = $"{key}-{number}", Customer = key });
                    db.Publish(new OrderPlaced(_host.RunId, $"{key}-{number}", key, number), orderingKey: key);
                    await db.SaveChangesAsync();
                });
            }
        }

        await Task.Delay(TimeSpan.FromSeconds(2));
        var waiting = await _host.WithDbAsync(db => db.OutboxMessages.Where(m => m.DispatchedAt == null).ToListAsync());
        Assert.Equal(keys.Length * perKey, waiting.Count);
        Assert.All(waiting, m => Assert.Null(m.FailedAt));
        Assert.Empty(_host.OrdersOfThisRun());

        await _broker.StartAsync();

        await Eventually.TrueAsync(() => Task.FromResult(_host.OrdersOfThisRun().Count >= keys.Length * perKey),
            "every stored event published after the broker came back", TimeSpan.FromSeconds(90));
        var received = _host.OrdersOfThisRun();
        Assert.Equal(keys.Length * perKey, received.Select(o => o.OrderId).Distinct().Count());
        foreach (var key in keys)
        {
            Assert.Equal(Enumerable.Range(1, perKey), received.Where(o => o.Key == key).Select(o => o.Number));
        }

        Assert.False(await _host.WithDbAsync(db => db.OutboxMessages.AnyAsync(m => m.DispatchedAt == null)));
    }
}
