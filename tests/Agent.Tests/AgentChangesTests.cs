using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>Changing and deleting agents, one default per tenant, Routing kept current, and the seed's agents as templates.</summary>
[Collection(AgentCollection.Name)]
public sealed class AgentChangesTests(AgentService agent)
{
    [Fact]
    public async Task A_patch_changes_only_the_fields_sent_and_Routing_hears_of_it_with_a_newer_revision()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        await using var changes = await agent.WatchAsync<AgentChanged>();
        var created = await agent.CreateAgentAsync(tenantId, Seed.DrBot());
        var id = created["id"]!.GetValue<string>();
        using var client = agent.ClientFor(tenantId);

        using var response = await client.PatchAsJsonAsync($"/api/agents/{id}", new JsonObject
        {
            ["triggerKeywords"] = new JsonArray("cita", "ortodoncia"),
            ["activeHours"] = "07:00-19:00",
            ["temperature"] = 1.2,
        });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{id}"))!;
        Assert.Equal(1.2, read["temperature"]!.GetValue<double>());
        Assert.Equal(["cita", "ortodoncia"], read["triggerKeywords"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.Equal("07:00", read["activeHours"]!["monday"]![0]!["start"]!.GetValue<string>());
        foreach (var unchanged in new[] { "name", "description", "personalityPrompt", "businessPrompt", "objectivesPrompt", "model", "maxTokensPerMessage", "businessRules", "isDefault" })
        {
            Assert.True(JsonNode.DeepEquals(created[unchanged], read[unchanged]), unchanged);
        }

        Assert.True(read["updatedAt"]!.GetValue<DateTimeOffset>() > created["updatedAt"]!.GetValue<DateTimeOffset>());
        var changed = await changes.FirstAsync(c => c.AgentId == id && c.Revision == 2);
        Assert.Equal(["cita", "ortodoncia"], changed.TriggerKeywords);
        Assert.Equal([new TimeRange("07:00", "19:00")], changed.ActiveHours!.Sunday);

        // Not a prompt change: the prompt stays at version 1.
        var versions = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{id}/prompts"))!;
        Assert.Equal(1, versions["total"]!.GetValue<int>());

        // Clearing the hours (null) means always active.
        using var cleared = await client.PatchAsJsonAsync($"/api/agents/{id}", new JsonObject { ["activeHours"] = null, ["isActive"] = false });
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        var third = await changes.FirstAsync(c => c.AgentId == id && c.Revision == 3);
        Assert.Null(third.ActiveHours);
        Assert.False(third.IsActive);
    }

    [Fact]
    public async Task Invalid_changes_are_a_400_naming_each_field_and_nothing_changes()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var created = await agent.CreateAgentAsync(tenantId, Seed.DrBot());
        var id = created["id"]!.GetValue<string>();
        using var client = agent.ClientFor(tenantId);

        using var response = await client.PatchAsJsonAsync($"/api/agents/{id}", new JsonObject
        {
            ["temperature"] = 2.5,
            ["maxTokensPerMessage"] = 5000,
            ["activeHours"] = "8-18",
            ["personalityPrompt"] = " ",
        });
        using var wrongType = await client.PatchAsJsonAsync($"/api/agents/{id}", new JsonObject { ["temperature"] = "warm" });
        using var put = await client.PutAsJsonAsync($"/api/agents/{id}", new JsonObject { ["name"] = "Sin prompts" });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal(["activeHours", "maxTokensPerMessage", "personalityPrompt", "temperature"], errors.Select(e => e.Key).Order());
        Assert.Equal(HttpStatusCode.BadRequest, wrongType.StatusCode);
        Assert.Equal("temperature", Assert.Single((await wrongType.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject()).Key);
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode); // a PUT is the whole configuration: the prompts are required
        var read = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{id}"))!;
        Assert.True(JsonNode.DeepEquals(created, read), read.ToJsonString());
        Assert.Single(await agent.PublishedAsync<AgentChanged>(c => c.AgentId == id));
    }

    [Fact]
    public async Task A_put_replaces_the_configuration_and_a_changed_prompt_makes_a_new_active_version()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var id = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();
        using var client = agent.ClientFor(tenantId);
        var body = Seed.DrBot("DrBot Norte");
        body["personalityPrompt"] = "Eres un asistente dental cercano y paciente.";
        body.Remove("description");

        using var response = await client.PutAsJsonAsync($"/api/agents/{id}", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var read = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{id}"))!;
        Assert.Equal(("DrBot Norte", null), (read["name"]!.GetValue<string>(), read["description"]?.GetValue<string>()));
        Assert.True(read["isDefault"]!.GetValue<bool>()); // left out of a PUT: kept
        var versions = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{id}/prompts"))!["items"]!.AsArray();
        Assert.Equal([2, 1], versions.Select(v => v!["version"]!.GetValue<int>()));
        Assert.Equal(("agent_updated", true, "ACTIVE"), (versions[0]!["triggerReason"]!.GetValue<string>(), versions[0]!["isActive"]!.GetValue<bool>(), versions[0]!["status"]!.GetValue<string>()));
        Assert.Contains("cercano y paciente", versions[0]!["systemPrompt"]!.GetValue<string>());
        Assert.Contains("DrBot Norte", versions[0]!["systemPrompt"]!.GetValue<string>());
        Assert.Equal((false, "INACTIVE"), (versions[1]!["isActive"]!.GetValue<bool>(), versions[1]!["status"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Concurrent_changes_of_the_default_leave_exactly_one_default_and_Routing_hears_each_step_down()
    {
        var tenantId = await agent.ProvisionTenantAsync(plan: "enterprise", maxAgents: null);
        var ids = new List<string>();
        for (var i = 0; i < 4; i++)
        {
            ids.Add((await agent.CreateAgentAsync(tenantId, Seed.DrBot($"Bot {i}")))["id"]!.GetValue<string>());
        }

        using var client = agent.ClientFor(tenantId);
        var responses = await Task.WhenAll(ids.Select(id => client.PatchAsJsonAsync($"/api/agents/{id}", new JsonObject { ["isDefault"] = true })));

        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        var agents = (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["items"]!.AsArray();
        var defaultId = Assert.Single(agents, a => a!["isDefault"]!.GetValue<bool>())!["id"]!.GetValue<string>();
        // What Routing last heard of each agent (its highest revision) agrees with the stored state.
        foreach (var id in ids)
        {
            var last = (await agent.PublishedAsync<AgentChanged>(c => c.AgentId == id)).MaxBy(c => c.Revision)!;
            Assert.Equal(id == defaultId, last.IsDefault);
        }
    }

    [Fact]
    public async Task Deleting_an_agent_removes_it_tells_Routing_and_frees_its_place_in_the_plan()
    {
        var tenantId = await agent.ProvisionTenantAsync(plan: "basic", maxAgents: 1);
        var stranger = await agent.ProvisionTenantAsync();
        var id = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();
        using var client = agent.ClientFor(tenantId);

        Assert.Equal(HttpStatusCode.NotFound, (await agent.ClientFor(stranger).DeleteAsync($"/api/agents/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/agents/{id}")).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/agents/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/agents/{id}/prompts")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/agents/{id}")).StatusCode);
        var events = await agent.PublishedAsync<AgentChanged>(c => c.AgentId == id);
        var deleted = Assert.Single(events, c => c.Deleted);
        Assert.Equal(events.Max(c => c.Revision), deleted.Revision);
        Assert.True(deleted.Revision > 1);
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync("/api/agents", Seed.Urgencias())).StatusCode);
    }

    [Fact]
    public async Task The_seeds_example_agents_are_templates_and_an_agent_is_created_from_one_with_the_fields_given_replacing_its_own()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        using var client = agent.ClientFor(tenantId);

        var templates = (await client.GetFromJsonAsync<JsonNode>("/api/agent-templates"))!;
        Assert.Equal(["DrBot", "Urgencias", "ChefBot", "FitBot", "LawBot"], templates["items"]!.AsArray().Select(t => t!["agent"]!["name"]!.GetValue<string>()));
        var chef = (await client.GetFromJsonAsync<JsonNode>("/api/agent-templates/chefbot"))!["agent"]!;
        Assert.True(chef["businessRules"]!["canTakeReservations"]!.GetValue<bool>());
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/agent-templates/nobot")).StatusCode);

        using var response = await client.PostAsJsonAsync("/api/agents", new JsonObject
        {
            ["templateId"] = "ChefBot",
            ["name"] = "ChefBot La Plaza",
            ["businessPrompt"] = "Restaurante La Plaza, cocina española en Medellín. Paella los domingos.",
        });

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.Equal("ChefBot La Plaza", created["name"]!.GetValue<string>());
        Assert.Equal(chef["personalityPrompt"]!.GetValue<string>(), created["personalityPrompt"]!.GetValue<string>());
        Assert.Contains("Paella", created["businessPrompt"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(chef["businessRules"], created["businessRules"]));
        Assert.True(JsonNode.DeepEquals(chef["triggerKeywords"], created["triggerKeywords"]));

        var urgencias = (await agent.CreateAgentAsync(tenantId, new JsonObject { ["templateId"] = "urgencias" }))!;
        Assert.Equal([new JsonObject { ["start"] = "18:00", ["end"] = "08:00" }.ToJsonString()],
            urgencias["activeHours"]!["friday"]!.AsArray().Select(r => r!.ToJsonString()));

        using var unknown = await client.PostAsJsonAsync("/api/agents", new JsonObject { ["templateId"] = "nobot" });
        Assert.Equal(HttpStatusCode.BadRequest, unknown.StatusCode);
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Prompts_and_rules_too_long_for_the_model_are_refused_with_a_400()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        using var client = agent.ClientFor(tenantId);
        var body = Seed.DrBot();
        body["personalityPrompt"] = new string('p', 4000);
        body["businessPrompt"] = new string('b', 8000);
        body["objectivesPrompt"] = new string('o', 4000);
        body["businessRules"] = new JsonObject { ["menu"] = new string('m', 15_900) };

        using var response = await client.PostAsJsonAsync("/api/agents", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("prompts", (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject().Select(e => e.Key));
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["total"]!.GetValue<int>());
    }
}
