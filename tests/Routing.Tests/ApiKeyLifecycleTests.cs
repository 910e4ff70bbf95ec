using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>Keys over their life: issued and shown once, rotated with a grace period, revoked, and seen in use.</summary>
[Collection(RoutingCollection.Name)]
public sealed class ApiKeyLifecycleTests(RoutingService routing)
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 15, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_rotated_key_keeps_working_for_the_grace_period_and_then_stops()
    {
        routing.Clock.Set(T0);
        try
        {
            var (tenantId, oldKey) = await routing.CreateTenantAsync();
            var oldKeyId = await KeyIdOfAsync(tenantId, oldKey);

            using var admin = routing.OperatorClient();
            using var response = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { replacesKeyId = oldKeyId });
            var issued = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            var newKey = issued["apiKey"]!.GetValue<string>();
            var newKeyId = issued["id"]!.GetValue<string>();
            var replaced = Assert.Single(issued["replaced"]!.AsArray());
            Assert.Equal(oldKeyId, replaced!["id"]!.GetValue<string>());
            Assert.Equal(T0.AddHours(24), replaced["expiresAt"]!.GetValue<DateTimeOffset>());

            // Within the grace period both keys work, each as itself.
            routing.Clock.Set(T0.AddHours(24).AddSeconds(-1));
            var old = await ResolveAsync(oldKey);
            Assert.Equal(HttpStatusCode.OK, old.Status);
            Assert.Equal((tenantId, oldKeyId), (old.Body!["tenantId"]!.GetValue<string>(), old.Body["keyId"]!.GetValue<string>()));
            Assert.Equal(T0.AddHours(24), old.Body["expiresAt"]!.GetValue<DateTimeOffset>());
            Assert.Equal(newKeyId, (await ResolveAsync(newKey)).Body!["keyId"]!.GetValue<string>());

            // When it ends, the old key is refused and the new one goes on.
            routing.Clock.Set(T0.AddHours(24));
            Assert.Equal(HttpStatusCode.NotFound, (await ResolveAsync(oldKey)).Status);
            Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(newKey)).Status);

            var keys = await ListKeysAsync(tenantId);
            Assert.Equal(newKeyId, keys.Single(k => k["id"]!.GetValue<string>() == oldKeyId)["replacedByKeyId"]!.GetValue<string>());

            // A rotated-out key cannot be rotated again after its end.
            using var again = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { replacesKeyId = oldKeyId });
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }
        finally
        {
            routing.Clock.Reset();
        }
    }

    [Fact]
    public async Task Rotate_all_gives_every_working_key_the_configured_grace_and_a_second_rotation_never_extends_it()
    {
        routing.Clock.Set(T0);
        try
        {
            var (tenantId, first) = await routing.CreateTenantAsync();
            using var admin = routing.OperatorClient();
            using (var plain = await admin.PostAsync($"/api/admin/tenants/{tenantId}/api-keys", null))
            {
                Assert.Equal(HttpStatusCode.Created, plain.StatusCode);
                Assert.Empty((await plain.Content.ReadFromJsonAsync<JsonNode>())!["replaced"]!.AsArray());
            }

            using (var rotate = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { rotate = true }))
            {
                Assert.Equal(2, (await rotate.Content.ReadFromJsonAsync<JsonNode>())!["replaced"]!.AsArray().Count);
            }

            routing.Clock.Set(T0.AddHours(1));
            using (var rotateAgain = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { rotate = true }))
            {
                var replaced = (await rotateAgain.Content.ReadFromJsonAsync<JsonNode>())!["replaced"]!.AsArray();
                Assert.Equal(3, replaced.Count);
                // The two keys replaced before keep their earlier end; only the key issued at the first rotation gets T0+1h+24h.
                Assert.Equal(2, replaced.Count(k => k!["expiresAt"]!.GetValue<DateTimeOffset>() == T0.AddHours(24)));
                Assert.Equal(1, replaced.Count(k => k!["expiresAt"]!.GetValue<DateTimeOffset>() == T0.AddHours(25)));
            }

            routing.Clock.Set(T0.AddHours(24));
            Assert.Equal(HttpStatusCode.NotFound, (await ResolveAsync(first)).Status);
        }
        finally
        {
            routing.Clock.Reset();
        }
    }

    [Fact]
    public async Task A_revoked_key_stops_at_once_and_revoking_twice_records_once()
    {
        var (tenantId, key) = await routing.CreateTenantAsync();
        var keyId = await KeyIdOfAsync(tenantId, key);
        Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(key)).Status);

        using var admin = routing.ClientAs(new CallerIdentity(null, CallerIdentity.OperatorRole, "key_operator_console"));
        using (var revoke = await admin.DeleteAsync($"/api/admin/tenants/{tenantId}/api-keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        Assert.Equal(HttpStatusCode.NotFound, (await ResolveAsync(key)).Status);
        using (var again = await admin.DeleteAsync($"/api/admin/tenants/{tenantId}/api-keys/{keyId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, again.StatusCode);
        }

        Assert.NotNull((await ListKeysAsync(tenantId)).Single(k => k["id"]!.GetValue<string>() == keyId)["revokedAt"]);
        var audited = Assert.Single(await routing.PublishedAsync<AuditRecorded>(a => a.Action == AuditActions.ApiKeyRevoked && a.TargetId == keyId));
        Assert.Equal((CallerIdentity.OperatorRole, "key_operator_console", tenantId), (audited.ActorRole, audited.ActorKeyId, audited.TenantId));

        // A revoked key cannot be brought back by rotating it.
        using var rotate = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { replacesKeyId = keyId });
        Assert.Equal(HttpStatusCode.NotFound, rotate.StatusCode);
    }

    [Fact]
    public async Task Concurrent_revocations_of_one_key_are_recorded_once()
    {
        var (tenantId, key) = await routing.CreateTenantAsync();
        var keyId = await KeyIdOfAsync(tenantId, key);
        using var admin = routing.OperatorClient();
        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(_ => admin.DeleteAsync($"/api/admin/tenants/{tenantId}/api-keys/{keyId}")));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.NoContent, r.StatusCode));
        Assert.Single(await routing.PublishedAsync<AuditRecorded>(a => a.Action == AuditActions.ApiKeyRevoked && a.TargetId == keyId));
    }

    [Fact]
    public async Task Another_tenants_key_is_a_404_and_changes_nothing()
    {
        var (tenantA, keyA) = await routing.CreateTenantAsync();
        var (tenantB, _) = await routing.CreateTenantAsync();
        var keyIdA = await KeyIdOfAsync(tenantA, keyA);

        using var admin = routing.OperatorClient();
        using (var revoke = await admin.DeleteAsync($"/api/admin/tenants/{tenantB}/api-keys/{keyIdA}"))
        {
            Assert.Equal(HttpStatusCode.NotFound, revoke.StatusCode);
        }

        using (var rotate = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantB}/api-keys", new { replacesKeyId = keyIdA }))
        {
            Assert.Equal(HttpStatusCode.NotFound, rotate.StatusCode);
        }

        using (var unknownTenant = await admin.GetAsync("/api/admin/tenants/tnt_nobody/api-keys"))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknownTenant.StatusCode);
        }

        Assert.Single(await ListKeysAsync(tenantB)); // no key was issued by the refused rotation
        var stored = await routing.WithDbAsync(db => db.ApiKeys.SingleAsync(k => k.Id == keyIdA));
        Assert.Null(stored.RevokedAt);
        Assert.Null(stored.ExpiresAt);
        Assert.Equal(HttpStatusCode.OK, (await ResolveAsync(keyA)).Status);
    }

    [Fact]
    public async Task Last_use_is_recorded_at_most_once_a_minute_per_key()
    {
        routing.Clock.Set(T0);
        try
        {
            var (tenantId, key) = await routing.CreateTenantAsync();
            var keyId = await KeyIdOfAsync(tenantId, key);
            Assert.Null((await ListKeysAsync(tenantId)).Single()["lastUsedAt"]);

            await ResolveAsync(key);
            Assert.Equal(T0, await LastUsedAsync(keyId));

            routing.Clock.Set(T0.AddSeconds(59));
            await ResolveAsync(key);
            await ResolveAsync(key);
            Assert.Equal(T0, await LastUsedAsync(keyId));

            routing.Clock.Set(T0.AddSeconds(61));
            await ResolveAsync(key);
            Assert.Equal(T0.AddSeconds(61), await LastUsedAsync(keyId));
            Assert.Equal(T0.AddSeconds(61), (await ListKeysAsync(tenantId)).Single()["lastUsedAt"]!.GetValue<DateTimeOffset>());
        }
        finally
        {
            routing.Clock.Reset();
        }
    }

    [Fact]
    public async Task No_plaintext_key_is_stored_anywhere_in_routing_and_listings_show_only_the_prefix()
    {
        var (tenantId, first) = await routing.CreateTenantAsync();
        using var admin = routing.OperatorClient();
        using var response = await admin.PostAsJsonAsync($"/api/admin/tenants/{tenantId}/api-keys", new { rotate = true });
        var second = (await response.Content.ReadFromJsonAsync<JsonNode>())!["apiKey"]!.GetValue<string>();
        await ResolveAsync(second);

        // Every row of the tenants and keys tables, and every event Routing wrote (audit records included), as text.
        var rows = await routing.WithDbAsync(async db =>
        {
            var all = new List<string>();
            all.AddRange(await db.Database.SqlQuery<string>($"SELECT t::text AS \"Value\" FROM routing.tenants t").ToListAsync());
            all.AddRange(await db.Database.SqlQuery<string>($"SELECT t::text AS \"Value\" FROM routing.api_keys t").ToListAsync());
            all.AddRange(await db.Database.SqlQuery<string>($"SELECT t::text AS \"Value\" FROM routing.audit_entries t").ToListAsync());
            all.AddRange(await db.Database.SqlQuery<string>($"SELECT t::text AS \"Value\" FROM routing.outbox_messages t").ToListAsync());

            return all;
        });
        Assert.NotEmpty(rows);
        foreach (var key in new[] { first, second })
        {
            Assert.DoesNotContain(rows, row => row.Contains(key, StringComparison.Ordinal));
            // The part after the displayed prefix never leaves the key holder.
            Assert.DoesNotContain(rows, row => row.Contains(key[12..], StringComparison.Ordinal));
            Assert.Contains(rows, row => row.Contains(ApiKeys.Hash(key), StringComparison.Ordinal));
        }

        var listed = await ListKeysAsync(tenantId);
        var listing = string.Join("\n", listed.Select(k => k.ToJsonString()));
        Assert.DoesNotContain(first[12..], listing);
        Assert.DoesNotContain(second[12..], listing);
        Assert.Contains(listed, k => k["prefix"]!.GetValue<string>() == first[..12]);
    }

    [Fact]
    public void Hashes_are_compared_in_constant_time_and_only_equal_hashes_match()
    {
        var hash = ApiKeys.Hash("sn_live_abc");
        Assert.Equal(64, hash.Length);
        Assert.True(ApiKeys.HashesEqual(hash, ApiKeys.Hash("sn_live_abc")));
        Assert.False(ApiKeys.HashesEqual(hash, ApiKeys.Hash("sn_live_abd")));
        Assert.False(ApiKeys.HashesEqual(hash, hash[..^1] + (hash[^1] == '0' ? '1' : '0')));
        Assert.False(ApiKeys.HashesEqual(hash, hash[..32]));
    }

    [Fact]
    public async Task Only_operators_manage_keys()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var tenant = routing.ClientFor(tenantId);
        using var list = await tenant.GetAsync($"/api/admin/tenants/{tenantId}/api-keys");
        Assert.Equal(HttpStatusCode.Forbidden, list.StatusCode);
        using var issue = await tenant.PostAsync($"/api/admin/tenants/{tenantId}/api-keys", null);
        Assert.Equal(HttpStatusCode.Forbidden, issue.StatusCode);
        Assert.Single(await ListKeysAsync(tenantId));
    }

    private async Task<DateTimeOffset?> LastUsedAsync(string keyId) =>
        await routing.WithDbAsync(db => db.ApiKeys.Where(k => k.Id == keyId).Select(k => k.LastUsedAt).SingleAsync());

    private async Task<string> KeyIdOfAsync(string tenantId, string key)
    {
        var hash = ApiKeys.Hash(key);
        return await routing.WithDbAsync(db => db.ApiKeys.Where(k => k.TenantId == tenantId && k.Hash == hash).Select(k => k.Id).SingleAsync());
    }

    private async Task<List<JsonNode>> ListKeysAsync(string tenantId)
    {
        using var admin = routing.OperatorClient();
        var page = await admin.GetFromJsonAsync<JsonNode>($"/api/admin/tenants/{tenantId}/api-keys");
        return page!["items"]!.AsArray().Select(k => k!).ToList();
    }

    private async Task<(HttpStatusCode Status, JsonNode? Body)> ResolveAsync(string key)
    {
        using var client = routing.GatewayClient();
        using var response = await client.PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey = key });
        return (response.StatusCode, response.IsSuccessStatusCode ? await response.Content.ReadFromJsonAsync<JsonNode>() : null);
    }
}
