using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Every public route and method, tried through the gateway as an attacker would: with another tenant's ids, without
/// a key, with a wrong or revoked key, with a tenant's key on admin routes, with oversized, malformed and wrongly typed
/// bodies. The routes come from the OpenAPI documents the gateway serves, so that a new route cannot be left out; then
/// the victim's objects are read back and compared with what they were before.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed partial class AttackMatrixTests(SystemFixture system)
{
    private PublicApi Api { get; } = new(system);

    [Fact]
    public async Task Every_route_refuses_what_an_attacker_tries_and_nothing_of_the_victim_changes()
    {
        var operations = await Api.OperationsAsync();
        var victim = await Api.ObjectsOfNewTenantAsync("Clínica Víctima");
        var attacker = await Api.ObjectsOfNewTenantAsync("Taller Atacante");
        var revoked = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{attacker.Tenant.Id}/api-keys", SystemFixture.OperatorKey, new { }, expected: 201);
        await system.CallAsync(HttpMethod.Delete, $"/api/admin/tenants/{attacker.Tenant.Id}/api-keys/{revoked["id"]}", SystemFixture.OperatorKey, expected: 204);
        var revokedKey = revoked["apiKey"]!.GetValue<string>();

        var api = operations.Where(o => o.Path.StartsWith("/api/", StringComparison.Ordinal)).ToList();
        var webhooks = operations.Where(o => o.Path.StartsWith("/webhooks/", StringComparison.Ordinal)).ToList();
        Assert.Equal(operations.Count, api.Count + webhooks.Count);
        // The documents are the list: a sanity check that they were read, not a second list to keep up to date.
        Assert.Contains(api, o => o.Method == HttpMethod.Delete && o.Path == "/api/leads/{id}");
        Assert.Contains(api, o => o.Path.StartsWith("/api/admin/", StringComparison.Ordinal));
        Assert.NotEmpty(webhooks);

        var before = await Api.SnapshotAsync(api, victim);
        // The attacker's own objects too: its refused bad bodies must leave them as they were.
        var attackersBefore = await Api.SnapshotAsync(api, attacker);
        var findings = new Findings();
        // Wrong keys come from an address of their own: the gateway limits them per address (and the matrix waits when told to).
        using var guesser = system.GatewayFrom("127.0.0.4");
        foreach (var operation in api)
        {
            var path = victim.Fill(operation.Path);
            var body = operation.HasBody ? PublicApi.BodyFor(operation) : null;
            Func<HttpContent?> content = () => body is null ? null : JsonContent.Create(body);

            findings.Expect(operation, "without a key", await Api.SendAsync(operation.Method, path, null, content), 401);
            findings.Expect(operation, "with a wrong key", await Api.SendAsync(operation.Method, path, "sn_live_" + new string('x', 40), content, client: guesser), 401);
            findings.Expect(operation, "with a revoked key", await Api.SendAsync(operation.Method, path, revokedKey, content, client: guesser), 401);
            findings.Expect(operation, "with a key in the wrong scheme", await Api.SendAsync(operation.Method, path, null, content, request =>
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(attacker.Tenant.ApiKey)))), 401);

            if (operation.IsAdmin)
            {
                findings.Expect(operation, "with a tenant's key", await Api.SendAsync(operation.Method, path, attacker.Tenant.ApiKey, content), 403);
            }
            else if (operation.Path.Contains('{') && !operation.Path.StartsWith("/api/agent-templates/", StringComparison.Ordinal))
            {
                findings.Expect(operation, "with another tenant's ids", await Api.SendAsBusinessAsync(operation, path, attacker, content), 404);
            }

            if (!operation.HasBody)
            {
                continue;
            }

            // Bad bodies, sent by someone allowed to call the route on objects of its own.
            var ownPath = attacker.Fill(operation.Path);
            var key = operation.IsAdmin ? SystemFixture.OperatorKey : attacker.Tenant.ApiKey;
            var oversized = Oversized(body!, RequestSizeLimitBytes + 1);
            findings.Expect(operation, "with an oversized body", await Api.SendAsync(operation.Method, ownPath, key, () => Json(oversized)), 413);
            findings.Expect(operation, "with an oversized body streamed without a length", await Api.SendAsync(operation.Method, ownPath, key, () => Json(oversized),
                request => request.Headers.TransferEncodingChunked = true), 413);
            foreach (var (name, text) in MalformedBodies(body!, operation.BodyRequired))
            {
                findings.Expect(operation, $"with {name}", await Api.SendAsync(operation.Method, ownPath, key, () => Json(text)), 400);
            }

            findings.Expect(operation, "with a body that is not JSON", await Api.SendAsync(operation.Method, ownPath, key,
                () => new StringContent("name=Intruso", Encoding.UTF8, "application/x-www-form-urlencoded")), 415, problem: false);
        }

        foreach (var operation in webhooks)
        {
            var form = () => WebhookForm(victim);
            // Past the gateway's first check (a signature is there), so that what is tried is what is wrong.
            Action<HttpRequestMessage> signedLooking = request => request.Headers.Add("X-Twilio-Signature", Convert.ToBase64String(new byte[20]));
            findings.Expect(operation, "unsigned", await Api.SendAsync(operation.Method, operation.Path, null, form), 403);
            findings.Expect(operation, "with a forged signature", await Api.SendAsync(operation.Method, operation.Path, null, form, signedLooking), 403);
            var huge = new string('a', (int)WebhookSizeLimitBytes + 1);
            findings.Expect(operation, "with an oversized body", await Api.SendAsync(operation.Method, operation.Path, null,
                () => new StringContent("Body=" + huge, Encoding.UTF8, "application/x-www-form-urlencoded"), signedLooking), 413);
            findings.Expect(operation, "with an oversized body streamed without a length", await Api.SendAsync(operation.Method, operation.Path, null,
                () => new StringContent("Body=" + huge, Encoding.UTF8, "application/x-www-form-urlencoded"),
                request => { signedLooking(request); request.Headers.TransferEncodingChunked = true; }), 413);
            findings.Expect(operation, "with JSON instead of a form", await Api.SendAsync(operation.Method, operation.Path, null, () => Json("{\"Body\":\"Hola\"}"),
                signedLooking), 400);
        }

        findings.Unchanged(before, await Api.SnapshotAsync(api, victim));
        findings.Unchanged(attackersBefore, await Api.SnapshotAsync(api, attacker));
        findings.AssertNone(minimumChecks: 300);
        Assert.True(before.Count >= 10, $"only {before.Count} reads compared");
    }

    private const long RequestSizeLimitBytes = 1024 * 1024;
    private const long WebhookSizeLimitBytes = 64 * 1024;

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>What Twilio would post about the victim's number: an inbound message and a status callback in one form.</summary>
    private FormUrlEncodedContent WebhookForm(PublicApi.TenantObjects victim) => new(new Dictionary<string, string>
    {
        ["MessageSid"] = "SM" + new string('0', 32), ["AccountSid"] = system.Twilio.AccountSid, ["From"] = "whatsapp:+573001112233",
        ["To"] = "whatsapp:" + victim.Tenant.Phone, ["Body"] = "Hola", ["MessageStatus"] = "delivered",
    });

    /// <summary>The valid body with one string field padded past the limit: the size alone is what is wrong.</summary>
    private static string Oversized(JsonObject body, long size)
    {
        var padded = body.DeepClone().AsObject();
        padded["internalNotes"] = new string('a', (int)size);
        return padded.ToJsonString();
    }

    private static IEnumerable<(string Name, string Text)> MalformedBodies(JsonObject body, bool required)
    {
        yield return ("truncated JSON", body.ToJsonString()[..^1]);
        yield return ("a body that is not JSON at all", "{name: Intruso,,}");
        if (required)
        {
            // Where the document says the body is optional (issuing a key takes none), no body is a valid request.
            yield return ("an empty body", "");
            yield return ("a JSON null", "null");
        }

        yield return ("a JSON array", "[]");
        yield return ("a JSON string", "\"Intruso\"");
        foreach (var (name, value) in body)
        {
            JsonNode wrong = value switch
            {
                JsonValue v when v.GetValueKind() == JsonValueKind.String => JsonValue.Create(12345),
                JsonValue v when v.GetValueKind() == JsonValueKind.Number => JsonValue.Create("mucho"),
                JsonValue => JsonValue.Create("quizás"),
                JsonArray => JsonValue.Create(7),
                _ => JsonValue.Create(false),
            };
            var mutated = body.DeepClone().AsObject();
            mutated[name] = wrong;
            yield return ($"{name} of the wrong type ({wrong.ToJsonString()})", mutated.ToJsonString());
        }
    }
}
