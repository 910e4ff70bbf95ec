using MassTransit;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// A number's <c>totalMessages</c> counts every customer message sent to it, answered or not, once; its
/// <c>totalLeads</c> counts every lead it ever made, once, erased or not.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class NumberCountersTests(RoutingService routing)
{
    private static readonly string OwnAccount = "AC" + new string('1', 32);   // the account RoutingService.Received writes from
    private static readonly string OtherAccount = "AC" + new string('9', 32);

    [Fact]
    public async Task Every_message_to_a_number_counts_once_whether_answered_inactive_over_the_plan_or_from_another_Twilio_account()
    {
        var (tenantId, _) = await routing.CreateTenantAsync(plan: "enterprise");
        var agent = await routing.AddAgentAsync(tenantId, "Recepción", [], isDefault: true);
        var answering = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent, twilioSid = OwnAccount });
        var inactive = await routing.CreateNumberAsync(tenantId, new { isActive = false });
        var otherAccount = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent, twilioSid = OtherAccount });
        var overPlan = await routing.CreateNumberAsync(tenantId, new { defaultAgentId = agent });
        // Pro answers on two numbers: the active ones first, the primary, then the oldest; the newest is beyond the plan.
        (await routing.OperatorClient().PatchAsJsonAsync($"/api/admin/tenants/{tenantId}", new { crmPlan = "pro" })).EnsureSuccessStatusCode();

        await using var routed = await routing.WatchAsync<InboundMessageRouted>();
        await using var unrouted = await routing.WatchAsync<InboundMessageUnrouted>();
        var messages = new[] { answering, inactive, otherAccount, overPlan }.ToDictionary(n => n.Id, n => RoutingService.Received(n.Phone, "hola"));
        var messageIds = new Dictionary<string, Guid>();
        foreach (var (numberId, message) in messages)
        {
            messageIds[numberId] = await routing.HandledAsync(message);
        }

        Assert.Equal(agent, (await routed.FirstAsync(m => m.InboundMessageId == messages[answering.Id].InboundMessageId)).ProposedAgentId);
        Assert.Equal("number_inactive", (await unrouted.FirstAsync(m => m.InboundMessageId == messages[inactive.Id].InboundMessageId)).Reason);
        Assert.Equal("over_plan_limit", (await unrouted.FirstAsync(m => m.InboundMessageId == messages[overPlan.Id].InboundMessageId)).Reason);
        var mismatch = await unrouted.FirstAsync(m => m.InboundMessageId == messages[otherAccount.Id].InboundMessageId);
        Assert.Equal(("account_mismatch", tenantId, OwnAccount), (mismatch.Reason, mismatch.TenantId, mismatch.AccountSid));
        var forOperators = (await routing.OperatorClient().GetFromJsonAsync<JsonNode>($"/api/admin/unrouted-messages?tenantId={tenantId}&reason=account_mismatch"))!;
        Assert.Equal([messages[otherAccount.Id].MessageSid], forOperators["items"]!.AsArray().Select(m => m!["messageSid"]!.GetValue<string>()));

        // The broker delivers each message again (the same message id): nothing counts twice, nothing is recorded twice.
        foreach (var (numberId, message) in messages)
        {
            await routing.Bus.Publish(message, context => context.MessageId = messageIds[numberId]);
            await routing.Consumed.WaitAsync(messageIds[numberId], nameof(WhatsAppMessageReceived), times: 2);
        }

        using var client = routing.ClientFor(tenantId);
        foreach (var numberId in messages.Keys)
        {
            Assert.Equal(1, (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{numberId}"))!["totalMessages"]!.GetValue<int>());
        }

        Assert.Equal(3, await routing.WithDbAsync(db => db.UnroutedMessages.CountAsync(m => m.TenantId == tenantId)));
    }

    [Fact]
    public async Task TotalLeads_counts_each_lead_once_on_its_number_and_an_erased_lead_still_counts()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var (numberId, phone) = await routing.CreateNumberAsync(tenantId);
        var first = new LeadCreated(tenantId, "lead_" + Guid.NewGuid().ToString("N")[..12], numberId, "whatsapp", DateTimeOffset.UtcNow);
        var id = await routing.HandledAsync(first);
        await routing.Bus.Publish(first, context => context.MessageId = id); // redelivered
        await routing.Consumed.WaitAsync(id, nameof(LeadCreated), times: 2);
        await routing.HandledAsync(first with { LeadId = "lead_" + Guid.NewGuid().ToString("N")[..12] });
        await routing.HandledAsync(new LeadCreated("tnt_someone_else", "lead_x", numberId, "whatsapp", DateTimeOffset.UtcNow)); // not this tenant's lead

        using var client = routing.ClientFor(tenantId);
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{numberId}"))!["totalLeads"]!.GetValue<int>());

        // Erasing a customer removes their data, not the fact that a lead was made: the figure counts leads ever made.
        await routing.HandledAsync(new CustomerDataErasureRequested(tenantId, "+573111111111", first.LeadId, DateTimeOffset.UtcNow) { NumberPhones = [phone] });
        Assert.Equal(2, (await client.GetFromJsonAsync<JsonNode>($"/api/numbers/{numberId}"))!["totalLeads"]!.GetValue<int>());
    }
}
