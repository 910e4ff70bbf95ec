using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>The Routing service over a real database and broker, with a known operator key.</summary>
public sealed class RoutingService() : ServiceFactory<Program, RoutingDbContext>("routing")
{
    public const string OperatorKey = "sn_op_routing_tests";

    protected override void ConfigureService(IWebHostBuilder builder) => builder.UseSetting("Crm:OperatorApiKey", OperatorKey);

    /// <summary>Creates a tenant as an operator would; returns its id and first key.</summary>
    public async Task<(string Id, string ApiKey)> CreateTenantAsync(string plan = "pro", string? userId = null)
    {
        using var client = OperatorClient();
        using var response = await client.PostAsJsonAsync("/api/admin/tenants", new
        {
            safeNotifyUserId = userId ?? "user-" + Guid.NewGuid().ToString("N")[..10],
            name = "Clínica Dental",
            crmPlan = plan,
        });
        var body = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        return (body["id"]!.GetValue<string>(), body["apiKey"]!.GetValue<string>());
    }

    /// <summary>Tells Routing about an agent, as the Agent service does, and waits until it knows it.</summary>
    public async Task<string> AddAgentAsync(string tenantId, string name, string[] keywords, bool isDefault = false, WeeklyHours? activeHours = null)
    {
        var agentId = "agt_" + Guid.NewGuid().ToString("N")[..12];
        await Bus.Publish(new AgentChanged(tenantId, agentId, name, true, isDefault, keywords, activeHours, null, false, 1, DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(() => WithDbAsync(db => db.Agents.AnyAsync(a => a.AgentId == agentId)), $"Routing to know agent {name}");
        return agentId;
    }

}

[CollectionDefinition(Name)]
public sealed class RoutingCollection : ICollectionFixture<RoutingService>
{
    public const string Name = "routing service";
}
