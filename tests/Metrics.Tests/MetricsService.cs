using System.Net;
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

    /// <summary>The rows of one of the tenant's numbers or agents ("numbers/num_1", "agents/agt_1").</summary>
    public async Task<JsonArray> RowsAsync(string tenantId, string dimension, string query)
    {
        using var response = await ClientFor(tenantId).GetAsync($"/api/metrics/{dimension}?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{dimension}?{query}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["items"]!.AsArray();
    }

    /// <summary>The status and body of one dimension's figures, whatever the status (for a number or agent that is not the tenant's: 404).</summary>
    public async Task<(HttpStatusCode Status, string Body)> DimensionAsync(string tenantId, string dimension, string query)
    {
        using var response = await ClientFor(tenantId).GetAsync($"/api/metrics/{dimension}?{query}");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public async Task RebuildAsync(string? tenantId)
    {
        using var response = await OperatorClient().PostAsync(tenantId is null ? "/api/admin/metrics/rebuild" : $"/api/admin/metrics/rebuild?tenantId={tenantId}", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
    }

    public Task<JsonNode?> GlobalAsync() => OperatorClient().GetFromJsonAsync<JsonNode>("/api/admin/metrics");

    /// <summary>The operators' figures for <paramref name="query"/> (e.g. "period=WEEKLY&amp;from=...").</summary>
    public async Task<JsonNode> GlobalAsync(string query)
    {
        using var response = await OperatorClient().GetAsync($"/api/admin/metrics?{query}");
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{query}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }
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

    public static string Id(string prefix) => prefix + "_" + Guid.NewGuid().ToString("N")[..12];

    public TenantProvisioned Provisioned(string timezone, bool crmEnabled = true) =>
        new(TenantId, "user-" + TenantId, "Clínica", crmEnabled, "pro", 3, 2, timezone, DateTimeOffset.UtcNow);

    public TenantPlanChanged PlanChanged(bool crmEnabled, string timezone, DateTimeOffset at) => new(TenantId, crmEnabled, "pro", 3, 2, timezone, at);

    public AgentChanged Agent(string agentId, long revision, bool deleted = false) =>
        new(TenantId, agentId, "DrBot", !deleted, false, ["cita"], null, null, deleted, revision, DateTimeOffset.UtcNow);

    public InboundMessageRouted CustomerMessage(DateTimeOffset at, string numberId = "num_1", string agentId = "agt_1", string? inboundId = null) =>
        new(TenantId, numberId, "+573011111111", "AC" + new string('1', 32), inboundId ?? Id("in"),
            "SM" + Guid.NewGuid().ToString("N"), "+573001234567", "+573001234567", "María González", "Hola", [], 1, at,
            ReplyPolicy.Agent, agentId, "default agent", false, true);

    public OutboundMessageSent Sent(MessageAuthor author, DateTimeOffset at, string conversationId = "conv_1", string? outboundId = null) =>
        new(outboundId ?? Id("msg"), TenantId, conversationId, "SM" + Guid.NewGuid().ToString("N"), "queued", author, 1, at);

    /// <summary>Routing created, changed or removed one of the tenant's numbers.</summary>
    public NumberChanged Number(string numberId, DateTimeOffset at, bool deleted = false) =>
        new(TenantId, numberId, "+57301" + Random.Shared.Next(1000000, 9999999), !deleted, deleted, at);

    /// <summary>A message to one of the tenant's numbers that it did not answer (over its plan limit, CRM off...).</summary>
    public InboundMessageUnrouted Unrouted(DateTimeOffset at, string reason = "over_plan_limit", string? inboundId = null) =>
        new(inboundId ?? Id("in"), "SM" + Guid.NewGuid().ToString("N"), "AC" + new string('1', 32), "+573011111111", "+573001234567", reason, TenantId, at);

    /// <summary>A message to a number that is nobody's.</summary>
    public static InboundMessageUnrouted UnroutedToNobody(DateTimeOffset at, string? inboundId = null) =>
        new(inboundId ?? Id("in"), "SM" + Guid.NewGuid().ToString("N"), "AC" + new string('2', 32), "+15550000000", "+573001234567", "unknown_number", null, at);

    public LeadCreated NewLead(DateTimeOffset at, string? leadId = null, string numberId = "num_1") => new(TenantId, leadId ?? Id("lead"), numberId, "whatsapp", at);

    public LeadStatusChanged LeadStatus(string leadId, string from, string to, DateTimeOffset at) => new(TenantId, leadId, from, to, at);

    public ConversationOpened Opened(DateTimeOffset at, string? conversationId = null, string numberId = "num_1", string? agentId = "agt_1", string leadId = "lead_1") =>
        new(TenantId, conversationId ?? Id("conv"), leadId, numberId, agentId, at);

    public ConversationClosed Closed(string conversationId, DateTimeOffset at) => new(TenantId, conversationId, "idle", at);

    public ConversationHandedOff HandedOff(DateTimeOffset at, string conversationId = "conv_1") => new(TenantId, conversationId, "ana@clinica", "the agent asked for a human", at);

    public ConversationOutcomeRecorded Outcome(string conversationId, DateTimeOffset at, int? satisfaction, decimal? conversionValue, string? outcome = "sale") =>
        new(TenantId, conversationId, outcome, satisfaction, conversionValue, at);

    public AgentReplyGenerated Reply(DateTimeOffset at, int promptTokens, int completionTokens, decimal cost, string conversationId = "conv_1", string agentId = "agt_1") =>
        new(TenantId, conversationId, agentId, 1, "Hola, ¿en qué te ayudo?", 1, "gpt-4o-mini", promptTokens, completionTokens, cost, 900, false, at);
}
