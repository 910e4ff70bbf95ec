using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The public API as a client sees it through the gateway, for the tests that try every route: the operations the
/// services' OpenAPI documents describe (with their parameters and body fields), a valid body for each, tenants with
/// one of every object to address, what a tenant reads of its own objects, and one way to send that waits where the
/// gateway asks to. A new route is found here without editing any test.
/// </summary>
public sealed partial class PublicApi(SystemFixture system)
{
    private static readonly string[] Documents = ["routing", "agent", "lead", "metrics", "ingress", "webapp"];

    /// <summary>
    /// A body each operation accepts. An operation that takes a body and is missing here fails the tests: whoever adds a
    /// route says what a valid call looks like, and the matrices try it.
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
        ["POST /api/tenant/api-keys"] = () => new JsonObject(),
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
        ["POST /api/admin/tenants/{id}/staff"] = () => new JsonObject
        {
            ["email"] = $"intruso-{Random.Shared.Next(10_000_000, 99_999_999)}@example.com", ["displayName"] = "Intruso", ["role"] = "OWNER",
        },
        ["POST /api/admin/operators"] = () => new JsonObject { ["email"] = $"intruso-{Random.Shared.Next(10_000_000, 99_999_999)}@example.com", ["displayName"] = "Intruso" },
        ["POST /internal/api-keys/resolve"] = () => new JsonObject { ["apiKey"] = SystemFixture.OperatorKey },
    };

    private static JsonObject AgentBody() => new()
    {
        ["name"] = "Intruso", ["personalityPrompt"] = "Eres un intruso.", ["businessPrompt"] = "Nada.", ["objectivesPrompt"] = "Nada.",
        ["temperature"] = 0.5, ["maxTokensPerMessage"] = 200, ["isActive"] = true,
        ["businessRules"] = new JsonObject { ["canScheduleAppointments"] = false }, ["triggerKeywords"] = new JsonArray("hola"),
    };

    public static JsonObject BodyFor(Operation operation) =>
        ValidBodies.TryGetValue(operation.Key, out var body)
            ? body()
            : throw new InvalidOperationException($"{operation} takes a body: add a valid one to {nameof(ValidBodies)}.");

    /// <summary>Every operation the services' OpenAPI documents describe, as the gateway serves them.</summary>
    public async Task<List<Operation>> OperationsAsync()
    {
        var operations = new List<Operation>();
        foreach (var document in Documents)
        {
            var openApi = (await system.Gateway.GetFromJsonAsync<JsonNode>($"/openapi/{document}.json"))!;
            var schemas = openApi["components"]?["schemas"]?.AsObject();
            foreach (var (path, item) in openApi["paths"]!.AsObject())
            {
                foreach (var (method, operation) in item!.AsObject())
                {
                    if (method is "parameters" or "summary" or "description" or "servers")
                    {
                        continue;
                    }

                    var template = path.Length > 1 ? path.TrimEnd('/') : path;
                    var parameters = (operation!["parameters"]?.AsArray() ?? []).Select(p => new Parameter(
                        p!["name"]!.GetValue<string>(), p["in"]!.GetValue<string>(), Shape.Of(p["schema"], schemas))).ToList();
                    var body = operation["requestBody"];
                    var bodySchema = body?["content"]?.AsObject().FirstOrDefault().Value?["schema"];
                    var fields = Shape.Of(bodySchema, schemas).Fields;
                    operations.Add(new Operation(document, new HttpMethod(method.ToUpperInvariant()), template, body is not null,
                        body?["required"]?.GetValue<bool>() ?? false, parameters, fields));
                }
            }
        }

        Assert.True(operations.Count >= 30, $"only {operations.Count} operations described");
        return operations;
    }

    /// <summary>A tenant with one of each thing the API can address: number, agent, lead, conversation, a second key.</summary>
    public async Task<TenantObjects> ObjectsOfNewTenantAsync(string name, string plan = "pro")
    {
        var tenant = await system.CreateTenantAsync(name, plan: plan);
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

        var owner = await system.CallAsync(HttpMethod.Post, $"/api/admin/tenants/{tenant.Id}/staff", SystemFixture.OperatorKey,
            new { email = $"duena-{Guid.NewGuid():N}@{tenant.Id}.example", displayName = "Dueña", role = "OWNER" }, expected: 201);
        await system.CallAsync(HttpMethod.Post, $"/account/invitations/{owner["invitationLink"]!.GetValue<string>().Split('/')[^1]}", null,
            new { password = "la contraseña de la dueña" }, expected: 204);

        return new TenantObjects(tenant, lead["id"]!.GetValue<string>(), conversation, key["id"]!.GetValue<string>(), template, owner["id"]!.GetValue<string>());
    }

    /// <summary>
    /// What a tenant reads of its own objects: every GET of the API with its ids, and the operator's view of it, once it
    /// has settled (two reads in a row the same): the events of what was done last (a reply's delivery ticks, the
    /// figures) may still be on their way, and a comparison must not take their arrival for a change an attack made.
    /// </summary>
    public async Task<Dictionary<string, string>> SnapshotAsync(IReadOnlyList<Operation> api, TenantObjects owner)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        var previous = await ReadOnceAsync(api, owner);
        while (true)
        {
            await Task.Delay(300);
            var next = await ReadOnceAsync(api, owner);
            if (next.Count == previous.Count && next.All(read => previous.GetValueOrDefault(read.Key) == read.Value))
            {
                return next;
            }

            Assert.True(DateTime.UtcNow < deadline, "the tenant's objects kept changing for 30 s");
            previous = next;
        }
    }

    private async Task<Dictionary<string, string>> ReadOnceAsync(IReadOnlyList<Operation> api, TenantObjects owner)
    {
        var snapshot = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var operation in api.Where(o => o.Method == HttpMethod.Get))
        {
            var path = owner.Fill(operation.Path);
            if (operation.IsAdmin && !operation.Path.StartsWith("/api/admin/tenants/", StringComparison.Ordinal))
            {
                continue; // figures across every tenant move with the other tests' traffic
            }

            if (operation.IsOwnersOnly)
            {
                continue; // no key reads them; the operators' view of the same keys is read
            }

            var key = operation.IsAdmin ? SystemFixture.OperatorKey : owner.Tenant.ApiKey;
            var answer = await SendAsync(HttpMethod.Get, path, key, () => null);
            Assert.True(answer.Status == 200, $"the owner reads {path}: {answer}");
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

    /// <summary>Sends through the gateway (or <paramref name="client"/>), retrying where the gateway asked to wait.</summary>
    /// <summary>
    /// <paramref name="operation"/> called as <paramref name="caller"/>'s business would call it: with its API key through
    /// the gateway, or, for a route of the owners (which no key reaches), as the console calls Routing for its owner.
    /// </summary>
    public async Task<Answer> SendAsBusinessAsync(Operation operation, string path, TenantObjects caller, Func<HttpContent?> content)
    {
        return operation.IsOwnersOnly
            ? await SendAsync(operation.Method, path, null, content, AsOwnerOf(caller), Routing)
            : await SendAsync(operation.Method, path, caller.Tenant.ApiKey, content);
    }

    /// <summary>Adds the identity the console signs for <paramref name="business"/>'s owner.</summary>
    public Action<HttpRequestMessage> AsOwnerOf(TenantObjects business)
    {
        var owner = CallerIdentity.Member(business.Tenant.Id, TenantRole.Owner, business.StaffId, "Dueña");
        return request => request.Headers.Add(CallerIdentity.Header, _console.Value.Create(owner));
    }

    /// <summary>Routing, straight: where the console calls the owners' routes.</summary>
    public HttpClient Routing => _routing.Value;

    private readonly Lazy<IdentitySigner> _console = new(system.ConsoleSigner);
    private readonly Lazy<HttpClient> _routing = new(() => system.App.CreateHttpClient("routing"));

    public async Task<Answer> SendAsync(HttpMethod method, string path, string? key, Func<HttpContent?> content, Action<HttpRequestMessage>? adjust = null,
        HttpClient? client = null)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = new HttpRequestMessage(method, path);
            if (key is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            }

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
    public sealed record Operation(string Service, HttpMethod Method, string Path, bool HasBody, bool BodyRequired,
        IReadOnlyList<Parameter> Parameters, IReadOnlyList<Field> BodyFields)
    {
        public Operation(string service, HttpMethod method, string path, bool hasBody, bool bodyRequired)
            : this(service, method, path, hasBody, bodyRequired, [], [])
        {
        }

        public string Key => $"{Method} {Path}";

        public bool IsAdmin => Path.StartsWith("/api/admin/", StringComparison.Ordinal) || Path == "/api/admin";

        /// <summary>A route for the business's owners in the console, which no API key reaches (its keys).</summary>
        public bool IsOwnersOnly => Path.StartsWith("/api/tenant/api-keys", StringComparison.Ordinal);

        public override string ToString() => Key;
    }

    /// <summary>A path or query parameter.</summary>
    public sealed record Parameter(string Name, string In, Shape Shape);

    /// <summary>A field of a JSON body.</summary>
    public sealed record Field(string Name, Shape Shape);

    /// <summary>
    /// What a value looks like, read from an OpenAPI schema: its kind (<c>string</c>, <c>integer</c>, <c>number</c>,
    /// <c>boolean</c>, <c>array</c>, <c>object</c>, or <c>any</c> where the schema leaves it open), its format and enum
    /// values, and an object's fields.
    /// </summary>
    public sealed record Shape(string Kind, string? Format, IReadOnlyList<string> Enum, IReadOnlyList<Field> Fields)
    {
        private static readonly Shape Any = new("any", null, [], []);

        public static Shape Of(JsonNode? schema, JsonObject? schemas, int depth = 0)
        {
            if (schema is null || depth > 4)
            {
                return Any;
            }

            if (schema["$ref"]?.GetValue<string>() is { } reference)
            {
                return Of(schemas?[reference.Split('/')[^1]], schemas, depth + 1);
            }

            if ((schema["oneOf"] ?? schema["anyOf"]) is { } choices)
            {
                var chosen = choices.AsArray().FirstOrDefault(c => c?["type"]?.ToString() != "null");
                return Of(chosen, schemas, depth + 1);
            }

            var types = schema["type"] switch
            {
                JsonArray many => many.Select(t => t!.GetValue<string>()).ToList(),
                JsonValue one => [one.GetValue<string>()],
                _ => [],
            };
            // Numbers may also be written as strings (the web defaults read both): the number is what the field is.
            var kind = new[] { "integer", "number", "boolean", "array", "object", "string" }.FirstOrDefault(types.Contains)
                ?? (schema["properties"] is not null ? "object" : "any");
            var enumValues = schema["enum"]?.AsArray().Select(v => v?.ToString() ?? "").ToList() ?? [];
            var fields = (schema["properties"]?.AsObject() ?? []).Select(p => new Field(p.Key, Of(p.Value, schemas, depth + 1))).ToList();
            return new Shape(kind, schema["format"]?.GetValue<string>(), enumValues, fields);
        }
    }

    public sealed record Answer(int Status, string? MediaType, string Body, string? Location = null)
    {
        public override string ToString() => $"{Status} {MediaType} {(Body.Length > 300 ? Body[..300] + "…" : Body)}";
    }

    public sealed partial record TenantObjects(TestTenant Tenant, string LeadId, string ConversationId, string KeyId, string TemplateId, string StaffId)
    {
        /// <summary>The values that name this tenant's objects: none of them may appear in an answer to another tenant.</summary>
        public IReadOnlyList<string> Ids => [Tenant.Id, Tenant.NumberId, Tenant.AgentId, Tenant.Phone, LeadId, ConversationId, KeyId, StaffId];

        /// <summary>The route with this tenant's ids in place of its parameters.</summary>
        public string Fill(string template) => Fill(template, _ => null);

        /// <summary>The route with this tenant's ids in place of its parameters, except where <paramref name="replace"/> gives a value.</summary>
        public string Fill(string template, Func<string, string?> replace) => ParameterPattern().Replace(template, match =>
        {
            var name = match.Groups["name"].Value;
            return replace(name) ?? name switch
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
                "id" when template.StartsWith("/api/admin/staff/", StringComparison.Ordinal) => StaffId,
                _ => throw new InvalidOperationException($"{template}: which object is {{{name}}}? Teach {nameof(Fill)}."),
            };
        });

        [GeneratedRegex(@"\{(?<name>[A-Za-z]+)(:[^}]*)?\}")]
        private static partial Regex ParameterPattern();
    }
}

/// <summary>What a matrix found: every check is counted, every failure kept, and all are reported together at the end.</summary>
public sealed class Findings
{
    private const string ProblemJson = "application/problem+json";
    private readonly List<string> _failures = [];
    private int _checks;

    public int Count => _checks;

    public void Expect(PublicApi.Operation operation, string attack, PublicApi.Answer answer, int status, bool problem = true)
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
            Check(after.TryGetValue(read, out var now) && now == was, () => $"{read} changed:\n  before {was}\n  after  {after.GetValueOrDefault(read)}");
        }
    }

    public void AssertNone(int minimumChecks)
    {
        Assert.True(_failures.Count == 0, $"{_failures.Count} of {_checks} checks failed:\n" + string.Join("\n", _failures.Take(200)));
        Assert.True(_checks > minimumChecks, $"only {_checks} checks made");
    }
}
