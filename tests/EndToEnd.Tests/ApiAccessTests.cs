using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.JsonWebTokens;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>Keys and isolation, tried through the gateway as a client would.</summary>
[Collection(SystemCollection.Name)]
public sealed class ApiAccessTests(SystemFixture system)
{
    [Theory]
    [InlineData(null)]
    [InlineData("sn_live_not_a_real_key")]
    [InlineData("")]
    public async Task An_api_call_without_a_valid_key_is_401(string? key)
    {
        foreach (var path in new[] { "/api/tenant", "/api/numbers", "/api/agents", "/api/leads", "/api/conversations", "/api/metrics", "/api/admin/tenants" })
        {
            using var response = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, path, key));
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task A_tenant_key_on_admin_routes_is_403_and_a_revoked_key_is_401()
    {
        var tenant = await system.CreateTenantAsync("Gimnasio FitBot", agentName: "FitBot");
        using (var admin = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/admin/tenants", tenant.ApiKey)))
        {
            Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        }

        var issued = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey, new { }, expected: 201);
        await system.CallAsync(HttpMethod.Delete, $"/api/admin/tenants/{tenant.Id}/api-keys/{issued["id"]}", SystemFixture.OperatorKey, expected: 204);
        using var revoked = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, "/api/tenant", issued["apiKey"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Unauthorized, revoked.StatusCode);

        // The tenant's first key still works and says who it is.
        var own = await system.CallAsync(HttpMethod.Get, "/api/tenant", tenant.ApiKey);
        Assert.Equal(tenant.Id, own["id"]!.GetValue<string>());
        Assert.Equal(2, own["limits"]!["maxWhatsappNumbers"]!.GetValue<int>());
        Assert.Equal(1, own["usage"]!["whatsappNumbers"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_tenant_reads_and_patches_its_own_settings_at_api_tenant_settings_and_another_tenant_keeps_its_own()
    {
        var gym = await system.CreateTenantAsync("Gimnasio Ajustes", agentName: "FitBot");
        var bakery = await system.CreateTenantAsync("Panadería Ajustes");

        var patched = await system.CallAsync(HttpMethod.Patch, "/api/tenant/settings", gym.ApiKey, new { burstWindowSeconds = 5, conversationIdleSeconds = 7200 });
        Assert.Equal((5, 7200), (patched["burstWindowSeconds"]!.GetValue<int>(), patched["conversationIdleSeconds"]!.GetValue<int>()));

        // A field left out keeps its value; the same settings read under both names; the other tenant has the defaults.
        await system.CallAsync(HttpMethod.Patch, "/api/tenant/settings", gym.ApiKey, new { gradeAThreshold = 80 });
        var read = await system.CallAsync(HttpMethod.Get, "/api/tenant/settings", gym.ApiKey);
        Assert.Equal((5, 7200, 80), (read["burstWindowSeconds"]!.GetValue<int>(), read["conversationIdleSeconds"]!.GetValue<int>(), read["gradeAThreshold"]!.GetValue<int>()));
        Assert.Equal(80, (await system.CallAsync(HttpMethod.Get, "/api/leads/settings", gym.ApiKey))["gradeAThreshold"]!.GetValue<int>());
        var other = await system.CallAsync(HttpMethod.Get, "/api/tenant/settings", bakery.ApiKey);
        Assert.Equal((0, 70), (other["burstWindowSeconds"]!.GetValue<int>(), other["gradeAThreshold"]!.GetValue<int>()));

        // Bad values are a 400 naming the field, and change nothing.
        using var bad = await system.Gateway.SendAsync(system.Request(HttpMethod.Patch, "/api/tenant/settings", gym.ApiKey, new { burstWindowSeconds = 600 }));
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("burstWindowSeconds", await bad.Content.ReadAsStringAsync());
        Assert.Equal(5, (await system.CallAsync(HttpMethod.Get, "/api/tenant/settings", gym.ApiKey))["burstWindowSeconds"]!.GetValue<int>());

        // The rest of /api/tenant is still Routing's.
        Assert.Equal(gym.Id, (await system.CallAsync(HttpMethod.Get, "/api/tenant", gym.ApiKey))["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_objects()
    {
        var clinic = await system.CreateTenantAsync("Clínica Norte");
        var restaurant = await system.CreateTenantAsync("Restaurante Sur", agentName: "ChefBot");
        var lead = await system.CallAsync(HttpMethod.Post, "/api/leads", restaurant.ApiKey, new { phone = "+573222222222", name = "Carlos López" }, expected: 201);

        foreach (var path in new[]
        {
            $"/api/numbers/{restaurant.NumberId}", $"/api/agents/{restaurant.AgentId}", $"/api/agents/{restaurant.AgentId}/prompts",
            $"/api/leads/{lead["id"]}",
        })
        {
            using var response = await system.Gateway.SendAsync(system.Request(HttpMethod.Get, path, clinic.ApiKey));
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        }

        using (var patch = await system.Gateway.SendAsync(system.Request(HttpMethod.Patch, $"/api/numbers/{restaurant.NumberId}", clinic.ApiKey, new { displayName = "mine now" })))
        {
            Assert.Equal(HttpStatusCode.NotFound, patch.StatusCode);
        }

        // Lists hold only the caller's own objects.
        var numbers = await system.CallAsync(HttpMethod.Get, "/api/numbers", clinic.ApiKey);
        Assert.Equal([clinic.NumberId], numbers["items"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));
        var agents = await system.CallAsync(HttpMethod.Get, "/api/agents", clinic.ApiKey);
        Assert.Equal([clinic.AgentId], agents["items"]!.AsArray().Select(a => a!["id"]!.GetValue<string>()));
        Assert.Equal(0, (await system.CallAsync(HttpMethod.Get, "/api/leads", clinic.ApiKey))["total"]!.GetValue<int>());

        // The restaurant's number is untouched.
        var untouched = await system.CallAsync(HttpMethod.Get, $"/api/numbers/{restaurant.NumberId}", restaurant.ApiKey);
        Assert.Equal("Citas", untouched["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task Identity_headers_sent_by_a_client_are_ignored()
    {
        var clinic = await system.CreateTenantAsync("Clínica Este");
        var other = await system.CreateTenantAsync("Clínica Oeste");

        var request = system.Request(HttpMethod.Get, "/api/numbers", clinic.ApiKey);
        Spoof(request, other.Id);
        using var response = await system.Gateway.SendAsync(request);
        var numbers = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal([clinic.NumberId], numbers["items"]!.AsArray().Select(n => n!["id"]!.GetValue<string>()));

        var forged = new HttpRequestMessage(HttpMethod.Get, "/api/numbers");
        Spoof(forged, other.Id);
        using var noKey = await system.Gateway.SendAsync(forged);
        Assert.Equal(HttpStatusCode.Unauthorized, noKey.StatusCode);
    }

    [Fact]
    public async Task No_safenotify_header_a_client_sends_reaches_a_service_on_a_webhook_or_an_api_path()
    {
        var clinic = await system.CreateTenantAsync("Clínica Centro");
        var other = await system.CreateTenantAsync("Clínica Periferia");

        // A webhook (no key, so no identity of the gateway's either), posted as Twilio would, to a stand-in destination.
        var probe = Guid.NewGuid().ToString("N");
        var webhook = new HttpRequestMessage(HttpMethod.Post, $"{SystemFixture.RecordedWebhookPath}?probe={probe}")
        {
            Content = new FormUrlEncodedContent(TwilioSigner.InboundForm(system.Twilio.AccountSid, "+573001112233", clinic.Phone, "Hola")),
        };
        webhook.Headers.Add("X-Twilio-Signature", Convert.ToBase64String(new byte[20]));
        Spoof(webhook, other.Id);
        using (var response = await system.Gateway.SendAsync(webhook))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        var arrived = Recorded(probe);
        Assert.Empty(SafeNotifyHeaders(arrived));
        Assert.NotNull(arrived.Headers["X-Twilio-Signature"]); // the rest of the request went on as it came

        // An API call: only the gateway's own identity arrives, signed for the key's tenant; the key itself stops at the gateway.
        probe = Guid.NewGuid().ToString("N");
        var call = system.Request(HttpMethod.Get, $"{SystemFixture.RecordedApiPath}/numbers?probe={probe}", clinic.ApiKey);
        var forgedIdentity = Spoof(call, other.Id);
        using (var response = await system.Gateway.SendAsync(call))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        arrived = Recorded(probe);
        Assert.Equal([CallerIdentity.Header], SafeNotifyHeaders(arrived));
        var identity = new JsonWebToken(arrived.Headers[CallerIdentity.Header]!);
        // A business's key acts as an admin, in the gateway's name.
        Assert.Equal((clinic.Id, CallerIdentity.AdminRole, IdentityTokens.GatewayIssuer),
            (identity.GetClaim("tenant").Value, identity.GetClaim("role").Value, identity.Issuer));
        Assert.Equal("ES256", identity.Alg);
        Assert.NotEqual(forgedIdentity, identity.EncodedToken);
        Assert.Null(arrived.Headers["Authorization"]);
    }

    /// <summary>
    /// What a client posing as <paramref name="tenantId"/>'s operator adds: the old plain headers, one of any name under
    /// X-SafeNotify-, and an identity signed with another key (returned).
    /// </summary>
    private static string Spoof(HttpRequestMessage request, string tenantId)
    {
        var forger = new IdentitySigner(IdentityTokens.GatewayIssuer, IdentityTokens.NewKeyPair().SigningKey, TimeSpan.FromMinutes(1), TimeProvider.System);
        var forgedIdentity = forger.Create(new CallerIdentity(tenantId, CallerIdentity.OperatorRole));
        request.Headers.Add("X-SafeNotify-Tenant-Id", tenantId);
        request.Headers.Add("X-SafeNotify-Role", CallerIdentity.OperatorRole);
        request.Headers.Add("x-safenotify-caller", CallerIdentity.GatewayRole);
        request.Headers.Add(CallerIdentity.Header, forgedIdentity);
        return forgedIdentity;
    }

    private RecordedRequest Recorded(string probe) => Assert.Single(system.Recorder.Received, r => r.PathAndQuery.EndsWith("probe=" + probe, StringComparison.Ordinal));

    private static List<string> SafeNotifyHeaders(RecordedRequest request) =>
        request.Headers.AllKeys.OfType<string>().Where(name => name.StartsWith("X-SafeNotify-", StringComparison.OrdinalIgnoreCase)).ToList();

    [Fact]
    public async Task The_plan_limit_on_numbers_is_a_409_that_says_which_limit()
    {
        var tenant = await system.CreateTenantAsync("Restaurante Básico", agentName: "ChefBot", plan: "basic");
        using var response = await system.Gateway.SendAsync(system.Request(HttpMethod.Post, "/api/numbers", tenant.ApiKey,
            new { phoneNumber = "+57303" + Random.Shared.Next(1_000_000, 9_999_999), displayName = "Delivery" }));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.EndsWith("plan-limit-exceeded", problem["type"]!.GetValue<string>());
        Assert.Equal(1, problem["limit"]!.GetValue<int>());
        Assert.Equal(1, problem["current"]!.GetValue<int>());
        Assert.Equal("basic", problem["plan"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_gateway_answers_health_on_its_public_port()
    {
        using var response = await system.Gateway.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
