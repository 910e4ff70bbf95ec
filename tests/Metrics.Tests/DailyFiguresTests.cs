using System.Net;
using MassTransit;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>A tenant's figures, built from the events of the other services, on the tenant's own days.</summary>
[Collection(MetricsCollection.Name)]
public sealed class DailyFiguresTests(MetricsService metrics)
{
    private static readonly TimeSpan Bogota = TimeSpan.FromHours(-5);

    [Fact]
    public async Task A_days_events_give_exactly_that_days_figures_for_the_tenant_its_numbers_and_its_agents()
    {
        var tenant = TenantEvents.New();
        await Scenario.PlayDayAsync(metrics, tenant, new DateOnly(2026, 3, 10));

        var row = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-10&to=2026-03-10"));
        Expect.Figures(row, new
        {
            period = "DAILY", periodStart = "2026-03-10T00:00:00-05:00", periodEnd = "2026-03-11T00:00:00-05:00",
            totalConversations = 3, activeConversations = 1, newConversations = 3, completedConversations = 2,
            totalLeads = 2, newLeads = 2, qualifiedLeads = 1, convertedLeads = 1,
            totalMessages = 7, customerMessages = 4, aiMessages = 2, humanMessages = 1,
            avgResponseTime = (4 + 120 + 10) / 3.0, // first replies after 4 s, 120 s and 10 s
            totalRevenue = 150000m, avgConversionValue = 150000m, satisfactionAvg = 4.0,
            totalTokensUsed = 350, estimatedAiCost = 0.0037m,
            handoffs = 1, aiResolvedConversations = 1, aiResolutionRate = 0.5, handoffRate = 0.3333,
            firstResponseTimeP50 = (10.0, 12.0), firstResponseTimeP90 = (120.0, 144.0), // histogram buckets are 20% wide
            aiCostPerConversation = 0.001233m, aiCostPerConvertedLead = 0.0037m, aiHandledRevenue = 150000m,
            conversions = 1, satisfactionRatings = 2,
        });

        // DrBot (agt_1) had A and C on the first number; Ana's agent (agt_2) had B on the second.
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_1", "from=2026-03-10&to=2026-03-10")), new
        {
            newConversations = 2, completedConversations = 1, activeConversations = 1, aiMessages = 2, humanMessages = 0, customerMessages = 3,
            totalTokensUsed = 350, estimatedAiCost = 0.0037m, handoffs = 0, aiResolutionRate = 1.0, avgResponseTime = 7.0, totalRevenue = 150000m,
            aiHandledRevenue = 150000m, satisfactionAvg = 5.0,
            newLeads = 1, totalLeads = 1, qualifiedLeads = 1, convertedLeads = 1, aiCostPerConvertedLead = 0.0037m, // lead 1's first conversation was A
        });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_2", "from=2026-03-10&to=2026-03-10")), new
        {
            newConversations = 1, completedConversations = 1, activeConversations = 0, aiMessages = 0, humanMessages = 1, customerMessages = 1,
            handoffs = 1, handoffRate = 1.0, aiResolutionRate = 0.0, avgResponseTime = 120.0, totalRevenue = 0m, satisfactionAvg = 3.0,
            aiCostPerConversation = 0m, newLeads = 1, totalLeads = 1, qualifiedLeads = 0, convertedLeads = 0, // lead 2's first conversation was B
        });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_2", "from=2026-03-10&to=2026-03-10")), new
        {
            newConversations = 1, humanMessages = 1, customerMessages = 1, newLeads = 1, totalLeads = 1, qualifiedLeads = 0, handoffs = 1,
        });
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_1", "from=2026-03-10&to=2026-03-10")), new
        {
            newConversations = 2, aiMessages = 2, customerMessages = 3, newLeads = 1, qualifiedLeads = 1, convertedLeads = 1, totalRevenue = 150000m,
        });
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(tenant.TenantId, "agents/agt_unknown", "from=2026-03-10&to=2026-03-10")).Status);
    }

    [Fact]
    public async Task A_redelivered_or_republished_event_counts_once()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 12, 9, 0, 0, Bogota);
        var opened = tenant.Opened(at);
        var lead = tenant.NewLead(at);
        // The same message id twice (a lost acknowledgement) and the same event under a new id (an owner publishing again).
        foreach (var message in new object[] { tenant.CustomerMessage(at), opened, lead, tenant.Reply(at.AddSeconds(3), 100, 50, 0.002m, opened.ConversationId),
                     tenant.Sent(MessageAuthor.AiAgent, at.AddSeconds(5), opened.ConversationId), tenant.HandedOff(at.AddMinutes(1), opened.ConversationId),
                     tenant.LeadStatus(lead.LeadId, "New", "Converted", at.AddMinutes(2)), tenant.Outcome(opened.ConversationId, at.AddMinutes(3), 4, 90000m),
                     tenant.Closed(opened.ConversationId, at.AddMinutes(4)) })
        {
            await DeliveredTwiceAsync((dynamic)message);
            await metrics.HandledAsync((dynamic)message);
        }

        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-12&to=2026-03-12")), new
        {
            customerMessages = 1, aiMessages = 1, totalMessages = 2, newConversations = 1, completedConversations = 1, handoffs = 1, newLeads = 1,
            qualifiedLeads = 1, convertedLeads = 1, totalTokensUsed = 150, estimatedAiCost = 0.002m, totalRevenue = 90000m, conversions = 1,
            satisfactionRatings = 1, avgResponseTime = 5.0, aiResolvedConversations = 0, aiHandledRevenue = 0m,
        });
    }

    [Fact]
    public async Task Events_in_any_order_give_the_same_figures()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 16, 9, 0, 0, Bogota);
        var conversation = TenantEvents.Id("conv");
        var lead = TenantEvents.Id("lead");

        // Everything arrives backwards: the close before the handoff, the reply before the conversation, the
        // conversion before the lead, a later reply before the first one.
        await metrics.HandledAsync(tenant.Closed(conversation, at.AddMinutes(30)));
        await metrics.HandledAsync(tenant.HandedOff(at.AddMinutes(10), conversation));
        await metrics.HandledAsync(tenant.Sent(MessageAuthor.Human, at.AddMinutes(11), conversation));
        await metrics.HandledAsync(tenant.Reply(at.AddSeconds(2), 10, 10, 0.001m, conversation, agentId: "agt_9"));
        await metrics.HandledAsync(tenant.Sent(MessageAuthor.AiAgent, at.AddSeconds(6), conversation));
        await metrics.HandledAsync(tenant.Opened(at, conversation, numberId: "num_7", agentId: "agt_9", leadId: lead));
        await metrics.HandledAsync(tenant.LeadStatus(lead, "Qualified", "Converted", at.AddMinutes(20)));
        await metrics.HandledAsync(tenant.LeadStatus(lead, "New", "Qualified", at.AddMinutes(5)));
        await metrics.HandledAsync(tenant.NewLead(at, lead, numberId: "num_7"));

        var expected = new
        {
            newConversations = 1, completedConversations = 1, activeConversations = 0, handoffs = 1, aiResolvedConversations = 0, aiMessages = 1,
            humanMessages = 1, avgResponseTime = 6.0, totalTokensUsed = 20, newLeads = 1, qualifiedLeads = 1, convertedLeads = 1,
        };
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-16&to=2026-03-16")), expected);
        // The messages counted before the conversation's number and agent were known moved to them when it opened.
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "numbers/num_7", "from=2026-03-16&to=2026-03-16")), expected);
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "agents/agt_9", "from=2026-03-16&to=2026-03-16")), new
        {
            newConversations = 1, aiMessages = 1, humanMessages = 1, totalTokensUsed = 20, estimatedAiCost = 0.001m,
            newLeads = 1, qualifiedLeads = 1, convertedLeads = 1, // the lead's first (only) conversation was agt_9's
        });
    }

    [Fact]
    public async Task The_latest_outcome_of_a_conversation_replaces_an_earlier_one_whatever_order_they_arrive_in()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 17, 9, 0, 0, Bogota);
        var opened = tenant.Opened(at);
        await metrics.HandledAsync(opened);
        await metrics.HandledAsync(tenant.Outcome(opened.ConversationId, at.AddHours(2), 5, 200000m));
        await metrics.HandledAsync(tenant.Outcome(opened.ConversationId, at.AddHours(1), 2, 50000m)); // older, arrives late

        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-17&to=2026-03-17")), new
        {
            totalRevenue = 200000m, conversions = 1, avgConversionValue = 200000m, satisfactionAvg = 5.0, satisfactionRatings = 1, aiHandledRevenue = 200000m,
        });
    }

    [Fact]
    public async Task Events_handled_at_the_same_time_are_all_counted()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 13, 11, 0, 0, Bogota);
        var opened = tenant.Opened(at);
        await metrics.HandledAsync(opened);

        await metrics.AllHandledAsync(Enumerable.Range(0, 40).Select(i => tenant.CustomerMessage(at.AddSeconds(i))));
        await metrics.AllHandledAsync(Enumerable.Range(0, 20).Select(i => tenant.Sent(MessageAuthor.AiAgent, at.AddSeconds(30 - i), opened.ConversationId)));

        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-13&to=2026-03-13")), new
        {
            customerMessages = 40, aiMessages = 20, totalMessages = 60, avgResponseTime = 11.0, // the earliest of the 20 replies, 11 s in
        });
    }

    [Fact]
    public async Task A_message_at_half_past_eleven_at_night_in_Bogota_counts_on_the_Bogota_day_not_the_UTC_day()
    {
        var tenant = TenantEvents.New(); // Metrics has not heard of its zone: America/Bogota, the default
        var lateEvening = new DateTimeOffset(2026, 3, 11, 4, 30, 0, TimeSpan.Zero); // 23:30 on 10 March in Bogotá
        await metrics.HandledAsync(tenant.CustomerMessage(lateEvening));

        var row = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-10&to=2026-03-11"))!;
        Assert.Equal(("2026-03-10T00:00:00-05:00", 1), (Text(row, "periodStart"), row["customerMessages"]!.GetValue<int>()));
    }

    [Fact]
    public async Task A_tenant_in_another_time_zone_gets_its_own_days()
    {
        var madrid = TenantEvents.New();
        var bogota = TenantEvents.New();
        await metrics.HandledAsync(madrid.Provisioned("Europe/Madrid"));
        await metrics.HandledAsync(bogota.Provisioned("America/Bogota"));

        var instant = new DateTimeOffset(2026, 3, 10, 23, 30, 0, TimeSpan.Zero); // 00:30 on 11 March in Madrid, 18:30 on 10 March in Bogotá
        await metrics.HandledAsync(madrid.CustomerMessage(instant));
        await metrics.HandledAsync(bogota.CustomerMessage(instant));

        var madridRow = Assert.Single(await metrics.RowsAsync(madrid.TenantId, "from=2026-03-10&to=2026-03-11"))!;
        var bogotaRow = Assert.Single(await metrics.RowsAsync(bogota.TenantId, "from=2026-03-10&to=2026-03-11"))!;
        Assert.Equal(("2026-03-11T00:00:00+01:00", "2026-03-12T00:00:00+01:00"), (Text(madridRow, "periodStart"), Text(madridRow, "periodEnd")));
        Assert.Equal("2026-03-10T00:00:00-05:00", Text(bogotaRow, "periodStart"));
    }

    [Fact]
    public async Task A_tenant_never_sees_another_tenants_figures()
    {
        var mine = TenantEvents.New();
        var theirs = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 14, 10, 0, 0, Bogota);
        await metrics.HandledAsync(mine.CustomerMessage(at));
        for (var i = 0; i < 3; i++) await metrics.HandledAsync(theirs.CustomerMessage(at));
        await metrics.HandledAsync(theirs.NewLead(at));

        var row = Assert.Single(await metrics.RowsAsync(mine.TenantId, "from=2026-03-14&to=2026-03-14"))!;
        Assert.Equal((1, 0), (row["customerMessages"]!.GetValue<int>(), row["newLeads"]!.GetValue<int>()));
        Assert.Empty(await metrics.RowsAsync(TenantEvents.New().TenantId, "from=2026-03-14&to=2026-03-14"));
        // A number or agent id is not a key to others' figures: another tenant's is a 404, as an unknown one is.
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(TenantEvents.New().TenantId, "numbers/num_1", "from=2026-03-14&to=2026-03-14")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(TenantEvents.New().TenantId, "agents/agt_1", "from=2026-03-14&to=2026-03-14")).Status);
    }

    [Fact]
    public async Task Without_dates_the_last_30_days_up_to_today_in_the_tenants_zone_are_shown()
    {
        var tenant = TenantEvents.New();
        await metrics.HandledAsync(tenant.Provisioned("Asia/Tokyo"));
        var now = DateTimeOffset.UtcNow;
        await metrics.HandledAsync(tenant.CustomerMessage(now));
        await metrics.HandledAsync(tenant.CustomerMessage(now.AddDays(-31)));

        var row = Assert.Single(await metrics.RowsAsync(tenant.TenantId, ""))!;
        var today = TimeZoneInfo.ConvertTime(now, TimeZoneInfo.FindSystemTimeZoneById("Asia/Tokyo"));
        Assert.Equal(($"{today:yyyy-MM-dd}T00:00:00+09:00", 1), (Text(row, "periodStart"), row["customerMessages"]!.GetValue<int>()));
    }

    /// <summary>The broker delivers the same message (same message id) twice, as after a lost acknowledgement.</summary>
    private async Task DeliveredTwiceAsync<T>(T message) where T : class
    {
        var id = await metrics.HandledAsync(message);
        await metrics.Bus.Publish(message, context => context.MessageId = id);
        await metrics.Consumed.WaitAsync(id, typeof(T).Name, times: 2);
    }

    private static string Text(JsonNode row, string field) => row[field]!.GetValue<string>();
}

/// <summary>Known event sequences shared by several tests.</summary>
public static class Scenario
{
    /// <summary>
    /// One day at a Bogotá clinic: conversation A (DrBot, first number) answered by the AI after 4 s, closed without a
    /// human, sold for 150,000 with 5 stars; B (agt_2, second number) taken by a human who answered after 120 s, closed,
    /// 3 stars; C (DrBot) answered after 10 s and still open. Lead 1 qualified then converted; lead 2 only contacted.
    /// </summary>
    public static async Task PlayDayAsync(MetricsService metrics, TenantEvents tenant, DateOnly date)
    {
        DateTimeOffset At(int hour, int minute, int second = 0) => new(date.ToDateTime(new TimeOnly(hour, minute, second)), TimeSpan.FromHours(-5));
        var (a, b, c) = (TenantEvents.Id("conv"), TenantEvents.Id("conv"), TenantEvents.Id("conv"));
        var (lead1, lead2) = (TenantEvents.Id("lead"), TenantEvents.Id("lead"));

        await metrics.HandledAsync(tenant.NewLead(At(10, 0), lead1));
        await metrics.HandledAsync(tenant.CustomerMessage(At(10, 0)));
        await metrics.HandledAsync(tenant.Opened(At(10, 0), a, leadId: lead1));
        await metrics.HandledAsync(tenant.Reply(At(10, 0, 3), 100, 20, 0.0012m, a));
        await metrics.HandledAsync(tenant.Sent(MessageAuthor.AiAgent, At(10, 0, 4), a));
        await metrics.HandledAsync(tenant.CustomerMessage(At(10, 5)));
        await metrics.HandledAsync(tenant.LeadStatus(lead1, "New", "Qualified", At(10, 20)));
        await metrics.HandledAsync(tenant.Closed(a, At(10, 30)));
        await metrics.HandledAsync(tenant.LeadStatus(lead1, "Qualified", "Converted", At(10, 31)));
        await metrics.HandledAsync(tenant.Outcome(a, At(10, 31), 5, 150000m));

        await metrics.HandledAsync(tenant.NewLead(At(11, 0), lead2, numberId: "num_2"));
        await metrics.HandledAsync(tenant.CustomerMessage(At(11, 0), numberId: "num_2", agentId: "agt_2"));
        await metrics.HandledAsync(tenant.Opened(At(11, 0), b, numberId: "num_2", agentId: "agt_2", leadId: lead2));
        await metrics.HandledAsync(tenant.LeadStatus(lead2, "New", "Contacted", At(11, 1)));
        await metrics.HandledAsync(tenant.HandedOff(At(11, 1), b));
        await metrics.HandledAsync(tenant.Sent(MessageAuthor.Human, At(11, 2), b));
        await metrics.HandledAsync(tenant.Closed(b, At(12, 0)));
        await metrics.HandledAsync(tenant.Outcome(b, At(12, 0), 3, null, "no sale"));

        await metrics.HandledAsync(tenant.CustomerMessage(At(13, 0)));
        await metrics.HandledAsync(tenant.Opened(At(13, 0), c, leadId: lead1));
        await metrics.HandledAsync(tenant.Reply(At(13, 0, 8), 200, 30, 0.0025m, c));
        await metrics.HandledAsync(tenant.Sent(MessageAuthor.AiAgent, At(13, 0, 10), c));
    }
}
