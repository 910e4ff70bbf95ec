using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// A service believes only an identity the gateway or the console signed, each with its own key. Tried the way someone
/// who reached the service around the gateway would: no identity, the old plain headers, a token signed with another
/// key or with one issuer's key in the other's name, an expired one, and a tenant's identity on the gateway's internal route.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class SignedIdentityTests(RoutingService routing)
{
    [Fact]
    public async Task A_call_without_a_signed_identity_is_401_even_with_plain_identity_headers()
    {
        var tenantId = await CreateTenantAsync();
        using var client = routing.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/tenant");
        request.Headers.Add("X-SafeNotify-Tenant-Id", tenantId);
        request.Headers.Add("X-SafeNotify-Role", CallerIdentity.OperatorRole);
        using var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);

        using var admin = await client.GetAsync("/api/admin/tenants");
        Assert.Equal(HttpStatusCode.Unauthorized, admin.StatusCode);
    }

    [Fact]
    public async Task An_identity_signed_with_another_key_is_401()
    {
        var tenantId = await CreateTenantAsync();
        var forger = new IdentitySigner(IdentityTokens.GatewayIssuer, IdentityTokens.NewKeyPair().SigningKey, TimeSpan.FromMinutes(1), TimeProvider.System);
        using var response = await SendWithAsync(forger.Create(CallerIdentity.ApiKey(tenantId, null)), "/api/tenant");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);

        // The same identity signed with the gateway's key is accepted: the signature is what was refused.
        var gateway = RoutingService.GatewaySigner();
        using var accepted = await SendWithAsync(gateway.Create(CallerIdentity.ApiKey(tenantId, null)), "/api/tenant");
        Assert.Equal(HttpStatusCode.OK, accepted.StatusCode);
    }

    [Fact]
    public async Task Each_issuer_is_checked_with_its_own_key_and_signs_only_its_own_callers()
    {
        var tenantId = await CreateTenantAsync();
        var member = CallerIdentity.Member(tenantId, TenantRole.Owner, "staff_identity", "Laura Ríos");

        // The gateway's key cannot pass for the console's, nor the console's for the gateway's.
        var gatewayAsConsole = new IdentitySigner(IdentityTokens.ConsoleIssuer, RoutingService.GatewayKey.SigningKey, TimeSpan.FromMinutes(1), TimeProvider.System);
        var consoleAsGateway = new IdentitySigner(IdentityTokens.GatewayIssuer, RoutingService.ConsoleKey.SigningKey, TimeSpan.FromMinutes(1), TimeProvider.System);
        using (var response = await SendWithAsync(gatewayAsConsole.Create(member), "/api/tenant"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var response = await SendWithAsync(consoleAsGateway.Create(CallerIdentity.ApiKey(tenantId, null)), "/api/tenant"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // The gateway signs keys, never a staff member; the console signs staff members, never a key or a role without its business.
        var gateway = RoutingService.GatewaySigner();
        var console = RoutingService.ConsoleSigner();
        using (var response = await SendWithAsync(gateway.Create(member), "/api/tenant"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var response = await SendWithAsync(console.Create(CallerIdentity.ApiKey(tenantId, "key_console")), "/api/tenant"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var response = await SendWithAsync(console.Create(member with { TenantId = null }), "/api/tenant"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        using (var response = await SendWithAsync(console.Create(member), "/api/tenant"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
    }

    [Fact]
    public async Task An_expired_identity_is_401()
    {
        var tenantId = await CreateTenantAsync();
        var past = RoutingService.GatewaySigner(new FixedTime(DateTimeOffset.UtcNow.AddMinutes(-5)));
        using var response = await SendWithAsync(past.Create(CallerIdentity.ApiKey(tenantId, null)), "/api/tenant");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Only_the_gateway_may_resolve_api_keys()
    {
        var tenantId = await CreateTenantAsync();
        using var asTenant = await routing.ClientFor(tenantId).PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey = RoutingService.OperatorKey });
        Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
        using var anonymous = await routing.CreateClient().PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey = RoutingService.OperatorKey });
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var asGateway = await routing.GatewayClient().PostAsJsonAsync("/internal/api-keys/resolve", new { apiKey = RoutingService.OperatorKey });
        Assert.Equal(HttpStatusCode.OK, asGateway.StatusCode);
    }

    private async Task<HttpResponseMessage> SendWithAsync(string token, string path)
    {
        using var client = routing.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(CallerIdentity.Header, token);
        return await client.SendAsync(request);
    }

    private async Task<string> CreateTenantAsync()
    {
        using var response = await routing.OperatorClient().PostAsJsonAsync("/api/admin/tenants", new
        {
            safeNotifyUserId = "user-" + Guid.NewGuid().ToString("N"),
            name = "Clínica Identidad",
            crmPlan = "pro",
            timezone = "America/Bogota",
        });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();
    }

    private sealed class FixedTime(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
