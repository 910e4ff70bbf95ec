using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>Agent changes and prompt activations are written to the audit trail with the change, saying who made them.</summary>
[Collection(AgentCollection.Name)]
public sealed class AgentAuditTests(AgentService agent)
{
    [Fact]
    public async Task Creating_changing_activating_and_deleting_an_agent_each_leave_one_audit_record_with_who_and_what()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var caller = CallerIdentity.ApiKey(tenantId, "key_reception_desk");
        using var client = agent.ClientAs(caller);

        using var created = await client.PostAsJsonAsync("/api/agents", Seed.DrBot());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var agentId = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        using (var patch = await client.PatchAsJsonAsync($"/api/agents/{agentId}", new { personalityPrompt = "Eres amable y breve.", triggerKeywords = new[] { "cita" } }))
        {
            Assert.Equal(HttpStatusCode.OK, patch.StatusCode);
        }

        using (var same = await client.PatchAsJsonAsync($"/api/agents/{agentId}", new { triggerKeywords = new[] { "cita" } }))
        {
            Assert.Equal(HttpStatusCode.OK, same.StatusCode); // nothing changed: nothing to audit
        }

        using (var stranger = agent.ClientFor(await agent.ProvisionTenantAsync()))
        using (var refused = await stranger.PatchAsJsonAsync($"/api/agents/{agentId}", new { name = "Robado" }))
        {
            Assert.Equal(HttpStatusCode.NotFound, refused.StatusCode);
        }

        using (var rollback = await agent.ClientAs(new CallerIdentity(null, CallerIdentity.OperatorRole)).PostAsync($"/api/agents/{agentId}/prompts/1/activate", null))
        {
            Assert.Equal(HttpStatusCode.OK, rollback.StatusCode);
        }

        using (var deleted = await client.DeleteAsync($"/api/agents/{agentId}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        var audited = await agent.PublishedAsync<AuditRecorded>(a => a.TargetId == agentId);
        Assert.Equal([AuditActions.AgentCreated, AuditActions.AgentUpdated, AuditActions.PromptActivated, AuditActions.AgentDeleted],
            audited.Select(a => a.Action));
        Assert.All(audited, a => Assert.Equal(("agent", tenantId, "agent"), (a.TargetType, a.TenantId, a.Service)));

        var byTenant = audited.Where(a => a.Action != AuditActions.PromptActivated).ToList();
        Assert.All(byTenant, a => Assert.Equal((CallerIdentity.AdminRole, tenantId, "key_reception_desk"), (a.ActorRole, a.ActorTenantId, a.ActorKeyId)));
        var activation = audited.Single(a => a.Action == AuditActions.PromptActivated);
        Assert.Equal((CallerIdentity.OperatorRole, (string?)null), (activation.ActorRole, activation.ActorTenantId));
        Assert.Contains("prompt version 1", activation.Detail);

        // What changed is named, the prompt text itself is not repeated.
        var update = audited.Single(a => a.Action == AuditActions.AgentUpdated);
        Assert.Contains("personalityPrompt", update.Detail);
        Assert.Contains("triggerKeywords", update.Detail);
        Assert.DoesNotContain("amable", update.Detail);
    }

    [Fact]
    public async Task An_evolved_prompt_version_that_goes_live_on_its_own_is_audited_as_the_systems_doing()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, Seed.DrBot()))["id"]!.GetValue<string>();
        string[] said = ["¿Cuánto cuesta la limpieza?", "quiero una cita", "¿a qué hora abren?", "¿dónde están?", "¿hacen ortodoncia?"];

        await agent.HandledAsync(Seed.ReplyRequest(tenantId, agentId, [.. said.Select(Seed.Customer)]));

        var evolved = Assert.Single(await agent.PublishedAsync<AuditRecorded>(a => a.TargetId == agentId && a.ActorRole == AuditExtensions.SystemActor));
        Assert.Equal((AuditActions.PromptActivated, "agent", tenantId, "agent"), (evolved.Action, evolved.TargetType, evolved.TenantId, evolved.Service));
        Assert.Equal(((string?)null, (string?)null), (evolved.ActorTenantId, evolved.ActorKeyId));
        Assert.Contains("prompt version 2", evolved.Detail);
        Assert.All(said.Append(Seed.PersonalityPrompt).Append("prices"), text => Assert.DoesNotContain(text, evolved.Detail)); // no customer words, no prompt text

        // Pinned by hand, the next evolved version stays inactive: nothing went live, nothing more is audited for the system.
        using (var pin = await agent.ClientFor(tenantId).PostAsync($"/api/agents/{agentId}/prompts/1/activate", null))
        {
            Assert.Equal(HttpStatusCode.OK, pin.StatusCode);
        }

        await agent.HandledAsync(Seed.ReplyRequest(tenantId, agentId, [.. said.Select(Seed.Customer)]));
        Assert.Equal(3, (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/agents/{agentId}/prompts"))!["total"]!.GetValue<int>());
        Assert.Single(await agent.PublishedAsync<AuditRecorded>(a => a.TargetId == agentId && a.ActorRole == AuditExtensions.SystemActor));
    }
}
