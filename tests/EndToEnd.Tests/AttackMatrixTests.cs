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
    private const string ProblemJson = "application/problem+json";
    private static readonly string[] Documents = ["routing", "agent", "lead", "metrics", "ingress"];

    /// <summary>
    /// A body each operation accepts. An operation that takes a body and is missing here fails the test: whoever adds a
    /// route says what a valid call looks like, and the matrix tries it.
    /// </summary>
    private static readonly Dictionary<string, Func<JsonObject>> ValidBodies = new(StringComparer.Ordinal)
    {
        ["POST /api/admin/tenants"] = () => new JsonObject
        {
            ["safeNotifyUserId"] = $"user-{Random.Shared.Next(10_000_000, 99_999_999)}", ["name"] = "Intruso S.A.S.",
            ["crmPlan"] = "pro", ["timezone"] = "America/Bogota",
        },
        ["PATCH /api/admin/tenants/{id}"] = () => new JsonObject { ["name"] = "Secuestrada", ["crmPlan"] = "basic", ["crmEnabled"] = false },
        ["POST /api/admin/tenants/{id}/api-keys"] = () => new JsonObject(),
        ["POST /api/numbers"] = () => new JsonObject { ["phoneNumber"] = $"+57310{Random.Shared.Next(1_000_000, 9_999_999)}", ["displayName"] = "Otra" },
        ["PATCH /api/numbers/{id}"] = () => new JsonObject { ["displayName"] = "Secuestrado", ["isActive"] = false },
        ["POST /api/agents"] = AgentBody,
        ["PUT /api/agents/{id}"] = AgentBody,
        ["PATCH /api/agents/{id}"] = () => new JsonObject { ["name"] = "Secuestrado", ["isActive"] = false, ["temperature"] = 0.1 },
        ["POST /api/leads"] = () => new JsonObject { ["phone"] = $"+57320{Random.Shared.Next(1_000_000, 9_999_999)}", ["name"] = "Intruso" },
        ["PUT /api/leads/settings"] = () => new JsonObject { ["conversationIdleSeconds"] = 900, ["gradeAThreshold"] = 90 },
        ["PATCH /api/tenant/settings"] = () => new JsonObject { ["burstWindowSeconds"] = 3, ["gradeAThreshold"] = 85 },
        ["PATCH /api/leads/{id}"] = () => new JsonObject { ["name"] = "Secuestrado", ["scoreChange"] = 10, ["scoreReason"] = "ataque" },
        ["PATCH /api/conversations/{id}"] = () => new JsonObject { ["internalNotes"] = "secuestrada", ["satisfactionRating"] = 1 },
        ["POST /api/conversations/{id}/messages"] = () => new JsonObject { ["body"] = "Mensaje de un intruso", ["assignedToUser"] = "intruso" },
        ["POST /api/conversations/{id}/handoff"] = () => new JsonObject { ["assignedToUser"] = "intruso", ["reason"] = "ataque" },
        ["POST /internal/api-keys/resolve"] = () => new JsonObject { ["apiKey"] = SystemFixture.OperatorKey },
    };

    private static JsonObject AgentBody() => new()
    {
        ["name"] = "Intruso", ["personalityPrompt"] = "Eres un intruso.", ["businessPrompt"] = "Nada.", ["objectivesPrompt"] = "Nada.",
        ["temperature"] = 0.5, ["maxTokensPerMessage"] = 200, ["isActive"] = true,
        ["businessRules"] = new JsonObject { ["canScheduleAppointments"] = false }, ["triggerKeywords"] = new JsonArray("hola"),
    };

    [Fact]
    public async Task Every_route_refuses_what_an_attacker_tries_and_nothing_of_the_victim_changes()
    {
        var operations = await PublicOperationsAsync();
        var victim = await ObjectsOfNewTenantAsync("Clínica Víctima");
        var attacker = await ObjectsOfNewTenantAsync("Taller Atacante");
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

        var before = await SnapshotAsync(api, victim);
        var findings = new Findings();
        // Wrong keys come from an address of their own: the gateway limits them per address (and the matrix waits when told to).
        using var guesser = system.GatewayFrom("127.0.0.4");
        foreach (var operation in api)
        {
            var path = victim.Fill(operation.Path);
            var body = operation.HasBody ? BodyFor(operation) : null;
            Func<HttpContent?> content = () => body is null ? null : JsonContent.Create(body);

            findings.Expect(operation, "without a key", await SendAsync(operation.Method, path, null, content), 401);
            findings.Expect(operation, "with a wrong key", await SendAsync(operation.Method, path, "sn_live_" + new string('x', 40), content, client: guesser), 401);
            findings.Expect(operation, "with a revoked key", await SendAsync(operation.Method, path, revokedKey, content, client: guesser), 401);
            findings.Expect(operation, "with a key in the wrong scheme", await SendAsync(operation.Method, path, null, content, request =>
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(attacker.Tenant.ApiKey)))), 401);

            if (operation.IsAdmin)
            {
                findings.Expect(operation, "with a tenant's key", await SendAsync(operation.Method, path, attacker.Tenant.ApiKey, content), 403);
            }
            else if (operation.Path.Contains('{') && !operation.Path.StartsWith("/api/agent-templates/", StringComparison.Ordinal))
            {
                findings.Expect(operation, "with another tenant's ids", await SendAsync(operation.Method, path, attacker.Tenant.ApiKey, content), 404);
            }

            if (!operation.HasBody)
            {
                continue;
            }

            // Bad bodies, sent by someone allowed to call the route on objects of its own.
            var ownPath = attacker.Fill(operation.Path);
            var key = operation.IsAdmin ? SystemFixture.OperatorKey : attacker.Tenant.ApiKey;
            var oversized = Oversized(body!, RequestSizeLimitBytes + 1);
            findings.Expect(operation, "with an oversized body", await SendAsync(operation.Method, ownPath, key, () => Json(oversized)), 413);
            findings.Expect(operation, "with an oversized body streamed without a length", await SendAsync(operation.Method, ownPath, key, () => Json(oversized),
                request => request.Headers.TransferEncodingChunked = true), 413);
            foreach (var (name, text) in MalformedBodies(body!, operation.BodyRequired))
            {
                findings.Expect(operation, $"with {name}", await SendAsync(operation.Method, ownPath, key, () => Json(text)), 400);
            }

            findings.Expect(operation, "with a body that is not JSON", await SendAsync(operation.Method, ownPath, key,
                () => new StringContent("name=Intruso", Encoding.UTF8, "application/x-www-form-urlencoded")), 415, problem: false);
        }

        foreach (var operation in webhooks)
        {
            var form = () => WebhookForm(victim);
            // Past the gateway's first check (a signature is there), so that what is tried is what is wrong.
            Action<HttpRequestMessage> signedLooking = request => request.Headers.Add("X-Twilio-Signature", Convert.ToBase64String(new byte[20]));
            findings.Expect(operation, "unsigned", await SendAsync(operation.Method, operation.Path, null, form), 403);
            findings.Expect(operation, "with a forged signature", await SendAsync(operation.Method, operation.Path, null, form, signedLooking), 403);
            var huge = new string('a', (int)WebhookSizeLimitBytes + 1);
            findings.Expect(operation, "with an oversized body", await SendAsync(operation.Method, operation.Path, null,
                () => new StringContent("Body=" + huge, Encoding.UTF8, "application/x-www-form-urlencoded"), signedLooking), 413);
            findings.Expect(operation, "with an oversized body streamed without a length", await SendAsync(operation.Method, operation.Path, null,
                () => new StringContent("Body=" + huge, Encoding.UTF8, "application/x-www-form-urlencoded"),
                request => { signedLooking(request); request.Headers.TransferEncodingChunked = true; }), 413);
            findings.Expect(operation, "with JSON instead of a form", await SendAsync(operation.Method, operation.Path, null, () => Json("{\"Body\":\"Hola\"}"),
                signedLooking), 400);
        }

        findings.Unchanged(before, await SnapshotAsync(api, victim));
        findings.AssertNone(minimumChecks: 300);
        Assert.True(before.Count >= 10, $"only {before.Count} reads compared");
    }

    /// <summary>What a matrix found: every check is counted, every failure kept, and all are reported together at the end.</summary>
    private sealed class Findings
    {
        private readonly List<string> _failures = [];
        private int _checks;

        public void Expect(Operation operation, string attack, Answer answer, int status, bool problem = true)
        {
            _checks++;
            if (answer.Status != status || (problem && answer.MediaType != ProblemJson))
            {
                _failures.Add($"{operation} {attack}: expected {status}{(problem ? " problem+json" : "")}, got {answer}");
            }
        }

        /// <summary>Counts a check that passes when <paramref name="passed"/>, described by <paramref name="failure"/> otherwise.</summary>
        public void Check(bool passed, Func<string> failure)
        {
            _checks++;
            if (!passed)
            {
                _failures.Add(failure());
            }
        }

        /// <summary>Every read of <paramref name="before"/> gives the same answer <paramref name="after"/>.</summary>
        public void Unchanged(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after)
        {
            foreach (var (read, was) in before)
            {
                Check(after[read] == was, () => $"{read} changed:\n  before {was}\n  after  {after[read]}");
            }
        }

        public void AssertNone(int minimumChecks)
        {
            Assert.True(_failures.Count == 0, $"{_failures.Count} of {_checks} checks failed:\n" + string.Join("\n", _failures));
            Assert.True(_checks > minimumChecks, $"only {_checks} checks made");
        }
    }

    private const long RequestSizeLimitBytes = 1024 * 1024;
    private const long WebhookSizeLimitBytes = 64 * 1024;

    private static JsonObject BodyFor(Operation operation) =>
        ValidBodies.TryGetValue(operation.Key, out var body)
            ? body()
            : throw new InvalidOperationException($"{operation} takes a body: add a valid one to {nameof(ValidBodies)}.");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    /// <summary>What Twilio would post about the victim's number: an inbound message and a status callback in one form.</summary>
    private FormUrlEncodedContent WebhookForm(TenantObjects victim) => new(new Dictionary<string, string>
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

    private async Task<List<Operation>> PublicOperationsAsync()
    {
        var operations = new List<Operation>();
        foreach (var document in Documents)
        {
            var openApi = (await system.Gateway.GetFromJsonAsync<JsonNode>($"/openapi/{document}.json"))!;
            foreach (var (path, item) in openApi["paths"]!.AsObject())
            {
                foreach (var (method, operation) in item!.AsObject())
                {
                    if (method is "parameters" or "summary" or "description" or "servers")
                    {
                        continue;
                    }

                    var template = path.Length > 1 ? path.TrimEnd('/') : path;
                    operations.Add(new Operation(document, new HttpMethod(method.ToUpperInvariant()), template, operation!["requestBody"] is not null,
                        operation["requestBody"]?["required"]?.GetValue<bool>() ?? false));
                }
            }
        }

        Assert.True(operations.Count >= 30, $"only {operations.Count} operations described");
        return operations;
    }

    /// <summary>What the victim reads of its own objects: every GET of the API with its ids, and the operator's view of it.</summary>
    private async Task<Dictionary<string, string>> SnapshotAsync(IReadOnlyList<Operation> api, TenantObjects victim)
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var operation in api.Where(o => o.Method == HttpMethod.Get))
        {
            var path = victim.Fill(operation.Path);
            if (operation.IsAdmin && !operation.Path.StartsWith("/api/admin/tenants/", StringComparison.Ordinal))
            {
                continue; // figures across every tenant move with the other tests' traffic
            }

            var key = operation.IsAdmin ? SystemFixture.OperatorKey : victim.Tenant.ApiKey;
            var answer = await SendAsync(HttpMethod.Get, path, key, () => null);
            Assert.True(answer.Status == 200, $"the victim reads {path}: {answer}");
            snapshot[path] = Stable(JsonNode.Parse(answer.Body)).ToJsonString();
        }

        return snapshot;
    }

    /// <summary>Leaves out what moves by itself: when a key was last used, what time the figures were computed for.</summary>
    private static JsonNode Stable(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                var copy = new JsonObject();
                foreach (var (name, value) in obj)
                {
                    if (name is not ("lastUsedAt" or "generatedAt" or "exportedAt" or "from" or "to"))
                    {
                        copy[name] = Stable(value);
                    }
                }

                return copy;
            case JsonArray array:
                return new JsonArray(array.Select(Stable).ToArray());
            default:
                return node?.DeepClone() ?? JsonValue.Create("null")!;
        }
    }

    /// <summary>A tenant with one of each thing the API can address: number, agent, lead, conversation, a second key.</summary>
    private async Task<TenantObjects> ObjectsOfNewTenantAsync(string name)
    {
        var tenant = await system.CreateTenantAsync(name);
        var lead = await system.CallAsync(HttpMethod.Post, "/api/leads", tenant.ApiKey,
            new { phone = $"+57315{Random.Shared.Next(1_000_000, 9_999_999)}", name = "Carlos López", internalNotes = "cliente fiel" }, expected: 201);
        var key = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/api-keys", SystemFixture.OperatorKey, new { }, expected: 201);
        var templates = await system.CallAsync(HttpMethod.Get, "/api/agent-templates", tenant.ApiKey);
        var template = (templates["items"] ?? templates).AsArray()[0]!["id"]!.GetValue<string>();

        var customer = $"+57300{Random.Shared.Next(1_000_000, 9_999_999)}";
        await system.SendAsCustomerAsync(customer, tenant.Phone, "Hola, quiero una cita de limpieza");
        string? conversation = null;
        for (var attempt = 0; attempt < 300 && conversation is null; attempt++)
        {
            var list = await system.CallAsync(HttpMethod.Get, "/api/conversations", tenant.ApiKey);
            conversation = list["items"]!.AsArray().FirstOrDefault()?["id"]?.GetValue<string>();
            if (conversation is null)
            {
                await Task.Delay(100);
            }
        }

        Assert.NotNull(conversation);
        // The bot's answer is part of the conversation: wait for it, so that the snapshot does not move under the test.
        for (var attempt = 0; attempt < 300 && (await system.SentToAsync(customer)).Count == 0; attempt++)
        {
            await Task.Delay(100);
        }

        await Task.Delay(1000);
        return new TenantObjects(tenant, lead["id"]!.GetValue<string>(), conversation, key["id"]!.GetValue<string>(), template);
    }

    /// <summary>Sends through the gateway (or <paramref name="client"/>), retrying where the gateway asked to wait.</summary>
    private async Task<Answer> SendAsync(HttpMethod method, string path, string? key, Func<HttpContent?> content, Action<HttpRequestMessage>? adjust = null,
        HttpClient? client = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = system.Request(method, path, key);
            request.Content = content();
            adjust?.Invoke(request);
            HttpResponseMessage response;
            try
            {
                response = await (client ?? system.Gateway).SendAsync(request);
            }
            catch (HttpRequestException ex) when (attempt < 3)
            {
                // A server may close the connection on an oversized streamed body before reading it all.
                _ = ex;
                continue;
            }

            using (response)
            {
                var body = await response.Content.ReadAsStringAsync();
                if ((int)response.StatusCode == 429 && attempt < 50)
                {
                    await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                    continue;
                }

                return new Answer((int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body, response.Headers.Location?.OriginalString);
            }
        }
    }

    /// <summary>One operation of the OpenAPI document of <paramref name="Service"/> (the document and resource are named alike).</summary>
    private sealed record Operation(string Service, HttpMethod Method, string Path, bool HasBody, bool BodyRequired)
    {
        public string Key => $"{Method} {Path}";

        public bool IsAdmin => Path.StartsWith("/api/admin/", StringComparison.Ordinal) || Path == "/api/admin";

        public override string ToString() => Key;
    }

    private sealed record Answer(int Status, string? MediaType, string Body, string? Location = null)
    {
        public override string ToString() => $"{Status} {MediaType} {(Body.Length > 300 ? Body[..300] + "…" : Body)}";
    }

    private sealed partial record TenantObjects(TestTenant Tenant, string LeadId, string ConversationId, string KeyId, string TemplateId)
    {
        /// <summary>The route with this tenant's ids in place of its parameters.</summary>
        public string Fill(string template) => Parameter().Replace(template, match =>
        {
            var name = match.Groups["name"].Value;
            return name switch
            {
                "version" => "1",
                "templateId" => TemplateId,
                "numberId" => Tenant.NumberId,
                "agentId" => Tenant.AgentId,
                "keyId" => KeyId,
                "id" when template.StartsWith("/api/numbers/", StringComparison.Ordinal) => Tenant.NumberId,
                "id" when template.StartsWith("/api/agents/", StringComparison.Ordinal) => Tenant.AgentId,
                "id" when template.StartsWith("/api/leads/", StringComparison.Ordinal) => LeadId,
                "id" when template.StartsWith("/api/conversations/", StringComparison.Ordinal) => ConversationId,
                "id" when template.StartsWith("/api/admin/tenants/", StringComparison.Ordinal) => Tenant.Id,
                _ => throw new InvalidOperationException($"{template}: which object is {{{name}}}? Teach {nameof(Fill)}."),
            };
        });

        [GeneratedRegex(@"\{(?<name>[A-Za-z]+)(:[^}]*)?\}")]
        private static partial Regex Parameter();
    }
}
