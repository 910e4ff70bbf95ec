using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;
using Xunit;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// One service, hosted in the test process exactly as its Program builds it, over a fresh database on the
/// shared PostgreSQL server and the shared RabbitMQ node. Share one per test assembly (a collection
/// fixture): the service's queues exist once per broker. Tests play the other services: they publish
/// those services' events and observe what this one stores, publishes and answers.
/// </summary>
public class ServiceFactory<TProgram, TDbContext>(string service) : WebApplicationFactory<TProgram>, IAsyncLifetime
    where TProgram : class
    where TDbContext : DbContext, IMessagingDbContext
{
    private static readonly JsonSerializerOptions OutboxJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };
    private ConsumedMessages? _consumed;

    /// <summary>The broker this service uses; a subclass may give it a private one.</summary>
    protected string Broker { get; set; } = "";

    private string _database = "";

    /// <summary>The gateway's and the console's signing keys, as the AppHost makes them; the service gets their public halves.</summary>
    public static readonly (string SigningKey, string PublicKey) GatewayKey = IdentityTokens.NewKeyPair();

    public static readonly (string SigningKey, string PublicKey) ConsoleKey = IdentityTokens.NewKeyPair();

    /// <summary>Signs as the gateway does (bearer keys) and as the console does (staff members).</summary>
    public static IdentitySigner GatewaySigner(TimeProvider? time = null) =>
        new(IdentityTokens.GatewayIssuer, GatewayKey.SigningKey, TimeSpan.FromSeconds(60), time ?? TimeProvider.System);

    public static IdentitySigner ConsoleSigner(TimeProvider? time = null) =>
        new(IdentityTokens.ConsoleIssuer, ConsoleKey.SigningKey, TimeSpan.FromSeconds(60), time ?? TimeProvider.System);

    private static readonly IdentitySigner Gateway = GatewaySigner();
    private static readonly IdentitySigner Console = ConsoleSigner();

    public IBus Bus => Services.GetRequiredService<IBus>();

    /// <summary>What the service's own consumers have finished handling.</summary>
    public ConsumedMessages Consumed => _consumed ?? throw new InvalidOperationException("The service has not started.");

    public virtual async Task InitializeAsync()
    {
        _database = await (await SharedServers.PostgresAsync()).CreateServiceDatabaseAsync(service);
        if (Broker.Length == 0)
        {
            Broker = (await SharedServers.RabbitMqAsync()).ConnectionString;
        }

        _ = Server; // start the host: migrations run, the bus connects
        await Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, TimeSpan.FromSeconds(30));
        _consumed = ConsumedMessages.Observe(Bus, service);
    }

    Task IAsyncLifetime.DisposeAsync() => DisposeAsync().AsTask();

    public override async ValueTask DisposeAsync()
    {
        _consumed?.Dispose();
        await base.DisposeAsync();
        GC.SuppressFinalize(this);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting($"ConnectionStrings:{service}-db", _database);
        builder.UseSetting("ConnectionStrings:messaging", Broker);
        builder.UseSetting("Crm:Identity:GatewayPublicKey", GatewayKey.PublicKey);
        builder.UseSetting("Crm:Identity:ConsolePublicKey", ConsoleKey.PublicKey);
        ConfigureService(builder);
    }

    /// <summary>Settings or services a test assembly adds (a model endpoint, a Twilio stand-in).</summary>
    protected virtual void ConfigureService(IWebHostBuilder builder)
    {
    }

    /// <summary>Publishes <paramref name="message"/> as its owner would, and waits until this service has handled it.</summary>
    public async Task<Guid> HandledAsync<T>(T message, Guid? messageId = null) where T : class
    {
        var id = messageId ?? NewId.NextGuid();
        await Bus.Publish(message, context => context.MessageId = id);
        await Consumed.WaitAsync(id, typeof(T).Name);
        return id;
    }

    /// <summary>
    /// Every <typeparamref name="T"/> the service committed for publishing (its outbox, written in the same
    /// transaction as the change): exact counts, with no race against the broker.
    /// </summary>
    public async Task<IReadOnlyList<T>> PublishedAsync<T>(Func<T, bool> match) where T : class
    {
        var type = $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}";
        var bodies = await WithDbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == type)
            .OrderBy(m => m.Sequence).Select(m => m.Body).ToListAsync());
        return bodies.Select(b => JsonSerializer.Deserialize<T>(b, OutboxJson)!).Where(match).ToList();
    }

    /// <summary>
    /// Runs <paramref name="work"/> with the service's own DbContext, in a scope of its own, seeing every
    /// tenant's rows (tests observe and arrange as an operator would; the service's code never does this
    /// without saying so with <see cref="TenantIsolation.AcrossTenantsAsync{T}"/>).
    /// </summary>
    public async Task<T> WithDbAsync<T>(Func<TDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
        return db is ServiceDbContext serviceDb
            ? await serviceDb.AcrossTenantsAsync(() => work(db))
            : await work(db);
    }

    /// <summary>Runs <paramref name="work"/> with the service's own DbContext as the service does for <paramref name="tenantId"/>.</summary>
    public async Task<T> WithTenantDbAsync<T>(string tenantId, Func<TDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<TDbContext>();
        await ((ServiceDbContext)(object)db).ForTenant(tenantId);
        return await work(db);
    }

    /// <summary>A client that calls the service as the gateway does for a key of <paramref name="tenantId"/> (an admin).</summary>
    public HttpClient ClientFor(string tenantId) => ClientAs(CallerIdentity.ApiKey(tenantId, keyId: null));

    /// <summary>A client that calls the service as the console does for a staff member of <paramref name="tenantId"/>.</summary>
    public HttpClient MemberClient(string tenantId, TenantRole role, string staffId = "staff_test", string staffName = "Laura Ríos") =>
        ClientAs(CallerIdentity.Member(tenantId, role, staffId, staffName));

    /// <summary>A client that calls the service as the gateway does for an operator.</summary>
    public HttpClient OperatorClient() => ClientAs(new CallerIdentity(null, CallerIdentity.OperatorRole));

    /// <summary>A client that calls the service as the gateway itself does (its internal calls).</summary>
    public HttpClient GatewayClient() => ClientAs(new CallerIdentity(null, CallerIdentity.GatewayRole));

    /// <summary>
    /// A client whose every request carries a fresh identity for <paramref name="caller"/>, signed as the console signs a
    /// staff member's and the gateway everyone else's.
    /// </summary>
    public HttpClient ClientAs(CallerIdentity caller) =>
        CreateDefaultClient(new SignedIdentityHandler(caller.StaffId is null ? Gateway : Console, caller));

    private sealed class SignedIdentityHandler(IdentitySigner tokens, CallerIdentity caller) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Headers.Remove(CallerIdentity.Header);
            request.Headers.Add(CallerIdentity.Header, tokens.Create(caller));
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>Starts recording every <typeparamref name="T"/> published on the broker from now on.</summary>
    public Task<PublishedMessages<T>> WatchAsync<T>() where T : class => PublishedMessages<T>.ConnectAsync(Bus);

    public static AuthenticationHeaderValue Bearer(string key) => new("Bearer", key);
}
