using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Routing.Tests;

[Collection(RoutingCollection.Name)]
public sealed class NumbersTests(RoutingService routing)
{
    [Fact]
    public async Task A_number_is_created_with_the_seeds_fields_and_read_back()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var agentId = await routing.AddAgentAsync(tenantId, "DrBot", ["cita"], isDefault: true);
        using var client = routing.ClientFor(tenantId);
        var phone = NewPhone();

        using var created = await client.PostAsJsonAsync("/api/numbers", new
        {
            phoneNumber = phone,
            displayName = "Citas generales",
            webhookUrl = "https://clinica.example/crm-events",
            businessHours = new { monday = new[] { new { start = "08:00", end = "12:00" }, new { start = "14:00", end = "18:00" } }, closedDates = new[] { "2026-12-25" } },
            defaultAgentId = agentId,
            autoReply = false,
        });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        var number = (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!;
        Assert.Equal(phone, number["phoneNumber"]!.GetValue<string>());
        Assert.Equal("America/Bogota", number["timezone"]!.GetValue<string>());
        Assert.True(number["isPrimary"]!.GetValue<bool>());              // the first number becomes the primary one
        Assert.False(number["autoReply"]!.GetValue<bool>());
        Assert.Equal(agentId, number["defaultAgentId"]!.GetValue<string>());
        Assert.Equal("14:00", number["businessHours"]!["monday"]![1]!["start"]!.GetValue<string>());
        Assert.Equal("2026-12-25", number["businessHours"]!["closedDates"]![0]!.GetValue<string>());
    }

    [Fact]
    public async Task Concurrent_creates_never_pass_the_plans_number_limit()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro"); // 2 numbers
        using var client = routing.ClientFor(tenantId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i =>
            client.PostAsJsonAsync("/api/numbers", new { phoneNumber = NewPhone(), displayName = $"Línea {i}" })));

        Assert.Equal(2, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToList();
        Assert.Equal(4, refused.Count);
        var problem = (await refused[0].Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.EndsWith("plan-limit-exceeded", problem["type"]!.GetValue<string>());
        Assert.Equal((2, 2, "pro"), (problem["limit"]!.GetValue<int>(), problem["current"]!.GetValue<int>(), problem["plan"]!.GetValue<string>()));
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_phone_number_belongs_to_one_tenant_only()
    {
        var (first, _) = await routing.CreateTenantAsync();
        var (second, _) = await routing.CreateTenantAsync();
        var phone = NewPhone();
        using var created = await routing.ClientFor(first).PostAsJsonAsync("/api/numbers", new { phoneNumber = phone, displayName = "Mine" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using var taken = await routing.ClientFor(second).PostAsJsonAsync("/api/numbers", new { phoneNumber = phone, displayName = "Also mine" });
        await AssertProblemAsync(taken, HttpStatusCode.Conflict, "number-exists");

        // Changing another number to that phone is refused alike.
        var (otherId, _) = await routing.CreateNumberAsync(second);
        using var changed = await routing.ClientFor(second).PatchAsJsonAsync($"/api/numbers/{otherId}", new { phoneNumber = phone });
        await AssertProblemAsync(changed, HttpStatusCode.Conflict, "number-exists");
        Assert.Equal(1, await routing.WithDbAsync(db => db.Numbers.CountAsync(n => n.PhoneNumber == phone)));
    }

    [Fact]
    public async Task Two_tenants_creating_the_same_phone_at_the_same_moment_get_one_201_one_409_problem_and_one_number()
    {
        // Neither tenant can see the other's numbers (row-level security): the unique index alone decides.
        var (first, _) = await routing.CreateTenantAsync(plan: "enterprise");
        var (second, _) = await routing.CreateTenantAsync(plan: "enterprise");
        var phones = Enumerable.Range(0, 4).Select(_ => NewPhone()).ToList();

        var responses = await Task.WhenAll(phones.SelectMany(phone => new[] { first, second }.Select(async tenant =>
            (phone, tenant, response: await routing.ClientFor(tenant).PostAsJsonAsync("/api/numbers", new { phoneNumber = phone, displayName = "Citas" })))));

        foreach (var phone in phones)
        {
            var forPhone = responses.Where(r => r.phone == phone).ToList();
            var created = Assert.Single(forPhone, r => r.response.StatusCode == HttpStatusCode.Created);
            var refused = Assert.Single(forPhone, r => r.response.StatusCode != HttpStatusCode.Created);
            await AssertProblemAsync(refused.response, HttpStatusCode.Conflict, "number-exists");
            var rows = await routing.WithDbAsync(db => db.Numbers.Where(n => n.PhoneNumber == phone).Select(n => n.TenantId).ToListAsync());
            Assert.Equal([created.tenant], rows);
        }
    }

    [Fact]
    public async Task Invalid_fields_are_a_400_naming_each_one_and_nothing_is_stored()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var client = routing.ClientFor(tenantId);
        using var response = await client.PostAsJsonAsync("/api/numbers", new
        {
            phoneNumber = "3001234567",
            displayName = "",
            timezone = "Bogota",
            webhookUrl = "not a url",
            businessHours = "25:00-26:00",
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal(["businessHours", "displayName", "phoneNumber", "timezone", "webhookUrl"], errors.Select(e => e.Key).Order());
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_default_agent_routing_has_not_heard_of_is_a_409_to_retry_not_a_500()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var response = await routing.ClientFor(tenantId).PostAsJsonAsync("/api/numbers", new { phoneNumber = NewPhone(), displayName = "Citas", defaultAgentId = "agt_unknown" });
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);
    }

    [Fact]
    public async Task Another_tenants_number_is_404_for_reading_changing_and_deleting()
    {
        var (owner, _) = await routing.CreateTenantAsync();
        var (stranger, _) = await routing.CreateTenantAsync();
        using var created = await routing.ClientFor(owner).PostAsJsonAsync("/api/numbers", new { phoneNumber = NewPhone(), displayName = "Privada" });
        var id = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        using var client = routing.ClientFor(stranger);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/numbers/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PatchAsJsonAsync($"/api/numbers/{id}", new { displayName = "x" })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/numbers/{id}")).StatusCode);
        Assert.Equal("Privada", (await routing.ClientFor(owner).GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!["displayName"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_tenant_has_at_most_one_primary_number()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var client = routing.ClientFor(tenantId);
        using var first = await client.PostAsJsonAsync("/api/numbers", new { phoneNumber = NewPhone(), displayName = "Uno" });
        using var second = await client.PostAsJsonAsync("/api/numbers", new { phoneNumber = NewPhone(), displayName = "Dos", isPrimary = true });
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);

        var numbers = (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["items"]!.AsArray();
        Assert.Equal(["Dos"], numbers.Where(n => n!["isPrimary"]!.GetValue<bool>()).Select(n => n!["displayName"]!.GetValue<string>()));
    }

    [Fact]
    public async Task PATCH_isPrimary_true_moves_the_primary_to_that_number_and_a_downgrade_then_keeps_that_one_answering()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro");
        using var client = routing.ClientFor(tenantId);
        var (first, _) = await routing.CreateNumberAsync(tenantId);
        var (second, _) = await routing.CreateNumberAsync(tenantId);
        Assert.Equal([first], await PrimariesAsync(client));

        using var moved = await client.PatchAsJsonAsync($"/api/numbers/{second}", new { isPrimary = true });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        Assert.True((await moved.Content.ReadFromJsonAsync<JsonNode>())!["isPrimary"]!.GetValue<bool>());
        Assert.Equal([second], await PrimariesAsync(client));
        Assert.False((await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{first}"))!["isPrimary"]!.GetValue<bool>());

        (await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "basic" })).EnsureSuccessStatusCode();
        Assert.Equal("ANSWERING", (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{second}"))!["routingStatus"]!.GetValue<string>());
        Assert.Equal("OVER_PLAN_LIMIT", (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{first}"))!["routingStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task Numbers_made_primary_and_the_primary_deleted_at_the_same_moment_leave_exactly_one_primary_and_never_a_500()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "enterprise");
        using var client = routing.ClientFor(tenantId);
        var ids = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            ids.Add((await routing.CreateNumberAsync(tenantId)).Id);
        }

        for (var round = 0; round < 3; round++)
        {
            // Every number asks to be primary at once, the current primary included; in the last round the primary is also deleted.
            var primary = (await PrimariesAsync(client)).Single();
            var requests = ids.Select(id => client.PatchAsJsonAsync($"/api/numbers/{id}", new { isPrimary = true })).ToList();
            if (round == 2)
            {
                requests.Add(client.DeleteAsync($"/api/numbers/{primary}"));
                ids.Remove(primary);
            }

            foreach (var response in await Task.WhenAll(requests))
            {
                if (response.StatusCode == HttpStatusCode.Conflict)
                {
                    await AssertProblemAsync(response, HttpStatusCode.Conflict, "primary-number-conflict");
                }
                else
                {
                    Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.NoContent or HttpStatusCode.NotFound,
                        $"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }

            var primaries = await PrimariesAsync(client);
            Assert.Single(primaries);
            Assert.Contains(primaries[0], ids);
            Assert.Equal(1, await routing.WithDbAsync(db => db.Numbers.CountAsync(n => n.TenantId == tenantId && n.IsPrimary)));
        }
    }

    private static async Task<List<string>> PrimariesAsync(HttpClient client) =>
        (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!["items"]!.AsArray()
            .Where(n => n!["isPrimary"]!.GetValue<bool>()).Select(n => n!["id"]!.GetValue<string>()).ToList();

    /// <summary>A problem response of <paramref name="status"/> whose type names <paramref name="kind"/>.</summary>
    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string kind)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"expected {(int)status}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.EndsWith(kind, JsonNode.Parse(body)!["type"]!.GetValue<string>());
    }

    [Fact]
    public async Task PATCH_changes_only_the_given_fields_and_null_clears_a_field()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        using var client = routing.ClientFor(tenantId);
        using var created = await client.PostAsJsonAsync("/api/numbers", new { phoneNumber = NewPhone(), displayName = "Citas", webhookUrl = "https://a.example/hook", businessHours = "08:00-18:00" });
        var id = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        using var patched = await client.PatchAsync($"/api/numbers/{id}", JsonContent.Create(new JsonObject { ["displayName"] = "Reservas", ["webhookUrl"] = null }));
        Assert.Equal(HttpStatusCode.OK, patched.StatusCode);
        var number = (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{id}"))!;
        Assert.Equal("Reservas", number["displayName"]!.GetValue<string>());
        Assert.Null(number["webhookUrl"]);
        Assert.NotNull(number["businessHours"]); // untouched
    }

    private static string NewPhone() => "+5730" + Random.Shared.Next(10_000_000, 99_999_999);
}
