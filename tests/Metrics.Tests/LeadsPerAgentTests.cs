using MassTransit;
using System.Net;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>
/// A lead counts for the agent of its first conversation (the earliest ConversationOpened naming it) and for the number
/// LeadCreated names, whatever order the events arrive in and however often.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class LeadsPerAgentTests(MetricsService metrics)
{
    private static readonly TimeSpan Bogota = TimeSpan.FromHours(-5);
    private static readonly DateTimeOffset At = new(2026, 8, 11, 9, 0, 0, Bogota);
    private const string Day = "from=2026-08-11&to=2026-08-11";

    /// <summary>
    /// One lead: created at 9:00 on num_1, its first conversation (DrBot, agt_1) opened at 9:00, qualified at 9:30, a
    /// second conversation (agt_2) opened at 11:00, converted at 11:30. A second lead, only created, whose one
    /// conversation went to agt_2.
    /// </summary>
    private static object[] Events(TenantEvents tenant, string lead, string otherLead, string first, string second, string third) =>
    [
        tenant.NewLead(At, lead, numberId: "num_1"),
        tenant.Opened(At, first, numberId: "num_1", agentId: "agt_1", leadId: lead),
        tenant.LeadStatus(lead, "New", "Qualified", At.AddMinutes(30)),
        tenant.Opened(At.AddHours(2), second, numberId: "num_1", agentId: "agt_2", leadId: lead),
        tenant.LeadStatus(lead, "Qualified", "Converted", At.AddHours(2).AddMinutes(30)),
        tenant.NewLead(At.AddHours(3), otherLead, numberId: "num_2"),
        tenant.Opened(At.AddHours(3), third, numberId: "num_2", agentId: "agt_2", leadId: otherLead),
    ];

    public static TheoryData<string> Orders => ["in order", "backwards", "twice and republished", "interleaved"];

    [Theory]
    [MemberData(nameof(Orders))]
    public async Task Lead_figures_count_once_for_the_agent_of_the_leads_first_conversation_in_any_order(string order)
    {
        var tenant = TenantEvents.New();
        var (lead, otherLead) = (TenantEvents.Id("lead"), TenantEvents.Id("lead"));
        var (first, second, third) = (TenantEvents.Id("conv"), TenantEvents.Id("conv"), TenantEvents.Id("conv"));
        var events = Events(tenant, lead, otherLead, first, second, third);
        switch (order)
        {
            case "in order":
                foreach (var e in events) await metrics.HandledAsync((dynamic)e);
                break;
            case "backwards": // the conversion first, the second conversation before the first, the lead's creation last
                foreach (var e in Enumerable.Reverse(events)) await metrics.HandledAsync((dynamic)e);
                break;
            case "twice and republished": // the same message id twice, then the same event under a new id
                foreach (var e in events)
                {
                    await DeliveredTwiceAsync((dynamic)e);
                    await metrics.HandledAsync((dynamic)e);
                }

                break;
            case "interleaved": // the later conversation, then the conversion, then the lead, then the first conversation
                foreach (var i in new[] { 3, 4, 6, 2, 0, 5, 1, 3 }) await metrics.HandledAsync((dynamic)events[i]);
                break;
        }

        await ExpectLeadFiguresAsync(tenant);
    }

    private async Task ExpectLeadFiguresAsync(TenantEvents tenant)
    {
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, Day)), new
        {
            newLeads = 2, totalLeads = 2, qualifiedLeads = 1, convertedLeads = 1, newConversations = 3,
        });
        // agt_1 had the lead's first conversation: the lead, its qualification and its conversion are agt_1's.
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_1", Day)), new
        {
            newLeads = 1, totalLeads = 1, qualifiedLeads = 1, convertedLeads = 1, newConversations = 1,
        });
        // agt_2 had the lead's second conversation (nothing of that lead) and the other lead's first.
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_2", Day)), new
        {
            newLeads = 1, totalLeads = 1, qualifiedLeads = 0, convertedLeads = 0, newConversations = 2,
        });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_1", Day)), new
        {
            newLeads = 1, totalLeads = 1, qualifiedLeads = 1, convertedLeads = 1, newConversations = 2,
        });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_2", Day)), new
        {
            newLeads = 1, totalLeads = 1, qualifiedLeads = 0, convertedLeads = 0, newConversations = 1,
        });
    }

    [Fact]
    public async Task Leads_and_their_conversations_handled_at_the_same_time_are_all_counted_once_for_their_first_agent()
    {
        var tenant = TenantEvents.New();
        var leads = Enumerable.Range(0, 15).Select(_ => TenantEvents.Id("lead")).ToList();
        // Every lead's events at once, four kinds in parallel: its creation, its qualification, and two conversations
        // (agt_1's at 9:00 first, agt_2's at 10:00).
        await Task.WhenAll(
            metrics.AllHandledAsync(leads.Select(l => tenant.Opened(At.AddHours(1), TenantEvents.Id("conv"), agentId: "agt_2", leadId: l))),
            metrics.AllHandledAsync(leads.Select(l => tenant.LeadStatus(l, "New", "Qualified", At.AddMinutes(30)))),
            metrics.AllHandledAsync(leads.Select(l => tenant.NewLead(At, l))),
            metrics.AllHandledAsync(leads.Select(l => tenant.Opened(At, TenantEvents.Id("conv"), agentId: "agt_1", leadId: l))));

        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, Day)), new { newLeads = 15, qualifiedLeads = 15, newConversations = 30 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_1", Day)), new { newLeads = 15, qualifiedLeads = 15, newConversations = 15 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_2", Day)), new { newLeads = 0, qualifiedLeads = 0, newConversations = 15 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_1", Day)), new { newLeads = 15, qualifiedLeads = 15 });
    }

    [Fact]
    public async Task A_lead_counts_on_the_number_LeadCreated_names_even_when_its_conversation_on_another_number_came_first()
    {
        var tenant = TenantEvents.New();
        var lead = TenantEvents.Id("lead");
        await metrics.HandledAsync(tenant.Opened(At, TenantEvents.Id("conv"), numberId: "num_3", agentId: "agt_1", leadId: lead));
        await metrics.HandledAsync(tenant.LeadStatus(lead, "New", "Qualified", At.AddMinutes(5)));
        // Until Lead says where the lead came in, it counts on its conversation's number.
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_3", Day)), new { qualifiedLeads = 1, newLeads = 0 });

        await metrics.HandledAsync(tenant.NewLead(At, lead, numberId: "num_4"));
        await metrics.HandledAsync(tenant.Opened(At.AddHours(1), TenantEvents.Id("conv"), numberId: "num_3", agentId: "agt_2", leadId: lead));

        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_4", Day)), new { newLeads = 1, qualifiedLeads = 1, newConversations = 0 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_3", Day)), new { newLeads = 0, qualifiedLeads = 0, newConversations = 2 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_1", Day)), new { newLeads = 1, qualifiedLeads = 1 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_2", Day)), new { newLeads = 0, qualifiedLeads = 0 });
    }

    [Fact]
    public async Task A_lead_whose_first_conversation_had_no_agent_counts_for_no_agent()
    {
        var tenant = TenantEvents.New();
        var lead = TenantEvents.Id("lead");
        await metrics.HandledAsync(tenant.Opened(At.AddHours(1), TenantEvents.Id("conv"), agentId: "agt_1", leadId: lead));
        await metrics.HandledAsync(tenant.NewLead(At, lead));
        await metrics.HandledAsync(tenant.Opened(At, TenantEvents.Id("conv"), agentId: null, leadId: lead)); // earlier, answered by people only

        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, Day)), new { newLeads = 1 });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_1", Day)), new { newLeads = 0, newConversations = 1 });
    }

    [Fact]
    public async Task A_rebuild_gives_the_same_lead_figures_per_agent_and_number()
    {
        var tenant = TenantEvents.New();
        var (lead, otherLead) = (TenantEvents.Id("lead"), TenantEvents.Id("lead"));
        var events = Events(tenant, lead, otherLead, TenantEvents.Id("conv"), TenantEvents.Id("conv"), TenantEvents.Id("conv"));
        foreach (var e in Enumerable.Reverse(events)) await metrics.HandledAsync((dynamic)e);
        var before = await EverythingAsync(tenant.TenantId);
        Assert.Contains("agents/agt_1 200", before);

        await metrics.WithDbAsync(async db => await db.Database.ExecuteSqlAsync(
            $"UPDATE metrics.daily_rollups SET new_leads = 0, converted_leads = converted_leads + 3 WHERE tenant_id = {tenant.TenantId} AND dimension_kind = 'Agent'"));
        Assert.NotEqual(before, await EverythingAsync(tenant.TenantId));

        await metrics.RebuildAsync(tenant.TenantId);
        Assert.Equal(before, await EverythingAsync(tenant.TenantId));
        await ExpectLeadFiguresAsync(tenant);
    }

    /// <summary>The broker delivers the same message (same message id) twice, as after a lost acknowledgement.</summary>
    private async Task DeliveredTwiceAsync<T>(T message) where T : class
    {
        var id = await metrics.HandledAsync(message);
        await metrics.Bus.Publish(message, context => context.MessageId = id);
        await metrics.Consumed.WaitAsync(id, typeof(T).Name, times: 2);
    }

    private async Task<string> EverythingAsync(string tenantId)
    {
        var all = new List<string> { (await metrics.RowsAsync(tenantId, Day)).ToJsonString() };
        foreach (var dimension in new[] { "numbers/num_1", "numbers/num_2", "agents/agt_1", "agents/agt_2" })
        {
            var (status, body) = await metrics.DimensionAsync(tenantId, dimension, Day);
            all.Add($"{dimension} {(int)status} {(status == HttpStatusCode.OK ? body : "")}");
        }

        return string.Join("\n", all);
    }
}
