using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;
using static SafeNotify.Crm.Agent.Tests.Seed;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>A tenant erases a customer (Lead's CustomerDataErasureRequested): Agent forgets what it kept of that customer's conversations.</summary>
[Collection(AgentCollection.Name)]
public sealed class CustomerDataErasureTests(AgentService agent)
{
    [Fact]
    public async Task Erasing_a_customer_deletes_the_questions_kept_from_their_conversations_and_the_sent_replies_left_in_the_outbox()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var otherTenant = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, DrBot()))["id"]!.GetValue<string>();
        var othersAgent = (await agent.CreateAgentAsync(otherTenant, DrBot()))["id"]!.GetValue<string>();
        var erased = new[]
        {
            ReplyRequest(tenantId, agentId, Customer("¿Cuánto cuesta la limpieza? Soy Lucía Ramírez")),
            ReplyRequest(tenantId, agentId, Customer("quiero una cita para el martes")),
        };
        var kept = ReplyRequest(tenantId, agentId, Customer("¿a qué hora abren?"));
        // Another tenant's conversation under the same id (ids are random, so only a test can make one): not this erasure's.
        var othersSameId = ReplyRequest(otherTenant, othersAgent, Customer("¿dónde están?")) with { ConversationId = erased[0].ConversationId };
        foreach (var request in erased.Append(kept).Append(othersSameId))
        {
            await agent.HandledAsync(request);
        }

        var keys = erased.Append(kept).Append(othersSameId).Select(r => OrderingKeys.Conversation(r.TenantId, r.NumberId, r.ConversationId)).ToList();
        await Eventually.TrueAsync(() => agent.WithDbAsync(db => db.OutboxMessages.Where(m => keys.Contains(m.OrderingKey)).AllAsync(m => m.DispatchedAt != null)),
            "the replies to be sent");
        Assert.Equal(2, await SamplesAsync(tenantId, erased));

        var erasure = new CustomerDataErasureRequested(tenantId, "whatsapp:+573001112233", "lead_lucia", DateTimeOffset.UtcNow)
        {
            ConversationIds = [.. erased.Select(r => r.ConversationId)],
        };
        await agent.HandledAsync(erasure);
        await agent.HandledAsync(erasure); // a second request (or a redelivery under another id) finds nothing more to do

        Assert.Equal(0, await SamplesAsync(tenantId, erased));
        Assert.Equal(1, await SamplesAsync(tenantId, [kept]));
        Assert.Equal(1, await SamplesAsync(otherTenant, [othersSameId]));
        var left = await agent.WithDbAsync(db => db.OutboxMessages.Where(m => keys.Contains(m.OrderingKey)).Select(m => m.OrderingKey).ToListAsync());
        Assert.Equal(keys.Skip(2).Order(), left.Distinct().Order());
        Assert.Empty(await agent.PublishedAsync<AgentReplyGenerated>(r => r.TenantId == tenantId && erased.Any(e => e.ConversationId == r.ConversationId)));

        // The agent's figures hold no personal data and stay.
        var read = (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/agents/{agentId}"))!;
        Assert.Equal(3, read["totalConversations"]!.GetValue<int>());
    }

    private Task<int> SamplesAsync(string tenantId, IEnumerable<ReplyRequested> conversations)
    {
        var ids = conversations.Select(r => r.ConversationId).ToList();
        return agent.WithDbAsync(db => db.QuestionSamples.CountAsync(s => s.TenantId == tenantId && ids.Contains(s.ConversationId!)));
    }
}
