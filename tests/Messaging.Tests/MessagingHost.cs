using Microsoft.Extensions.Logging;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Messaging.Tests;

/// <summary>
/// A service-shaped host built exactly as the services build theirs (AddServiceDatabase +
/// AddServiceMessaging), over a real database and a real broker.
/// </summary>
public sealed class MessagingHost : IAsyncDisposable
{
    private readonly IHost _host;

    private MessagingHost(IHost host, Guid runId)
    {
        _host = host;
        RunId = runId;
    }

    public Guid RunId { get; }
    public IServiceProvider Services => _host.Services;
    public Received Received => _host.Services.GetRequiredService<Received>();

    public static async Task<MessagingHost> StartAsync(string databaseConnection, string brokerConnection, Guid runId,
        string endpointPrefix, TimeSpan? pollInterval = null, int? batchSize = null)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration["ConnectionStrings:shop-db"] = databaseConnection;
        builder.Configuration["ConnectionStrings:messaging"] = brokerConnection;
        builder.Configuration["Outbox:PollInterval"] = (pollInterval ?? TimeSpan.FromSeconds(1)).ToString();
        builder.Configuration["Outbox:PublishTimeout"] = "00:00:03";
        builder.Configuration["Outbox:MaxBackoff"] = "00:00:02";
        if (batchSize is { } size)
        {
            builder.Configuration["Outbox:BatchSize"] = size.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSingleton<Received>();
        builder.AddServiceDatabase<TestDbContext>("shop-db", "shop");
        builder.AddServiceMessaging<TestDbContext>(endpointPrefix, bus =>
        {
            bus.AddConsumer<OrderPlacedConsumer, OrderPlacedConsumerDefinition>();
            bus.AddConsumer<CountVisitConsumer>();
            bus.AddConsumer<VisitPairConsumer>();
            bus.AddConsumer<VisitPairAgainConsumer>();
        });

        var host = builder.Build();
        await using (var scope = host.Services.CreateAsyncScope())
        {
            // The test model has no migrations: create its tables directly (idempotent for a second host).
            var db = scope.ServiceProvider.GetRequiredService<TestDbContext>();
            try
            {
                await db.Database.EnsureCreatedAsync();
            }
            catch (Npgsql.PostgresException ex) when (ex.SqlState == Npgsql.PostgresErrorCodes.DuplicateSchema)
            {
            }
        }

        await host.StartAsync();
        await host.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        return new MessagingHost(host, runId);
    }

    public async Task<T> WithDbAsync<T>(Func<TestDbContext, Task<T>> work)
    {
        await using var scope = _host.Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<TestDbContext>());
    }

    public Task WithDbAsync(Func<TestDbContext, Task> work) => WithDbAsync<bool>(async db => { await work(db); return true; });

    public IReadOnlyList<OrderPlaced> OrdersOfThisRun() => Received.Orders.Select(o => o.Message).Where(o => o.RunId == RunId).ToList();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync();
        _host.Dispose();
    }
}
