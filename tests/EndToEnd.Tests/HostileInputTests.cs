using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Input no client should send, answered as a client's mistake: a 400 problem naming the field (or a 409 for a race
/// lost), nothing written. Each case here once made a service answer 500; <see cref="FuzzingTests"/> keeps the rest.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class HostileInputTests(SystemFixture system)
{
    private PublicApi Api { get; } = new(system);

    [Fact]
    public async Task A_nul_character_anywhere_in_a_json_body_is_a_400_naming_the_field_and_nothing_is_written()
    {
        var userId = $"user-nul-{Random.Shared.Next(1_000_000, 9_999_999)}";
        var answer = await SendJsonAsync(HttpMethod.Post, "/api/admin/tenants", SystemFixture.OperatorKey,
            $$"""{"safeNotifyUserId":"{{userId}}","name":"Clínica\u0000Nula","crmPlan":"pro","timezone":"America/Bogota"}""");
        AssertFieldError(answer, "name", "NUL");
        var listed = await system.CallAsync(HttpMethod.Get, $"/api/admin/tenants?safeNotifyUserId={userId}", SystemFixture.OperatorKey);
        Assert.Equal(0, listed["total"]!.GetValue<int>());

        var tenant = await system.CreateTenantAsync("Clínica de las Claves Nulas");
        AssertFieldError(await SendJsonAsync(HttpMethod.Patch, $"/api/agents/{tenant.AgentId}", tenant.ApiKey,
            """{"businessRules":{"horario":"08:00-18:00","\u0000":true}}"""), "businessRules", "NUL");
        AssertFieldError(await SendJsonAsync(HttpMethod.Patch, $"/api/agents/{tenant.AgentId}", tenant.ApiKey,
            """{"triggerKeywords":["cita","urg\u0000encia"]}"""), "triggerKeywords[1]", "NUL");
    }

    [Fact]
    public async Task A_lone_surrogate_in_a_json_string_is_a_400_naming_the_field()
    {
        var tenant = await system.CreateTenantAsync("Clínica Sustituta");
        AssertFieldError(await SendJsonAsync(HttpMethod.Post, "/api/agents", tenant.ApiKey,
            """{"name":"Dr\ud800Bot","personalityPrompt":"a","businessPrompt":"b","objectivesPrompt":"c"}"""), "name", "Unicode");
        AssertFieldError(await SendJsonAsync(HttpMethod.Patch, $"/api/numbers/{tenant.NumberId}", tenant.ApiKey,
            """{"webhookUrl":"https://clinica.example/\udc00"}"""), "webhookUrl", "Unicode");
        var agent = await system.CallAsync(HttpMethod.Get, $"/api/agents/{tenant.AgentId}", tenant.ApiKey);
        Assert.Equal("DrBot", agent["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_nul_character_in_a_query_filter_is_a_400_naming_the_parameter()
    {
        var tenant = await system.CreateTenantAsync("Clínica del Filtro");
        AssertFieldError(await SendJsonAsync(HttpMethod.Get, "/api/leads?search=ana%00", tenant.ApiKey), "search", "NUL");
        AssertFieldError(await SendJsonAsync(HttpMethod.Get, "/api/conversations?assignedTo=%00", tenant.ApiKey), "assignedTo", "NUL");
        AssertFieldError(await SendJsonAsync(HttpMethod.Get, "/api/admin/audit?action=%00", SystemFixture.OperatorKey), "action", "NUL");
    }

    [Theory]
    [InlineData("page=2147483647&pageSize=2147483647", "pageSize")]
    [InlineData("page=2147483647&pageSize=200", "page")]
    [InlineData("page=0", "page")]
    [InlineData("pageSize=0", "pageSize")]
    public async Task A_page_out_of_range_is_a_400_naming_the_field_on_every_list(string query, string field)
    {
        var tenant = await system.CreateTenantAsync("Clínica Paginada");
        foreach (var list in new[] { "/api/leads", "/api/conversations", "/api/agents", "/api/numbers", $"/api/agents/{tenant.AgentId}/prompts" })
        {
            AssertFieldError(await SendJsonAsync(HttpMethod.Get, $"{list}?{query}", tenant.ApiKey), field, "");
        }

        foreach (var list in new[] { "/api/admin/tenants", "/api/admin/audit", "/api/admin/unrouted-messages", "/api/admin/outbound-messages" })
        {
            AssertFieldError(await SendJsonAsync(HttpMethod.Get, $"{list}?{query}", SystemFixture.OperatorKey), field, "");
        }
    }

    [Fact]
    public async Task A_key_twice_in_one_json_object_is_a_400_naming_the_key_also_when_it_differs_only_in_case()
    {
        var tenant = await system.CreateTenantAsync("Clínica Repetida");
        AssertFieldError(await SendJsonAsync(HttpMethod.Post, "/api/agents", tenant.ApiKey,
            """{"name":"a","name":"b","personalityPrompt":"a","businessPrompt":"b","objectivesPrompt":"c"}"""), "name", "more than once");
        AssertFieldError(await SendJsonAsync(HttpMethod.Patch, $"/api/agents/{tenant.AgentId}", tenant.ApiKey,
            """{"name":"a","Name":"b"}"""), "Name", "more than once");
        AssertFieldError(await SendJsonAsync(HttpMethod.Patch, $"/api/agents/{tenant.AgentId}", tenant.ApiKey,
            """{"businessRules":{"horario":"a","horario":"b"}}"""), "businessRules.horario", "more than once");
        var agents = await system.CallAsync(HttpMethod.Get, "/api/agents", tenant.ApiKey);
        Assert.Equal(1, agents["total"]!.GetValue<int>());
        Assert.Equal("DrBot", agents["items"]![0]!["name"]!.GetValue<string>());
    }

    /// <summary>
    /// Twelve callers change one object at once, on every route that changes an object: each gets its answer (2xx, a 404
    /// once a delete won, a 409 such as <c>concurrent-change</c>), never a 500.
    /// </summary>
    [Fact]
    public async Task Twelve_concurrent_changes_to_one_object_on_every_route_answer_2xx_404_or_409_never_500()
    {
        var operations = (await Api.OperationsAsync())
            .Where(o => o.Path.StartsWith("/api/", StringComparison.Ordinal) && o.Path.Contains('{') && o.Method != HttpMethod.Get)
            .OrderBy(o => o.Method == HttpMethod.Delete).ToList();
        Assert.Contains(operations, o => o.Key == "PATCH /api/conversations/{id}");
        var tenant = await Api.ObjectsOfNewTenantAsync("Clínica Concurrida", plan: "enterprise");
        var failures = new List<string>();
        foreach (var operation in operations)
        {
            var answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(_ =>
            {
                var body = operation.HasBody ? PublicApi.BodyFor(operation) : null;
                Func<HttpContent?> content = () => body is null ? null : new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
                return operation.IsAdmin
                    ? Api.SendAsync(operation.Method, tenant.Fill(operation.Path), SystemFixture.OperatorKey, content)
                    : Api.SendAsBusinessAsync(operation, tenant.Fill(operation.Path), tenant, content);
            }));
            failures.AddRange(answers.Where(a => a.Status is not (>= 200 and < 300 or 404 or 409) || (a.Status >= 400 && a.MediaType != "application/problem+json"))
                .Select(a => $"{operation}: {a}"));
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private async Task<PublicApi.Answer> SendJsonAsync(HttpMethod method, string path, string key, string? json = null) =>
        await Api.SendAsync(method, path, key, () => json is null ? null : new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json")));

    private static void AssertFieldError(PublicApi.Answer answer, string field, string saying)
    {
        Assert.True(answer.Status == 400, $"expected 400 naming {field}, got {answer}");
        Assert.Equal("application/problem+json", answer.MediaType);
        var errors = JsonNode.Parse(answer.Body)!["errors"]?.AsObject();
        Assert.True(errors is not null && errors.ContainsKey(field), $"expected an error for {field}: {answer}");
        Assert.Contains(saying, string.Join(" ", errors[field]!.AsArray().Select(m => m!.GetValue<string>())), StringComparison.OrdinalIgnoreCase);
    }
}
