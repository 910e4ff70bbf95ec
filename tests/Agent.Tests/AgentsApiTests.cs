using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Agent.Tests;

[Collection(AgentCollection.Name)]
public sealed class AgentsApiTests(AgentService agent)
{
    [Fact]
    public async Task An_agent_created_with_the_seeds_fields_reads_back_the_same()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        using var client = agent.ClientFor(tenantId);

        using var response = await client.PostAsJsonAsync("/api/agents", Seed.DrBot());
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
        var id = created["id"]!.GetValue<string>();
        Assert.Equal($"/api/agents/{id}", response.Headers.Location!.OriginalString);

        var read = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{id}"))!;
        var sent = Seed.DrBot();
        foreach (var field in new[] { "name", "description", "role", "personalityPrompt", "businessPrompt", "objectivesPrompt", "model" })
        {
            Assert.Equal(sent[field]!.GetValue<string>(), read[field]!.GetValue<string>());
        }

        Assert.Equal(0.4, read["temperature"]!.GetValue<double>());
        Assert.Equal(300, read["maxTokensPerMessage"]!.GetValue<int>());
        Assert.True(JsonNode.DeepEquals(sent["businessRules"], read["businessRules"]), read["businessRules"]!.ToJsonString());
        Assert.Equal(["cita", "dolor", "limpieza"], read["triggerKeywords"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.True(read["isActive"]!.GetValue<bool>());
        Assert.True(read["isDefault"]!.GetValue<bool>()); // the tenant's first agent is its default
        Assert.Null(read["activeHours"]);                  // no hours: always active
        Assert.Equal(0, read["totalTokensUsed"]!.GetValue<long>());
        foreach (var (field, value) in created.AsObject())
        {
            Assert.True(JsonNode.DeepEquals(value, read[field]), $"{field}: POST said {value?.ToJsonString()}, GET says {read[field]?.ToJsonString()}");
        }

        var list = (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!;
        Assert.Equal(1, list["total"]!.GetValue<int>());
        Assert.Equal(id, list["items"]![0]!["id"]!.GetValue<string>());
    }

    [Fact]
    public async Task Invalid_fields_are_a_400_naming_each_one_and_nothing_is_stored()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        using var client = agent.ClientFor(tenantId);
        var body = Seed.DrBot();
        body["temperature"] = 3;
        body["name"] = "";
        body["maxTokensPerMessage"] = 0;
        body["activeHours"] = "25:00-08:00";

        using var response = await client.PostAsJsonAsync("/api/agents", body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal(["activeHours", "maxTokensPerMessage", "name", "temperature"], errors.Select(e => e.Key).Order());
        Assert.Contains("25:00", errors["activeHours"]![0]!.GetValue<string>()); // says what is wrong
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["total"]!.GetValue<int>());
    }

    [Theory]
    [InlineData("temperature", 0.0, true)]
    [InlineData("temperature", 2.0, true)]
    [InlineData("temperature", -0.1, false)]
    [InlineData("temperature", 2.1, false)]
    [InlineData("maxTokensPerMessage", 15, false)]
    [InlineData("maxTokensPerMessage", 16, true)]
    [InlineData("maxTokensPerMessage", 4096, true)]
    [InlineData("maxTokensPerMessage", 4097, false)]
    public async Task Temperature_and_the_reply_token_limit_are_accepted_up_to_their_bounds_and_refused_past_them(string field, double value, bool accepted)
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();
        using var client = agent.ClientFor(tenantId);
        JsonNode sent = field == "temperature" ? JsonValue.Create(value) : JsonValue.Create((int)value);
        var before = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{agentId}"))![field]!.GetValue<double>();

        using var response = await client.PatchAsJsonAsync($"/api/agents/{agentId}", new JsonObject { [field] = sent });

        var read = (await client.GetFromJsonAsync<JsonNode>($"/api/agents/{agentId}"))![field]!.GetValue<double>();
        if (accepted)
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal(value, read);
        }
        else
        {
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
            Assert.Equal([field], errors.Select(e => e.Key));
            Assert.Equal(before, read); // unchanged
        }
    }

    [Fact]
    public async Task The_gateways_own_identity_is_refused_on_every_agent_route()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();
        using var gateway = agent.GatewayClient();

        // The gateway signs an identity for its one internal call (resolving keys); it is neither a tenant nor an operator.
        using var prompts = await gateway.GetAsync($"/api/agents/{agentId}/prompts");
        using var activate = await gateway.PostAsync($"/api/agents/{agentId}/prompts/1/activate", null);
        using var read = await gateway.GetAsync($"/api/agents/{agentId}");

        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden], new[] { prompts.StatusCode, activate.StatusCode, read.StatusCode });
        Assert.Equal("application/problem+json", prompts.Content.Headers.ContentType!.MediaType);
        Assert.Empty(await agent.PublishedAsync<AuditRecorded>(a => a.TargetId == agentId && a.Action == AuditActions.PromptActivated));
    }

    [Theory]
    [InlineData("""{"name":"DrBot","temperature":"hot"}""")]
    [InlineData("""{"name":"DrBot","businessRules":["not","an","object"]}""")]
    [InlineData("""{"name":"DrBot","triggerKeywords":"cita"}""")]
    [InlineData("""{"name":"DrBot","activeHours":5}""")]
    [InlineData("""{"name":"DrBot","activeHours":{"monday":[{"start":"08:00"}]}}""")]
    [InlineData("""{"name":"DrBot","triggerKeywords":["cita",null]}""")]
    [InlineData("""null""")]
    [InlineData("""{"name": """)]
    public async Task A_malformed_body_is_a_400_problem_never_a_500(string json)
    {
        var tenantId = await agent.ProvisionTenantAsync();
        using var client = agent.ClientFor(tenantId);

        using var response = await client.PostAsync("/api/agents", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task The_seeds_activeHours_string_means_those_hours_every_day()
    {
        var tenantId = await agent.ProvisionTenantAsync();

        var created = await agent.CreateAgentAsync(tenantId, Seed.Urgencias());

        var read = (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/agents/{created["id"]}"))!;
        var hours = read["activeHours"]!;
        foreach (var day in new[] { "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday" })
        {
            var ranges = hours[day]!.AsArray();
            Assert.Single(ranges);
            Assert.Equal(("18:00", "08:00"), (ranges[0]!["start"]!.GetValue<string>(), ranges[0]!["end"]!.GetValue<string>()));
        }
    }

    [Fact]
    public async Task Concurrent_creates_never_pass_the_plans_agent_limit()
    {
        var tenantId = await agent.ProvisionTenantAsync(plan: "pro", maxAgents: 3);
        using var client = agent.ClientFor(tenantId);

        var responses = await Task.WhenAll(Enumerable.Range(0, 6).Select(i => client.PostAsJsonAsync("/api/agents", Seed.DrBot($"Bot {i}"))));

        Assert.Equal(3, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        var refused = responses.Where(r => r.StatusCode == HttpStatusCode.Conflict).ToList();
        Assert.Equal(3, refused.Count);
        foreach (var response in refused)
        {
            var problem = (await response.Content.ReadFromJsonAsync<JsonNode>())!;
            Assert.EndsWith("plan-limit-exceeded", problem["type"]!.GetValue<string>());
            Assert.Equal((3, 3, "pro"), (problem["limit"]!.GetValue<int>(), problem["current"]!.GetValue<int>(), problem["plan"]!.GetValue<string>()));
        }

        var agents = (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!;
        Assert.Equal(3, agents["total"]!.GetValue<int>());
        Assert.Single(agents["items"]!.AsArray(), a => a!["isDefault"]!.GetValue<bool>()); // exactly one became the default
    }

    [Fact]
    public async Task An_agent_for_a_tenant_Agent_has_not_heard_of_is_a_409_to_retry_and_works_once_it_has()
    {
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        using var client = agent.ClientFor(tenantId);

        using var early = await client.PostAsJsonAsync("/api/agents", Seed.DrBot());
        Assert.Equal(HttpStatusCode.Conflict, early.StatusCode);
        Assert.NotNull(early.Headers.RetryAfter);

        await agent.HandledAsync(new TenantProvisioned(tenantId, "user-1", "Restaurante La Plaza", true, "basic", 1, 1, "America/Bogota", DateTimeOffset.UtcNow));
        using var retried = await client.PostAsJsonAsync("/api/agents", Seed.DrBot());
        Assert.Equal(HttpStatusCode.Created, retried.StatusCode);
    }

    [Fact]
    public async Task A_plan_change_moves_the_limit_and_an_older_change_arriving_late_does_not_undo_it()
    {
        var start = DateTimeOffset.UtcNow;
        var tenantId = await agent.ProvisionTenantAsync(plan: "basic", maxAgents: 1, at: start);
        using var client = agent.ClientFor(tenantId);
        await agent.CreateAgentAsync(tenantId, Seed.DrBot());
        using (var overLimit = await client.PostAsJsonAsync("/api/agents", Seed.Urgencias()))
        {
            Assert.Equal(HttpStatusCode.Conflict, overLimit.StatusCode);
        }

        await agent.HandledAsync(new TenantPlanChanged(tenantId, true, "enterprise", null, 5, "America/Bogota", start.AddMinutes(2)));
        await agent.HandledAsync(new TenantPlanChanged(tenantId, true, "basic", 1, 1, "America/Bogota", start.AddMinutes(1)));

        using var second = await client.PostAsJsonAsync("/api/agents", Seed.Urgencias());
        using var third = await client.PostAsJsonAsync("/api/agents", Seed.DrBot("Recepción"));
        Assert.Equal(HttpStatusCode.Created, second.StatusCode);
        Assert.Equal(HttpStatusCode.Created, third.StatusCode); // enterprise: no limit
    }

    [Fact]
    public async Task After_a_downgrade_below_its_agents_every_existing_agent_keeps_answering_and_only_a_new_one_is_refused()
    {
        var start = DateTimeOffset.UtcNow;
        var tenantId = await agent.ProvisionTenantAsync(plan: "pro", maxAgents: 3, at: start);
        using var client = agent.ClientFor(tenantId);
        var ids = new List<string>();
        foreach (var name in new[] { "DrBot", "Urgencias", "Recepción" })
        {
            ids.Add((await agent.CreateAgentAsync(tenantId, Seed.DrBot(name)))["id"]!.GetValue<string>());
        }

        await agent.HandledAsync(new TenantPlanChanged(tenantId, true, "basic", 1, 1, "America/Bogota", start.AddMinutes(1)));

        // Nothing is deleted or switched off: the three are listed, active, and each still writes replies.
        var listed = (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["items"]!.AsArray();
        Assert.Equal(ids.Order(), listed.Select(a => a!["id"]!.GetValue<string>()).Order());
        Assert.All(listed, a => Assert.True(a!["isActive"]!.GetValue<bool>()));
        await using var replies = await agent.WatchAsync<AgentReplyGenerated>();
        foreach (var id in ids)
        {
            var request = Seed.ReplyRequest(tenantId, id, Seed.Customer("Hola, quiero una cita"));
            await agent.Bus.Publish(request);
            Assert.Equal(id, (await replies.FirstAsync(r => r.ConversationId == request.ConversationId)).AgentId);
        }

        // A fourth agent is over the basic plan's one.
        using var refused = await client.PostAsJsonAsync("/api/agents", Seed.DrBot("Ventas"));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType!.MediaType);
        var problem = (await refused.Content.ReadFromJsonAsync<JsonNode>())!;
        Assert.EndsWith("plan-limit-exceeded", problem["type"]!.GetValue<string>());
        Assert.Equal((1, 3, "basic"), (problem["limit"]!.GetValue<int>(), problem["current"]!.GetValue<int>(), problem["plan"]!.GetValue<string>()));
        Assert.Equal(3, (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["total"]!.GetValue<int>());
    }

    [Fact]
    public async Task Another_tenants_agent_and_its_prompts_are_404()
    {
        var owner = await agent.ProvisionTenantAsync();
        var stranger = await agent.ProvisionTenantAsync();
        var id = (await agent.CreateAgentAsync(owner, Seed.DrBot()))["id"]!.GetValue<string>();

        using var client = agent.ClientFor(stranger);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/agents/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/agents/{id}/prompts")).StatusCode);
        Assert.Equal(0, (await client.GetFromJsonAsync<JsonNode>("/api/agents"))!["total"]!.GetValue<int>());
        Assert.Equal(HttpStatusCode.OK, (await agent.ClientFor(owner).GetAsync($"/api/agents/{id}")).StatusCode);
    }

    [Fact]
    public async Task A_call_without_the_gateways_identity_is_401()
    {
        using var client = agent.CreateClient();
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/agents")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.PostAsJsonAsync("/api/agents", Seed.DrBot())).StatusCode);
    }

    [Fact]
    public async Task Creating_an_agent_tells_Routing_what_it_needs_to_choose_it()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        await using var changes = await agent.WatchAsync<AgentChanged>();

        var body = Seed.Urgencias();
        body["businessRules"] = new JsonObject { ["outOfHoursMessage"] = "Estamos cerrados; te escribimos mañana a las 8." };
        var id = (await agent.CreateAgentAsync(tenantId, body))["id"]!.GetValue<string>();

        var changed = await changes.FirstAsync(c => c.AgentId == id);
        Assert.Equal("Estamos cerrados; te escribimos mañana a las 8.", changed.OutOfHoursMessage);
        Assert.Equal((tenantId, "Urgencias", true, true, false), (changed.TenantId, changed.Name, changed.IsActive, changed.IsDefault, changed.Deleted));
        Assert.Equal(["urgencia", "dolor fuerte", "emergencia"], changed.TriggerKeywords);
        Assert.Equal([new TimeRange("18:00", "08:00")], changed.ActiveHours!.Friday);
        Assert.Equal(1, changed.Revision);
    }

    [Fact]
    public async Task A_new_default_agent_makes_the_previous_one_stop_being_default_and_Routing_hears_of_it()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        await using var changes = await agent.WatchAsync<AgentChanged>();
        var first = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();

        var body = Seed.Urgencias();
        body["isDefault"] = true;
        var second = (await agent.CreateAgentAsync(tenantId, body))["id"]!.GetValue<string>();

        using var client = agent.ClientFor(tenantId);
        Assert.False((await client.GetFromJsonAsync<JsonNode>($"/api/agents/{first}"))!["isDefault"]!.GetValue<bool>());
        Assert.True((await client.GetFromJsonAsync<JsonNode>($"/api/agents/{second}"))!["isDefault"]!.GetValue<bool>());

        var steppedDown = await changes.FirstAsync(c => c.AgentId == first && !c.IsDefault);
        Assert.Equal(2, steppedDown.Revision); // newer than its creation, so Routing applies it
        Assert.True((await changes.FirstAsync(c => c.AgentId == second)).IsDefault);
    }

    [Fact]
    public async Task A_new_agent_has_prompt_version_1_active_composed_from_its_configuration()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var id = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();

        var versions = (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/agents/{id}/prompts"))!;

        Assert.Equal(1, versions["total"]!.GetValue<int>());
        var v1 = Assert.Single(versions["items"]!.AsArray())!;
        Assert.Equal(1, v1["version"]!.GetValue<int>());
        Assert.True(v1["isActive"]!.GetValue<bool>());
        Assert.Equal("ACTIVE", v1["status"]!.GetValue<string>());
        Assert.Equal("initial", v1["triggerReason"]!.GetValue<string>());
        var systemPrompt = v1["systemPrompt"]!.GetValue<string>();
        Assert.Contains(Seed.PersonalityPrompt, systemPrompt);
        Assert.Contains(Seed.BusinessPrompt, systemPrompt);
        Assert.Contains(Seed.ObjectivesPrompt, systemPrompt);
        Assert.Contains(Seed.WorkingHours, systemPrompt);
        Assert.True(await agent.WithDbAsync(db => db.Prompts.CountAsync(p => p.AgentId == id && p.IsActive)) == 1);
    }
}
