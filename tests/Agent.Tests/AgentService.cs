using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>
/// The Agent service over a real database and broker, with the default model provider (Offline). Tests play
/// Routing and Lead: they publish those services' events on the broker and observe what Agent publishes,
/// stores and answers.
/// </summary>
public class AgentService() : ServiceFactory<Program>("agent")
{
    private static readonly JsonSerializerOptions OutboxJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    private ConsumedMessages? _consumed;

    public ConsumedMessages Consumed => _consumed ?? throw new InvalidOperationException("The service has not started.");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        _consumed = ConsumedMessages.Observe(Bus);
    }

    public override async ValueTask DisposeAsync()
    {
        _consumed?.Dispose();
        await base.DisposeAsync();
    }

    /// <summary>Publishes <paramref name="message"/> as its owner would and waits until Agent has handled it.</summary>
    public async Task<Guid> HandledAsync<T>(T message, Guid? messageId = null) where T : class
    {
        var id = messageId ?? NewId.NextGuid();
        await Bus.Publish(message, context => context.MessageId = id);
        await Consumed.WaitForAsync(id);
        return id;
    }

    /// <summary>Routing provisions a tenant on <paramref name="plan"/>; returns its id once Agent knows it.</summary>
    public async Task<string> ProvisionTenantAsync(string plan = "pro", int? maxAgents = 3, DateTimeOffset? at = null)
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        await HandledAsync(new TenantProvisioned(tenantId, "user-" + Guid.NewGuid().ToString("N")[..8], "Clínica Dental Sonrisas",
            true, plan, maxAgents, plan == "pro" ? 2 : 1, "America/Bogota", at ?? DateTimeOffset.UtcNow));
        return tenantId;
    }

    /// <summary>Creates an agent through the API as the tenant; returns the created agent's JSON.</summary>
    public async Task<JsonNode> CreateAgentAsync(string tenantId, JsonObject body)
    {
        using var client = ClientFor(tenantId);
        using var response = await client.PostAsJsonAsync("/api/agents", body);
        var created = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, created.ToJsonString());
        return created;
    }

    /// <summary>
    /// Every <typeparamref name="T"/> Agent has committed for publishing (its outbox, written in the same transaction
    /// as the change): exact counts, with no race against the broker. What reached the wire is checked with WatchAsync.
    /// </summary>
    public async Task<IReadOnlyList<T>> PublishedAsync<T>(Func<T, bool> match) where T : class
    {
        var type = $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}";
        var bodies = await WithDbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == type)
            .OrderBy(m => m.Sequence).Select(m => m.Body).ToListAsync());
        return bodies.Select(b => JsonSerializer.Deserialize<T>(b, OutboxJson)!).Where(match).ToList();
    }

    public async Task<T> WithDbAsync<T>(Func<AgentDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<AgentDbContext>());
    }
}

[CollectionDefinition(Name)]
public sealed class AgentCollection : ICollectionFixture<AgentService>
{
    public const string Name = "agent service";
}
