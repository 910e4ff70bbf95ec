using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.EndToEnd.Tests;

public sealed partial class AttackMatrixTests
{
    /// <summary>
    /// Routing's one internal route (the gateway's key lookup), which its document leaves out. Left out of this matrix on
    /// purpose, and nothing else: Twilio's webhooks, which Twilio signs instead of the gateway (they are tried without
    /// Twilio's signature, and must answer 403), the health endpoints (<c>/health</c>, <c>/alive</c>: the orchestrator's
    /// probes, which say only "up") and the OpenAPI documents themselves (<c>/openapi/v1.json</c>, the public description).
    /// </summary>
    private static readonly PublicApi.Operation[] Undocumented = [new("routing", HttpMethod.Post, "/internal/api-keys/resolve", hasBody: true, bodyRequired: true)];

    [Fact]
    public async Task Every_service_route_called_around_the_gateway_refuses_a_missing_forged_or_expired_identity()
    {
        var operations = (await Api.OperationsAsync()).Concat(Undocumented).ToList();
        Assert.Contains(operations, o => o.Service == "lead");
        Assert.Contains(operations, o => o.Service == "ingress" && o.Path.StartsWith("/api/", StringComparison.Ordinal));
        // Real ids of a real tenant: a route that forgot its guard would find something to answer with.
        var tenant = await Api.ObjectsOfNewTenantAsync("Clínica Rodeada");
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(system.StateDirectory, "secrets.json")))!;
        var genuine = Signer(secrets["gateway-identity-key"], TimeProvider.System);
        var forged = Signer(IdentityTokens.NewKeyPair().SigningKey, TimeProvider.System);
        var expired = Signer(secrets["gateway-identity-key"], new ClockBehind(TimeSpan.FromMinutes(5)));
        var clients = operations.Select(o => o.Service).Distinct().ToDictionary(service => service, service => system.App.CreateHttpClient(service));
        var before = await Api.SnapshotAsync(operations, tenant);

        var findings = new Findings();
        foreach (var operation in operations)
        {
            var service = clients[operation.Service];
            var path = tenant.Fill(operation.Path);
            if (operation.Path.StartsWith("/webhooks/twilio/", StringComparison.Ordinal))
            {
                findings.Expect(operation, "straight to the service without Twilio's signature",
                    await Api.SendAsync(operation.Method, path, null, () => WebhookForm(tenant), client: service), 403);
                continue;
            }

            // The caller each route is for, so that only the signature or the time is wrong.
            var caller = operation.IsAdmin ? new CallerIdentity(null, CallerIdentity.OperatorRole)
                : operation.Path.StartsWith("/internal/", StringComparison.Ordinal) ? new CallerIdentity(null, CallerIdentity.GatewayRole)
                : CallerIdentity.ApiKey(tenant.Tenant.Id, keyId: null);
            var body = operation.HasBody ? PublicApi.BodyFor(operation) : null;
            Func<HttpContent?> content = () => body is null ? null : JsonContent.Create(body);
            Action<HttpRequestMessage> As(IdentitySigner signer) => request => request.Headers.Add(CallerIdentity.Header, signer.Create(caller));

            findings.Expect(operation, "straight to the service without an identity", await Api.SendAsync(operation.Method, path, null, content, client: service), 401);
            findings.Expect(operation, "straight to the service with an identity signed with another key",
                await Api.SendAsync(operation.Method, path, null, content, As(forged), service), 401);
            findings.Expect(operation, "straight to the service with an expired identity",
                await Api.SendAsync(operation.Method, path, null, content, As(expired), service), 401);
            if (operation.Method == HttpMethod.Get)
            {
                // The control: the same read with an identity the gateway would sign gets past the guard.
                var answer = await Api.SendAsync(operation.Method, path, null, content, As(genuine), service);
                findings.Check(answer.Status is not 401, () => $"{operation} with a genuine identity: {answer}");
            }
        }

        foreach (var client in clients.Values)
        {
            client.Dispose();
        }

        // Read back through the gateway: nothing a refused call around it tried was written.
        findings.Unchanged(before, await Api.SnapshotAsync(operations, tenant));
        findings.AssertNone(minimumChecks: 100);
    }

    private static IdentitySigner Signer(string signingKey, TimeProvider time) =>
        new(IdentityTokens.GatewayIssuer, signingKey, TimeSpan.FromMinutes(1), time);

    /// <summary>A clock that runs behind: identities it signs expired before they are sent.</summary>
    private sealed class ClockBehind(TimeSpan behind) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() - behind;
    }
}
