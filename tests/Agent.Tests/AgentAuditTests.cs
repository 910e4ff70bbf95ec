using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
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
        var caller = new CallerIdentity(tenantId, CallerIdentity.TenantRole, "key_reception_desk");
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
        Assert.All(byTenant, a => Assert.Equal((CallerIdentity.TenantRole, tenantId, "key_reception_desk"), (a.ActorRole, a.ActorTenantId, a.ActorKeyId)));
        var activation = audited.Single(a => a.Action == AuditActions.PromptActivated);
        Assert.Equal((CallerIdentity.OperatorRole, (string?)null), (activation.ActorRole, activation.ActorTenantId));
        Assert.Contains("prompt version 1", activation.Detail);

        // What changed is named, the prompt text itself is not repeated.
        var update = audited.Single(a => a.Action == AuditActions.AgentUpdated);
        Assert.Contains("personalityPrompt", update.Detail);
        Assert.Contains("triggerKeywords", update.Detail);
        Assert.DoesNotContain("amable", update.Detail);
    }
}
