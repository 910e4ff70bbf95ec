using MassTransit;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Routing.Tests;

[Collection(RoutingCollection.Name)]
public sealed class RoutingMessagesTests(RoutingService routing)
{
    [Fact]
    public async Task A_message_to_a_tenants_number_is_routed_to_the_agent_whose_keyword_matched()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var drBot = await routing.AddAgentAsync(tenantId, "DrBot", ["cita"], isDefault: true);
        var urgencias = await routing.AddAgentAsync(tenantId, "Urgencias", ["urgencia", "dolor fuerte"]);
        var phone = await CreateNumberAsync(tenantId, drBot);
        await using var routed = await routing.WatchAsync<InboundMessageRouted>();

        var message = Received(phone, "Tengo un DOLOR FUERTE, es urgente");
        await routing.Bus.Publish(message);

        var decision = await routed.FirstAsync(m => m.InboundMessageId == message.InboundMessageId);
        Assert.Equal((tenantId, ReplyPolicy.Agent, urgencias, true), (decision.TenantId, decision.Reply, decision.ProposedAgentId, decision.MatchedKeyword));
        Assert.Equal((message.Text, message.Sequence, message.CustomerId), (decision.Text, decision.Sequence, decision.CustomerId));
        Assert.Contains("dolor fuerte", decision.ProposalReason);

        // The number's counter stays true.
        await Eventually.TrueAsync(async () =>
        {
            var number = await routing.WithDbAsync(db => db.Numbers.SingleAsync(n => n.PhoneNumber == phone));
            return number.TotalMessages == 1;
        }, "totalMessages of the number to count the message");
    }

    [Fact]
    public async Task A_message_to_an_unknown_number_is_recorded_for_operators_and_not_answered()
    {
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = Received("+14155550100", "hello?");
        await routing.Bus.Publish(message);

        var announced = await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId);
        Assert.Equal("unknown_number", announced.Reason);
        var list = (await routing.OperatorClient().GetFromJsonAsync<JsonNode>("/api/admin/unrouted-messages?pageSize=200"))!;
        Assert.Contains(list["items"]!.AsArray(), m => m!["messageSid"]!.GetValue<string>() == message.MessageSid && m["reason"]!.GetValue<string>() == "unknown_number");
    }

    [Fact]
    public async Task A_message_for_a_tenant_with_CRM_disabled_is_not_routed()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var agent = await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var phone = await CreateNumberAsync(tenantId, agent);
        using (var disable = await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmEnabled = false }))
        {
            disable.EnsureSuccessStatusCode();
        }

        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var message = Received(phone, "hola");
        await routing.Bus.Publish(message);
        Assert.Equal("crm_disabled", (await unrouted.FirstAsync(m => m.InboundMessageId == message.InboundMessageId)).Reason);
    }

    [Fact]
    public async Task An_older_agent_change_arriving_late_does_not_undo_a_newer_one()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var agentId = await routing.AddAgentAsync(tenantId, "DrBot", ["cita"]);
        var now = DateTimeOffset.UtcNow;
        await routing.Bus.Publish(new AgentChanged(tenantId, agentId, "DrBot v3", false, false, [], null, null, false, 3, now));
        await Eventually.TrueAsync(() => routing.WithDbAsync(db => db.Agents.AnyAsync(a => a.AgentId == agentId && a.Revision == 3)), "revision 3 applied");

        var late = NewId.NextGuid();
        await routing.Bus.Publish(new AgentChanged(tenantId, agentId, "DrBot v2", true, false, ["cita"], null, null, false, 2, now),
            context => context.MessageId = late);
        await Eventually.TrueAsync(() => routing.WithDbAsync(db => db.InboxMessages.AnyAsync(m => m.MessageId == late)), "the late change to be handled");
        var agent = await routing.WithDbAsync(db => db.Agents.SingleAsync(a => a.AgentId == agentId));
        Assert.Equal(("DrBot v3", false, 3L), (agent.Name, agent.IsActive, agent.Revision));
    }

    private async Task<string> CreateNumberAsync(string tenantId, string defaultAgentId)
    {
        var phone = "+5730" + Random.Shared.Next(10_000_000, 99_999_999);
        using var response = await routing.ClientFor(tenantId).PostAsJsonAsync("/api/numbers", new { phoneNumber = phone, displayName = "Citas", defaultAgentId });
        response.EnsureSuccessStatusCode();
        return phone;
    }

    private static WhatsAppMessageReceived Received(string to, string text) => new(
        "in_" + Guid.NewGuid().ToString("N")[..12], "SM" + Guid.NewGuid().ToString("N"), "AC" + new string('1', 32), to,
        "+573111111111", "+573111111111", "María González", text, [], 1, DateTimeOffset.UtcNow);
}
