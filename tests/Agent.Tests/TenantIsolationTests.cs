using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;
using static SafeNotify.Crm.Agent.Tests.Seed;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>
/// Isolation in depth: besides the filters in code, Postgres row-level security keeps each tenant's agents,
/// prompts and conversations to itself, so a query that forgets its tenant filter still sees nothing of another tenant.
/// </summary>
[Collection(AgentCollection.Name)]
public sealed class TenantIsolationTests(AgentService agent)
{
    [Fact]
    public async Task A_query_without_a_tenant_filter_sees_none_of_another_tenants_rows_and_cannot_write_them()
    {
        var tenantA = await SeedTenantAsync();
        var tenantB = await SeedTenantAsync();

        var report = await TenantIsolationProbe.ProbeAsync(agent, tenantA, tenantB);

        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Superset(new HashSet<string> { "agent_conversations", "agent_prompts", "ai_agents", "tenant_plans" }, report.Checked.ToHashSet());
    }

    /// <summary>A tenant with a plan, an agent and its prompt, and a conversation the agent answered.</summary>
    private async Task<string> SeedTenantAsync()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, DrBot()))["id"]!.GetValue<string>();
        await using var replies = await agent.WatchAsync<AgentReplyGenerated>();
        var request = ReplyRequest(tenantId, agentId, Customer("Hola"), Customer("¿a qué hora abren el sábado?"));
        await agent.Bus.Publish(request);
        await replies.FirstAsync(r => r.ConversationId == request.ConversationId);
        return tenantId;
    }
}
