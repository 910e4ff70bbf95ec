using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Routing.Tests;

[Collection(RoutingCollection.Name)]
public sealed class TenantsAndKeysTests(RoutingService routing)
{
    [Fact]
    public async Task A_new_tenant_gets_its_plans_limits_and_a_key_that_resolves_to_it()
    {
        await using var provisioned = await routing.WatchAsync<TenantProvisioned>();
        var (tenantId, key) = await routing.CreateTenantAsync(plan: "PRO");

        var resolved = await ResolveAsync(key);
        Assert.Equal(HttpStatusCode.OK, resolved.Status);
        Assert.Equal(tenantId, resolved.Body!["tenantId"]!.GetValue<string>());
        Assert.Equal("tenant", resolved.Body["role"]!.GetValue<string>());

        var tenant = await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/tenants/{tenantId}");
        Assert.Equal("pro", tenant!["crmPlan"]!.GetValue<string>());
        Assert.Equal(2, tenant["maxWhatsappNumbers"]!.GetValue<int>());
        Assert.Equal(3, tenant["maxAgents"]!.GetValue<int>());

        // Agent and Metrics learn of it from the event, with the same limits.
        var published = await provisioned.FirstAsync(e => e.TenantId == tenantId);
        Assert.Equal(("pro", 3, 2), (published.Plan, published.MaxAgents, published.MaxWhatsappNumbers));
    }

    [Fact]
    public async Task Keys_are_stored_only_as_hashes_and_a_revoked_key_no_longer_resolves()
    {
        var (tenantId, key) = await routing.CreateTenantAsync();
        var stored = await routing.WithDbAsync(db => Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleAsync(
            db.ApiKeys, k => k.TenantId == tenantId));
        Assert.NotEqual(key, stored.Hash);
        Assert.DoesNotContain(key, stored.Hash);

        using var admin = routing.OperatorClient();
        using (var revoke = await admin.DeleteAsync($"/api/admin/tenants/{tenantId}/api-keys/{stored.Id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await ResolveAsync(key)).Status);
    }

    [Fact]
    public async Task The_operator_key_resolves_to_the_operator_and_unknown_keys_to_nothing()
    {
        var resolved = await ResolveAsync(RoutingService.OperatorKey);
        Assert.Equal("operator", resolved.Body!["role"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await ResolveAsync("sn_live_guess")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await ResolveAsync("")).Status);
    }

    [Fact]
    public async Task A_second_tenant_for_the_same_SafeNotify_user_is_refused()
    {
        var userId = "user-" + Guid.NewGuid().ToString("N")[..10];
        await routing.CreateTenantAsync(userId: userId);
        using var response = await routing.OperatorClient().PostAsJsonAsync("/api/admin/tenants", new { safeNotifyUserId = userId, name = "again" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
    }

    [Fact]
    public async Task Invalid_tenant_fields_are_a_400_naming_each_field()
    {
        using var response = await routing.OperatorClient().PostAsJsonAsync("/api/admin/tenants", new { name = "", crmPlan = "platinum", timezone = "Mars/Olympus" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal(["crmPlan", "name", "safeNotifyUserId", "timezone"], errors.Select(e => e.Key).Order());
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> ResolveAsync(string key)
    {
        using var client = routing.GatewayClient();
        using var response = await client.PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey = key });
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonNode>() : null);
    }
}
