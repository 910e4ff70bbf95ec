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
        Assert.Equal("admin", resolved.Body["role"]!.GetValue<string>());

        var tenant = await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/tenants/{tenantId}");
        Assert.Equal("pro", tenant!["crmPlan"]!.GetValue<string>());
        Assert.Equal(2, tenant["maxWhatsappNumbers"]!.GetValue<int>());
        Assert.Equal(3, tenant["maxAgents"]!.GetValue<int>());

        // Agent and Metrics learn of it from the event, with the same limits.
        var published = await provisioned.FirstAsync(e => e.TenantId == tenantId);
        Assert.Equal(("pro", 3, 2), (published.Plan, published.MaxAgents, published.MaxWhatsappNumbers));
    }

    [Fact]
    public async Task A_tenant_created_with_its_first_owner_answers_the_owners_link_once_and_sends_the_console_only_its_hash()
    {
        await using var provisioned = await routing.WatchAsync<TenantProvisioned>();
        using var response = await routing.OperatorClient().PostAsJsonAsync("/api/admin/tenants", new
        {
            safeNotifyUserId = $"user-{Guid.NewGuid():N}", name = "Clínica Dental Sonrisas", crmPlan = "pro",
            firstOwner = new { email = " Dra.Perez@Sonrisas.example ", displayName = "Dra. Ana Pérez" },
        });
        var body = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var link = body["firstOwnerInvitationLink"]!.GetValue<string>();
        Assert.StartsWith("http://localhost:8080/invitation/", link, StringComparison.Ordinal);
        var token = link[(link.LastIndexOf('/') + 1)..];

        var published = await provisioned.FirstAsync(e => e.TenantId == body["id"]!.GetValue<string>());
        var owner = Assert.IsType<FirstOwnerInvitation>(published.FirstOwner);
        Assert.Equal(("Dra.Perez@Sonrisas.example", "Dra. Ana Pérez"), (owner.Email, owner.DisplayName));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(token))), owner.InvitationHash);
        Assert.Equal(body["firstOwnerInvitationExpiresAt"]!.GetValue<DateTimeOffset>(), owner.ExpiresAt);
        Assert.Equal(published.OccurredAt + TimeSpan.FromHours(72), owner.ExpiresAt);

        var read = await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/tenants/{body["id"]}");
        Assert.DoesNotContain(token, read!.ToJsonString(), StringComparison.Ordinal); // shown once
    }

    [Fact]
    public async Task A_tenant_announced_again_is_published_as_it_is_now_without_its_first_owners_invitation()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using (var changed = await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { name = "Clínica Renombrada", crmPlan = "enterprise" }))
        {
            Assert.Equal(HttpStatusCode.OK, changed.StatusCode);
        }

        using var announced = await routing.OperatorClient().PostAsync($"/api/admin/tenants/{tenantId}/announce", null);
        Assert.Equal(HttpStatusCode.Accepted, announced.StatusCode);

        var again = (await routing.PublishedAsync<TenantProvisioned>(p => p.TenantId == tenantId)).Last();
        var tenant = (await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/tenants/{tenantId}"))!;
        Assert.Equal(("Clínica Renombrada", "enterprise", tenant["updatedAt"]!.GetValue<DateTimeOffset>()), (again.Name, again.Plan, again.OccurredAt));
        Assert.Null(again.FirstOwner);

        using var unknown = await routing.OperatorClient().PostAsync("/api/admin/tenants/tnt_nadie/announce", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var asTenant = await routing.ClientFor(tenantId).PostAsync($"/api/admin/tenants/{tenantId}/announce", null);
        Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
    }

    [Theory]
    [InlineData("no es un correo", "Ana", "firstOwner.email")]
    [InlineData("Ana <ana@clinica.example>", "Ana", "firstOwner.email")]
    [InlineData("ana@clinica.example", " ", "firstOwner.displayName")]
    public async Task A_first_owner_without_a_plain_address_or_a_name_is_refused_and_no_tenant_is_made(string email, string displayName, string field)
    {
        var userId = $"user-{Guid.NewGuid():N}";
        using var response = await routing.OperatorClient().PostAsJsonAsync("/api/admin/tenants", new
        {
            safeNotifyUserId = userId, name = "Clínica", firstOwner = new { email, displayName },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull((await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]![field]);
        var tenants = await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/tenants?safeNotifyUserId={userId}");
        Assert.Empty(tenants!["items"]!.AsArray());
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
