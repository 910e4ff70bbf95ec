using System.Net;
using System.Text.Json.Nodes;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>The audit trail and key rotation, through the gateway as operators and tenants use them.</summary>
[Collection(SystemCollection.Name)]
public sealed class AuditTrailTests(SystemFixture system)
{
    [Fact]
    public async Task Plan_change_key_rotation_agent_change_and_handoff_are_read_back_from_the_audit_trail_with_who_made_them()
    {
        var tenant = await system.CreateTenantAsync("Óptica Visión Clara", agentName: "VisionBot");

        // An operator changes the plan and rotates the tenant's key.
        await system.CallAsync(HttpMethod.Patch, $"/api/admin/tenants/{tenant.Id}", SystemFixture.OperatorKey, new { crmPlan = "enterprise" });
        var keys = await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey);
        var firstKey = Assert.Single(keys["items"]!.AsArray())!;
        var firstKeyId = firstKey["id"]!.GetValue<string>();
        Assert.Null(firstKey["apiKey"]);                               // never the secret
        Assert.NotNull(firstKey["lastUsedAt"]);                        // the agent and number were created with it
        var rotated = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey,
            new { replacesKeyId = firstKeyId }, expected: 201);
        var newKey = rotated["apiKey"]!.GetValue<string>();
        var newKeyId = rotated["id"]!.GetValue<string>();
        Assert.True(rotated["replaced"]![0]!["expiresAt"]!.GetValue<DateTimeOffset>() > DateTimeOffset.UtcNow.AddHours(23));

        // In the grace period the old key still works; the tenant moves to the new one.
        await system.CallAsync(HttpMethod.Get, "/api/tenant", tenant.ApiKey);
        await system.CallAsync(HttpMethod.Patch, $"/api/agents/{tenant.AgentId}", newKey, new { triggerKeywords = new[] { "gafas", "lentes" } });

        // A customer writes, and an employee takes the conversation over.
        var customer = "+57315" + Random.Shared.Next(1_000_000, 9_999_999);
        var (_, status) = await system.SendAsCustomerAsync(customer, tenant.Phone, "Hola, ¿precio de unas gafas?");
        Assert.Equal(200, status);
        var conversationId = await Eventually.ReturnsAsync(async () =>
        {
            var list = await system.CallAsync(HttpMethod.Get, "/api/conversations", newKey);
            return list["items"]!.AsArray().FirstOrDefault(c => c!["customerId"]!.GetValue<string>() == customer)?["id"]!.GetValue<string>();
        }, "the customer's conversation");
        await system.CallAsync(HttpMethod.Post, $"/api/conversations/{conversationId}/handoff", newKey,
            new { assignedToUser = "andrea@optica.co", reason = "quiere descuento" });

        // Every change is in the trail, with who made it, newest first.
        var expected = new[] { "tenant.plan_changed", "api_key.rotated", "agent.updated", "conversation.handed_off" };
        var items = await Eventually.ReturnsAsync(async () =>
        {
            var page = await system.CallAsync(HttpMethod.Get, $"/api/admin/audit?tenantId={tenant.Id}&pageSize=200", SystemFixture.OperatorKey);
            var found = page["items"]!.AsArray().Select(i => i!).ToList();
            return expected.All(action => found.Any(i => i["action"]!.GetValue<string>() == action))
                && found.Any(i => i["action"]!.GetValue<string>() == "conversation.handed_off" && Actor(i, "role") == "admin") ? found : null;
        }, "the four changes in the audit trail", TimeSpan.FromSeconds(30));

        JsonNode Entry(string action) => items.Single(i => i["action"]!.GetValue<string>() == action);
        var plan = Entry("tenant.plan_changed");
        Assert.Equal(("operator", "routing", tenant.Id), (Actor(plan, "role"), plan["service"]!.GetValue<string>(), plan["targetId"]!.GetValue<string>()));
        Assert.Contains("enterprise", plan["detail"]!.GetValue<string>());
        var rotation = Entry("api_key.rotated");
        Assert.Equal(("operator", firstKeyId), (Actor(rotation, "role"), rotation["targetId"]!.GetValue<string>()));
        var agentChange = Entry("agent.updated");
        Assert.Equal(("admin", tenant.Id, newKeyId, tenant.AgentId),
            (Actor(agentChange, "role"), Actor(agentChange, "tenantId"), Actor(agentChange, "keyId"), agentChange["targetId"]!.GetValue<string>()));
        // The agent may hand the price question to a person by itself first (audited as the system's): the employee's
        // own handoff is the one made with the tenant's key.
        var handoff = items.Single(i => i["action"]!.GetValue<string>() == "conversation.handed_off" && Actor(i, "role") == "admin");
        Assert.Equal(("admin", tenant.Id, newKeyId, conversationId, "lead"),
            (Actor(handoff, "role"), Actor(handoff, "tenantId"), Actor(handoff, "keyId"), handoff["targetId"]!.GetValue<string>(), handoff["service"]!.GetValue<string>()));
        Assert.DoesNotContain("descuento", handoff["detail"]!.GetValue<string>());
        var times = items.Select(i => i["occurredAt"]!.GetValue<DateTimeOffset>()).ToList();
        Assert.Equal(times.OrderDescending(), times);

        // The trail is for operators only.
        using var byTenant = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/admin/audit", newKey));
        Assert.Equal(HttpStatusCode.Forbidden, byTenant.StatusCode);
    }

    [Fact]
    public async Task A_key_in_use_stops_within_the_gateways_5_second_bound_when_revoked()
    {
        var tenant = await system.CreateTenantAsync("Panadería La Espiga", agentName: "PanBot");
        var issued = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey, new { }, expected: 201);
        var key = issued["apiKey"]!.GetValue<string>();
        await system.CallAsync(HttpMethod.Get, "/api/tenant", key); // the gateway now remembers the key

        await system.CallAsync(HttpMethod.Delete, $"/api/admin/tenants/{tenant.Id}/api-keys/{issued["id"]}", SystemFixture.OperatorKey, expected: 204);
        // The gateway that passed the revocation forgets the key at once; any other replica within its 5 s cache.
        await Eventually.TrueAsync(async () =>
        {
            using var revoked = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/tenant", key));
            return revoked.StatusCode == HttpStatusCode.Unauthorized;
        }, "the revoked key to be refused", TimeSpan.FromSeconds(6));
        await system.CallAsync(HttpMethod.Get, "/api/tenant", tenant.ApiKey); // the tenant's other key goes on
    }

    private static string? Actor(JsonNode entry, string field) => entry["actor"]![field]?.GetValue<string>();
}
