using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
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
        Assert.Equal(HttpStatusCode.Conflict, taken.StatusCode);
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
