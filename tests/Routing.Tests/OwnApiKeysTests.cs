using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// A business's owners manage its API keys themselves, signed in to the console; nobody else of the business does, and an
/// API key (an admin) never manages keys. Every change names the owner who made it in the audit trail.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class OwnApiKeysTests(RoutingService routing)
{
    [Fact]
    public async Task An_owner_issues_rotates_and_revokes_the_businesss_keys_and_the_audit_names_the_owner()
    {
        var (tenantId, firstKey) = await routing.CreateTenantAsync();
        using var owner = routing.MemberClient(tenantId, TenantRole.Owner, "staff_owner_maria", "María Pérez");

        var keys = await ListAsync(owner);
        var first = Assert.Single(keys);
        Assert.Equal(firstKey[..first["prefix"]!.GetValue<string>().Length], first["prefix"]!.GetValue<string>());
        Assert.Null(first["apiKey"]); // never the secret

        using var issued = await owner.PostAsJsonAsync("/api/tenant/api-keys", new { rotate = true });
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var body = (await issued.Content.ReadFromJsonAsync<JsonNode>())!;
        var newKeyId = body["id"]!.GetValue<string>();
        Assert.StartsWith("/api/tenant/api-keys/", issued.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(first["id"]!.GetValue<string>(), Assert.Single(body["replaced"]!.AsArray())!["id"]!.GetValue<string>());

        using (var revoked = await owner.DeleteAsync($"/api/tenant/api-keys/{newKeyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        }

        Assert.NotNull((await ListAsync(owner)).Single(k => k["id"]!.GetValue<string>() == newKeyId)["revokedAt"]);
        var audited = await routing.PublishedAsync<AuditRecorded>(a => a.TenantId == tenantId && a.Action != AuditActions.TenantCreated && a.ActorRole != CallerIdentity.OperatorRole);
        Assert.Equal([AuditActions.ApiKeyRotated, AuditActions.ApiKeyRevoked], audited.Select(a => a.Action));
        Assert.All(audited, a => Assert.Equal((CallerIdentity.OwnerRole, tenantId, "staff_owner_maria", "María Pérez", (string?)null),
            (a.ActorRole, a.ActorTenantId, a.ActorStaffId, a.ActorStaffName, a.ActorKeyId)));
    }

    [Fact]
    public async Task Admins_advisors_and_api_keys_cannot_manage_keys_and_an_owner_cannot_reach_another_businesss()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var (otherTenantId, otherKey) = await routing.CreateTenantAsync();
        var otherKeyId = (await ListAsync(routing.MemberClient(otherTenantId, TenantRole.Owner))).Single()["id"]!.GetValue<string>();

        foreach (var client in new[] { routing.MemberClient(tenantId, TenantRole.Admin), routing.MemberClient(tenantId, TenantRole.Agent), routing.ClientFor(tenantId) })
        {
            using (client)
            {
                using var list = await client.GetAsync("/api/tenant/api-keys");
                Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
                using var issue = await client.PostAsJsonAsync("/api/tenant/api-keys", new { });
                Assert.Equal(HttpStatusCode.Forbidden, issue.StatusCode);
            }
        }

        // Another business's key id is simply not found, and keeps working.
        using var owner = routing.MemberClient(tenantId, TenantRole.Owner);
        using (var revoke = await owner.DeleteAsync($"/api/tenant/api-keys/{otherKeyId}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        }

        using var resolved = await routing.GatewayClient().PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey = otherKey });
        Assert.Equal(HttpStatusCode.OK, resolved.StatusCode);
        Assert.Equal(CallerIdentity.AdminRole, (await resolved.Content.ReadFromJsonAsync<JsonNode>())!["role"]!.GetValue<string>());
    }

    [Fact]
    public async Task Every_member_reads_the_numbers_and_only_admins_and_owners_change_them()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var advisor = routing.MemberClient(tenantId, TenantRole.Agent);
        using (var list = await advisor.GetAsync("/api/numbers"))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        }

        using (var refused = await advisor.PostAsJsonAsync("/api/numbers", new { phoneNumber = RoutingService.NewPhone(), displayName = "Recepción" }))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        Assert.Empty((await ListAsync(routing.MemberClient(tenantId, TenantRole.Owner), "/api/numbers")));
        using var admin = routing.MemberClient(tenantId, TenantRole.Admin);
        using var created = await admin.PostAsJsonAsync("/api/numbers", new { phoneNumber = RoutingService.NewPhone(), displayName = "Recepción" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
    }

    private static async Task<List<JsonNode>> ListAsync(HttpClient client, string path = "/api/tenant/api-keys")
    {
        using var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!["items"]!.AsArray().Select(k => k!).ToList();
    }
}
