using Xunit;
using System.Net.Http.Headers;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// One service, hosted in the test process exactly as its Program builds it, over a fresh database on the
/// shared PostgreSQL server and the shared RabbitMQ node. Share one per test assembly (a collection
/// fixture): the service's queues exist once per broker.
/// </summary>
public class ServiceFactory<TProgram>(string service) : WebApplicationFactory<TProgram>, IAsyncLifetime
    where TProgram : class
{
    private string _database = "";
    private string _broker = "";

    public IBus Bus => Services.GetRequiredService<IBus>();

    public virtual async Task InitializeAsync()
    {
        _database = await (await SharedServers.PostgresAsync()).CreateDatabaseAsync(service);
        _broker = (await SharedServers.RabbitMqAsync()).ConnectionString;
        _ = Server; // start the host: migrations run, the bus connects
        await Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting($"ConnectionStrings:{service}-db", _database);
        builder.UseSetting("ConnectionStrings:messaging", _broker);
        ConfigureService(builder);
    }

    /// <summary>Settings or services a test assembly adds (a model endpoint, a Twilio stand-in).</summary>
    protected virtual void ConfigureService(IWebHostBuilder builder)
    {
    }

    /// <summary>A client that calls the service as the gateway does on behalf of <paramref name="tenantId"/>.</summary>
    public HttpClient ClientFor(string tenantId)
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(CallerIdentity.RoleHeader, CallerIdentity.TenantRole);
        client.DefaultRequestHeaders.Add(CallerIdentity.TenantHeader, tenantId);
        return client;
    }

    /// <summary>A client that calls the service as the gateway does for an operator.</summary>
    public HttpClient OperatorClient()
    {
        var client = CreateClient();
        client.DefaultRequestHeaders.Add(CallerIdentity.RoleHeader, CallerIdentity.OperatorRole);
        return client;
    }

    /// <summary>Starts recording every <typeparamref name="T"/> published on the broker from now on.</summary>
    public Task<PublishedMessages<T>> WatchAsync<T>() where T : class => PublishedMessages<T>.ConnectAsync(Bus);

    public static AuthenticationHeaderValue Bearer(string key) => new("Bearer", key);
}
