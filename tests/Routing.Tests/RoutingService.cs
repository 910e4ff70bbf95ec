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

    /// <summary>The service's clock: the system's, until a test fixes it (tests of one collection run one at a time).</summary>
    public SettableClock Clock { get; } = new();

    protected override void ConfigureService(IWebHostBuilder builder)
    {
        builder.UseSetting("Crm:OperatorApiKey", OperatorKey);
        builder.ConfigureServices(services => services.AddSingleton<TimeProvider>(Clock));
    }

    /// <summary>Creates a number for a tenant; returns its id and phone.</summary>
    public async Task<(string Id, string Phone)> CreateNumberAsync(string tenantId, object? fields = null)
    {
        var body = System.Text.Json.JsonSerializer.SerializeToNode(fields ?? new { }, new System.Text.Json.JsonSerializerOptions(System.Text.Json.JsonSerializerDefaults.Web))!.AsObject();
        var phone = body["phoneNumber"]?.GetValue<string>() ?? NewPhone();
        body["phoneNumber"] = phone;
        body["displayName"] ??= "Línea " + phone[^4..];
        using var response = await ClientFor(tenantId).PostAsJsonAsync("/api/numbers", body);
        var created = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.True(response.IsSuccessStatusCode, created.ToJsonString());
        return (created["id"]!.GetValue<string>(), phone);
    }

    public static string NewPhone() => "+5730" + Random.Shared.Next(10_000_000, 99_999_999);

    /// <summary>A message as Ingress announces it.</summary>
    public static WhatsAppMessageReceived Received(string to, string text, string customer = "+573111111111") => new(
        "in_" + Guid.NewGuid().ToString("N")[..12], "SM" + Guid.NewGuid().ToString("N"), "AC" + new string('1', 32), to,
        customer, customer, "María González", text, [], 1, DateTimeOffset.UtcNow);

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

/// <summary>A clock a test can stop at a chosen instant (and give back with <see cref="Reset"/>).</summary>
public sealed class SettableClock : TimeProvider
{
    private DateTimeOffset? _fixed;

    public void Set(DateTimeOffset instant) => _fixed = instant;

    public void Reset() => _fixed = null;

    public override DateTimeOffset GetUtcNow() => _fixed?.ToUniversalTime() ?? base.GetUtcNow();
}

[CollectionDefinition(Name)]
public sealed class RoutingCollection : ICollectionFixture<RoutingService>
{
    public const string Name = "routing service";
}
