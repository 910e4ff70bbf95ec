using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>The seed's plans: free 0 numbers / 1 agent, basic 1 / 1, pro 2 / 3, enterprise 5 / unlimited.</summary>
[Collection(RoutingCollection.Name)]
public sealed class PlansTests(RoutingService routing)
{
    [Theory]
    [InlineData("Free", "free", 0, 1)]
    [InlineData("basic", "basic", 1, 1)]
    [InlineData("PRO", "pro", 2, 3)]
    [InlineData("Enterprise", "enterprise", 5, null)]
    public async Task Each_plan_has_the_seeds_limits_and_parallel_creates_at_the_limit_let_exactly_that_many_through(
        string asked, string plan, int maxNumbers, int? maxAgents)
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: asked);
        using var client = routing.ClientFor(tenantId);

        var own = (await client.GetFromJsonAsync<JsonNode>("/api/tenant"))!;
        Assert.Equal(plan, own["crmPlan"]!.GetValue<string>());
        Assert.Equal(maxNumbers, own["limits"]!["maxWhatsappNumbers"]!.GetValue<int>());
        Assert.Equal(maxAgents, own["limits"]!["maxAgents"]?.GetValue<int>());
        Assert.Equal(0, own["usage"]!["whatsappNumbers"]!.GetValue<int>());

        // Four more requests than the plan allows, all at once.
        var responses = await Task.WhenAll(Enumerable.Range(0, maxNumbers + 4).Select(i =>
            client.PostAsJsonAsync("/api/numbers", new { phoneNumber = RoutingService.NewPhone(), displayName = $"Línea {i}" })));

        Assert.Equal(maxNumbers, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        var refused = responses.Where(r => r.StatusCode != HttpStatusCode.Created).ToList();
        Assert.Equal(4, refused.Count);
        foreach (var response in refused)
        {
            Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
            Assert.EndsWith("plan-limit-exceeded", problem["type"]!.GetValue<string>());
            Assert.Equal((maxNumbers, maxNumbers, plan), (problem["limit"]!.GetValue<int>(), problem["current"]!.GetValue<int>(), problem["plan"]!.GetValue<string>()));
        }

        own = (await client.GetFromJsonAsync<JsonNode>("/api/tenant"))!;
        Assert.Equal(maxNumbers, own["usage"]!["whatsappNumbers"]!.GetValue<int>());
        Assert.Equal(0, own["usage"]!["whatsappNumbersOverLimit"]!.GetValue<int>());
    }

    [Fact]
    public async Task GET_tenant_counts_the_agents_Routing_knows_of()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro");
        await routing.AddAgentAsync(tenantId, "DrBot", ["cita"], isDefault: true);
        await routing.AddAgentAsync(tenantId, "Urgencias", ["urgencia"]);

        var own = (await routing.ClientFor(tenantId).GetFromJsonAsync<JsonNode>("/api/tenant"))!;
        Assert.Equal(2, own["usage"]!["agents"]!.GetValue<int>());
        Assert.Empty(own["notices"]!.AsArray());
    }

    [Fact]
    public async Task A_downgrade_deletes_nothing_the_extra_numbers_stop_answering_and_the_API_says_why()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "enterprise");
        var agent = await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var first = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent });
        var primary = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent, isPrimary = true });
        var third = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent });
        await routing.AddAgentAsync(tenantId, "Ventas", ["precio"]);

        using (var downgrade = await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "basic" }))
        {
            Assert.Equal(HttpStatusCode.OK, downgrade.StatusCode);
        }

        // Agent hears of the new limits and applies the agent limit on its own data.
        var changed = Assert.Single(await routing.PublishedAsync<TenantPlanChanged>(e => e.TenantId == tenantId));
        Assert.Equal(("basic", 1, 1), (changed.Plan, changed.MaxAgents, changed.MaxWhatsappNumbers));

        using var client = routing.ClientFor(tenantId);
        var numbers = (await client.GetFromJsonAsync<JsonNode>("/api/numbers"))!;
        Assert.Equal(3, numbers["total"]!.GetValue<int>()); // nothing deleted
        var status = numbers["items"]!.AsArray().ToDictionary(n => n!["id"]!.GetValue<string>(), n => n!["routingStatus"]!.GetValue<string>());
        Assert.Equal("ANSWERING", status[primary.Id]);             // the primary keeps answering
        Assert.Equal("OVER_PLAN_LIMIT", status[first.Id]);
        Assert.Equal("OVER_PLAN_LIMIT", status[third.Id]);
        var detail = (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{third.Id}"))!["routingStatusDetail"]!.GetValue<string>();
        Assert.Contains("basic plan allows 1", detail);

        var own = (await client.GetFromJsonAsync<JsonNode>("/api/tenant"))!;
        Assert.Equal((3, 2, 2, 1), (own["usage"]!["whatsappNumbers"]!.GetValue<int>(), own["usage"]!["whatsappNumbersOverLimit"]!.GetValue<int>(),
            own["usage"]!["agents"]!.GetValue<int>(), own["usage"]!["agentsOverLimit"]!.GetValue<int>()));
        Assert.Contains(own["notices"]!.AsArray(), n => n!.GetValue<string>().Contains(third.Phone));

        // Customers writing to the primary are answered; those writing to the others are recorded for operators.
        await using var routed = await routing.WatchAsync<InboundMessageRouted>();
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var toPrimary = RoutingService.Received(primary.Phone, "hola");
        var toThird = RoutingService.Received(third.Phone, "hola");
        await routing.Bus.Publish(toPrimary);
        await routing.Bus.Publish(toThird);
        Assert.Equal(agent, (await routed.FirstAsync(m => m.InboundMessageId == toPrimary.InboundMessageId)).ProposedAgentId);
        Assert.Equal("over_plan_limit", (await unrouted.FirstAsync(m => m.InboundMessageId == toThird.InboundMessageId)).Reason);
        var forOperators = (await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/unrouted-messages?tenantId={tenantId}&reason=over_plan_limit"))!;
        Assert.Equal([toThird.MessageSid], forOperators["items"]!.AsArray().Select(m => m!["messageSid"]!.GetValue<string>()));

        // A new number is refused while over the limit; upgrading to pro makes the oldest other number answer again, at once.
        using (var refused = await client.PostAsJsonAsync("/api/numbers", new { phoneNumber = RoutingService.NewPhone(), displayName = "Otra" }))
        {
            Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        }

        (await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "pro" })).EnsureSuccessStatusCode();
        var again = RoutingService.Received(first.Phone, "hola");
        await routing.Bus.Publish(again);
        Assert.Equal(agent, (await routed.FirstAsync(m => m.InboundMessageId == again.InboundMessageId)).ProposedAgentId);
        Assert.Equal("OVER_PLAN_LIMIT", (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{third.Id}"))!["routingStatus"]!.GetValue<string>());
    }

    [Fact]
    public async Task Renaming_a_tenant_publishes_no_plan_change_but_switching_its_CRM_off_does()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro");
        using var admin = routing.OperatorClient();
        (await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { name = "Clínica Sonrisas" })).EnsureSuccessStatusCode();
        Assert.Empty(await routing.PublishedAsync<TenantPlanChanged>(e => e.TenantId == tenantId));

        (await admin.PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmEnabled = false })).EnsureSuccessStatusCode();
        var changed = Assert.Single(await routing.PublishedAsync<TenantPlanChanged>(e => e.TenantId == tenantId));
        Assert.False(changed.CrmEnabled);
        Assert.Contains((await routing.ClientFor(tenantId).GetFromJsonAsync<JsonNode>("/api/tenant"))!["notices"]!.AsArray(),
            n => n!.GetValue<string>().Contains("disabled"));
    }

    [Theory]
    [InlineData("crmPlan", "\"gold\"")]
    [InlineData("crmPlan", "\"\"")]
    [InlineData("timezone", "\"Mars/Olympus\"")]
    [InlineData("timezone", "\"GMT-5\"")]
    [InlineData("timezone", "\"SA Pacific Standard Time\"")]
    [InlineData("name", "\"   \"")]
    public async Task A_bad_change_to_a_tenant_is_a_400_naming_the_field_and_changes_nothing(string field, string json)
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "pro");
        using var admin = routing.OperatorClient();
        var before = await admin.GetStringAsync($"/api/admin/tenants/{tenantId}");

        using var response = await admin.PatchAsync($"/api/admin/tenants/{tenantId}", JsonContent.Create(new JsonObject { [field] = JsonNode.Parse(json) }));
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal([field], (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(before, await admin.GetStringAsync($"/api/admin/tenants/{tenantId}"));
        Assert.Empty(await routing.PublishedAsync<TenantPlanChanged>(e => e.TenantId == tenantId));
    }

    [Fact]
    public async Task Changing_an_unknown_tenant_is_a_404_problem()
    {
        using var response = await routing.OperatorClient().PatchAsJsonAsync("/api/admin/tenants/tnt_nobody", new { crmPlan = "pro" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}
