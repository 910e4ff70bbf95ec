using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>Every member reads the business's AI agents; only admins and owners (and API keys) configure them, and the trail names who did.</summary>
[Collection(AgentCollection.Name)]
public sealed class MemberRolesTests(AgentService agent)
{
    [Fact]
    public async Task An_advisor_reads_the_agents_but_only_an_admin_configures_them_and_the_audit_names_the_admin()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        using var advisor = agent.MemberClient(tenantId, TenantRole.Agent, "staff_advisor", "Lucía Gómez");
        using (var refused = await advisor.PostAsJsonAsync("/api/agents", Seed.DrBot()))
        {
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        }

        using var admin = agent.MemberClient(tenantId, TenantRole.Admin, "staff_admin", "Jorge Ruiz");
        using var created = await admin.PostAsJsonAsync("/api/agents", Seed.DrBot());
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var agentId = (await created.Content.ReadFromJsonAsync<JsonNode>())!["id"]!.GetValue<string>();

        using (var list = await advisor.GetAsync("/api/agents"))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        }

        using (var one = await advisor.GetAsync($"/api/agents/{agentId}"))
        {
            Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        }

        foreach (var (method, path) in new[] { (HttpMethod.Patch, $"/api/agents/{agentId}"), (HttpMethod.Delete, $"/api/agents/{agentId}"),
                     (HttpMethod.Get, $"/api/agents/{agentId}/prompts"), (HttpMethod.Get, "/api/agent-templates") })
        {
            using var request = new HttpRequestMessage(method, path) { Content = method == HttpMethod.Patch ? JsonContent.Create(new { name = "Otro" }) : null };
            using var response = await advisor.SendAsync(request);
            Assert.True(response.StatusCode == HttpStatusCode.Forbidden, $"{method} {path}: {(int)response.StatusCode}");
        }

        var audited = Assert.Single(await agent.PublishedAsync<AuditRecorded>(a => a.TargetId == agentId && a.Action == AuditActions.AgentCreated));
        Assert.Equal((CallerIdentity.AdminRole, "staff_admin", "Jorge Ruiz", (string?)null), (audited.ActorRole, audited.ActorStaffId, audited.ActorStaffName, audited.ActorKeyId));
    }
}
