using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>
/// The Metrics service over a real database and broker. Tests play the other services: they publish their
/// events on the broker, wait until Metrics has handled them, and read the figures through the API.
/// </summary>
public sealed class MetricsService() : ServiceFactory<Program, SafeNotify.Crm.Metrics.Data.MetricsDbContext>("metrics")
{
    /// <summary>Publishes every message at once and waits until Metrics has handled them all.</summary>
    public async Task AllHandledAsync<T>(IEnumerable<T> messages) where T : class
    {
        var sent = messages.Select(m => (Message: m, Id: NewId.NextGuid())).ToList();
        await Task.WhenAll(sent.Select(s => Bus.Publish(s.Message, context => context.MessageId = s.Id)));
        await Task.WhenAll(sent.Select(s => Consumed.WaitAsync(s.Id, typeof(T).Name)));
    }

    /// <summary>The tenant's metrics rows for <paramref name="query"/> (e.g. "period=WEEKLY&amp;from=...").</summary>
    public async Task<JsonArray> RowsAsync(string tenantId, string query)
    {
        using var response = await ClientFor(tenantId).GetAsync($"/api/metrics?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["items"]!.AsArray();
    }

    public Task<JsonNode?> GlobalAsync() => OperatorClient().GetFromJsonAsync<JsonNode>("/api/admin/metrics");
}

[CollectionDefinition(Name)]
public sealed class MetricsCollection : ICollectionFixture<MetricsService>
{
    public const string Name = "metrics service";
}

/// <summary>The events other services publish about one tenant, at a given instant.</summary>
public sealed record TenantEvents(string TenantId)
{
    public static TenantEvents New() => new("tnt_" + Guid.NewGuid().ToString("N")[..12]);

    public TenantProvisioned Provisioned(string timezone, bool crmEnabled = true) =>
        new(TenantId, "user-" + TenantId, "Clínica", crmEnabled, "pro", 3, 2, timezone, DateTimeOffset.UtcNow);

    public InboundMessageRouted CustomerMessage(DateTimeOffset at) =>
        new(TenantId, "num_1", "+573011111111", "AC" + new string('1', 32), "in_" + Guid.NewGuid().ToString("N")[..12],
            "SM" + Guid.NewGuid().ToString("N"), "+573001234567", "+573001234567", "María González", "Hola", [], 1, at,
            ReplyPolicy.Agent, "agt_1", "default agent", false, true);

    public OutboundMessageSent Sent(MessageAuthor author, DateTimeOffset at) =>
        new("msg_" + Guid.NewGuid().ToString("N")[..12], TenantId, "conv_1", "SM" + Guid.NewGuid().ToString("N"), "queued", author, 1, at);

    public LeadCreated NewLead(DateTimeOffset at) => new(TenantId, "lead_" + Guid.NewGuid().ToString("N")[..12], "num_1", "whatsapp", at);

    public ConversationOpened Opened(DateTimeOffset at) =>
        new(TenantId, "conv_" + Guid.NewGuid().ToString("N")[..12], "lead_1", "num_1", "agt_1", at);

    public ConversationHandedOff HandedOff(DateTimeOffset at) => new(TenantId, "conv_1", null, "the agent asked for a human", at);

    public AgentReplyGenerated Reply(DateTimeOffset at, int promptTokens, int completionTokens, decimal cost) =>
        new(TenantId, "conv_1", "agt_1", 1, "Hola, ¿en qué te ayudo?", 1, "gpt-4o-mini", promptTokens, completionTokens, cost, 900, false, at);
}
