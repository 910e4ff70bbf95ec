using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;
using static SafeNotify.Crm.Agent.Tests.Seed;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>Lead asks for a reply on the broker; Agent answers with AgentReplyGenerated or AgentReplyFailed (Offline provider).</summary>
[Collection(AgentCollection.Name)]
public sealed class ReplyWritingTests(AgentService agent)
{
    [Fact]
    public async Task A_reply_request_gets_the_agents_reply_covering_every_customer_message_up_to_its_sequence()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, DrBot()))["id"]!.GetValue<string>();
        await using var replies = await agent.WatchAsync<AgentReplyGenerated>();
        var request = ReplyRequest(tenantId, agentId, Customer("Hola"), Customer("QUIERO UNA CITA para limpieza"), Customer("¿a qué hora abren?"));

        await agent.Bus.Publish(request);

        var reply = await replies.FirstAsync(r => r.ConversationId == request.ConversationId);
        Assert.Equal((tenantId, agentId, 3L, 1), (reply.TenantId, reply.AgentId, reply.BasedOnSequence, reply.PromptVersion));
        Assert.Equal(request.UpToSequence, reply.BasedOnSequence);
        Assert.Contains("DrBot", reply.Text);                       // the agent introduces itself,
        Assert.Contains("María", reply.Text);                       // greets the customer by name,
        Assert.All(Specialties, s => Assert.Contains(s, reply.Text)); // answers the booking from its rules
        Assert.Contains(WorkingHours, reply.Text);                  // and the hours, in the same reply
        Assert.Equal(OfflineResponder.ModelName, reply.Model);
        Assert.True(reply.PromptTokens > 0 && reply.CompletionTokens > 0);
        Assert.Equal(0m, reply.EstimatedCost);                       // the offline responder is free
        Assert.False(reply.NeedsHuman);

        // The agent's usage figures count the reply.
        var read = (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/agents/{agentId}"))!;
        Assert.Equal(reply.PromptTokens + reply.CompletionTokens, read["totalTokensUsed"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_customer_asking_for_a_person_gets_a_reply_that_says_a_human_is_needed()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, DrBot()))["id"]!.GetValue<string>();
        await using var replies = await agent.WatchAsync<AgentReplyGenerated>();
        var request = ReplyRequest(tenantId, agentId, Customer("Hola"), Bot("¡Hola! Soy DrBot. ¿En qué te puedo ayudar?"), Customer("quiero hablar con una persona"));

        await agent.Bus.Publish(request);

        var reply = await replies.FirstAsync(r => r.ConversationId == request.ConversationId);
        Assert.True(reply.NeedsHuman);
        Assert.Equal(2, reply.BasedOnSequence);
    }

    [Fact]
    public async Task The_same_reply_request_delivered_twice_gets_one_reply()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var agentId = (await agent.CreateAgentAsync(tenantId, DrBot()))["id"]!.GetValue<string>();
        await using var replies = await agent.WatchAsync<AgentReplyGenerated>();
        var request = ReplyRequest(tenantId, agentId, Customer("Hola, quiero una cita"));
        var messageId = NewId.NextGuid();

        // A redelivery (same message id), even one arriving while the first is being handled.
        await Task.WhenAll(
            agent.Bus.Publish(request, c => c.MessageId = messageId),
            agent.Bus.Publish(request, c => c.MessageId = messageId));
        await agent.Consumed.WaitAsync(messageId, times: 2);

        Assert.Single(await agent.PublishedAsync<AgentReplyGenerated>(r => r.ConversationId == request.ConversationId));
        Assert.Empty(await agent.PublishedAsync<AgentReplyFailed>(r => r.ConversationId == request.ConversationId));
        await replies.FirstAsync(r => r.ConversationId == request.ConversationId);
        await Eventually.TrueAsync(() => agent.WithDbAsync(db => db.OutboxMessages.AllAsync(m => m.DispatchedAt != null)), "the outbox to be dispatched");
        Assert.Single(replies.Where(r => r.ConversationId == request.ConversationId));

        // And its usage is counted once.
        var reply = replies.Where(r => r.ConversationId == request.ConversationId)[0];
        var read = (await agent.ClientFor(tenantId).GetFromJsonAsync<JsonNode>($"/api/agents/{agentId}"))!;
        Assert.Equal(reply.PromptTokens + reply.CompletionTokens, read["totalTokensUsed"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_reply_request_for_an_unknown_inactive_or_other_tenants_agent_fails_instead_of_answering()
    {
        var tenantId = await agent.ProvisionTenantAsync();
        var otherTenant = await agent.ProvisionTenantAsync();
        var inactiveBody = DrBot("Dormido");
        inactiveBody["isActive"] = false;
        var inactive = (await agent.CreateAgentAsync(tenantId, inactiveBody))["id"]!.GetValue<string>();
        var othersAgent = (await agent.CreateAgentAsync(otherTenant, DrBot()))["id"]!.GetValue<string>();
        await using var failures = await agent.WatchAsync<AgentReplyFailed>();

        foreach (var agentId in new[] { "agt_does_not_exist", inactive, othersAgent })
        {
            var request = ReplyRequest(tenantId, agentId, Customer("Hola"), Customer("¿cuánto cuesta?"));
            var messageId = NewId.NextGuid();
            await agent.Bus.Publish(request, c => c.MessageId = messageId);

            var failed = await failures.FirstAsync(f => f.ConversationId == request.ConversationId);
            Assert.Equal((tenantId, agentId, 2L), (failed.TenantId, failed.AgentId, failed.BasedOnSequence));
            Assert.False(string.IsNullOrWhiteSpace(failed.Reason));
            await agent.Consumed.WaitAsync(messageId);
            Assert.Empty(await agent.PublishedAsync<AgentReplyGenerated>(r => r.ConversationId == request.ConversationId));
        }

        Assert.Equal(0, await agent.WithDbAsync(db => db.Agents.Where(a => a.Id == othersAgent).Select(a => a.TotalTokensUsed).SingleAsync()));
    }
}
