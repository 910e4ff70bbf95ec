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
public class AgentService() : ServiceFactory<Program, AgentDbContext>("agent")
{
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

}

[CollectionDefinition(Name)]
public sealed class AgentCollection : ICollectionFixture<AgentService>
{
    public const string Name = "agent service";
}
