using MassTransit;
using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>A tenant's daily figures, built from the events of the other services, on the tenant's own days.</summary>
[Collection(MetricsCollection.Name)]
public sealed class DailyFiguresTests(MetricsService metrics)
{
    private static readonly TimeSpan Bogota = TimeSpan.FromHours(-5);

    [Fact]
    public async Task A_days_events_give_exactly_that_days_figures()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 10, 10, 0, 0, Bogota);

        for (var i = 0; i < 4; i++) await metrics.HandledAsync(tenant.CustomerMessage(at.AddMinutes(i)));
        for (var i = 0; i < 3; i++) await metrics.HandledAsync(tenant.Sent(MessageAuthor.AiAgent, at.AddMinutes(i)));
        for (var i = 0; i < 2; i++) await metrics.HandledAsync(tenant.Sent(MessageAuthor.Human, at.AddMinutes(i)));
        await metrics.HandledAsync(tenant.NewLead(at));
        await metrics.HandledAsync(tenant.Opened(at));
        await metrics.HandledAsync(tenant.Opened(at.AddHours(2)));
        await metrics.HandledAsync(tenant.HandedOff(at.AddHours(3)));
        await metrics.HandledAsync(tenant.Reply(at, 100, 20, 0.0012m));
        await metrics.HandledAsync(tenant.Reply(at, 200, 30, 0.0025m));

        var row = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-10&to=2026-03-10"))!;
        Assert.Equal(("DAILY", "2026-03-10T00:00:00-05:00", "2026-03-11T00:00:00-05:00"), (Text(row, "period"), Text(row, "periodStart"), Text(row, "periodEnd")));
        Assert.Equal(new Figures(NewConversations: 2, NewLeads: 1, TotalMessages: 9, CustomerMessages: 4, AiMessages: 3, HumanMessages: 2,
            Handoffs: 1, TotalTokensUsed: 350, EstimatedAiCost: 0.0037m), Figures.Of(row));
    }

    [Fact]
    public async Task A_redelivered_event_counts_once()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 12, 9, 0, 0, Bogota);
        await DeliveredTwiceAsync(tenant.CustomerMessage(at));
        await DeliveredTwiceAsync(tenant.Reply(at, 100, 50, 0.002m));

        var row = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-12&to=2026-03-12"))!;
        Assert.Equal((1, 150L, 0.002m), (row["customerMessages"]!.GetValue<int>(), row["totalTokensUsed"]!.GetValue<long>(), row["estimatedAiCost"]!.GetValue<decimal>()));
    }

    [Fact]
    public async Task Events_handled_at_the_same_time_are_all_counted()
    {
        var tenant = TenantEvents.New();
        var at = new DateTimeOffset(2026, 3, 13, 11, 0, 0, Bogota);

        await metrics.AllHandledAsync(Enumerable.Range(0, 40).Select(i => tenant.CustomerMessage(at.AddSeconds(i))));

        var row = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2026-03-13&to=2026-03-13"))!;
        Assert.Equal((40, 40), (row["customerMessages"]!.GetValue<int>(), row["totalMessages"]!.GetValue<int>()));
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
        await metrics.Consumed.WaitAsync(id, "the second copy", times: 2);
    }

    private static string Text(JsonNode row, string field) => row[field]!.GetValue<string>();
}

/// <summary>The figures of one metrics row.</summary>
public sealed record Figures(int NewConversations, int NewLeads, int TotalMessages, int CustomerMessages, int AiMessages, int HumanMessages,
    int Handoffs, long TotalTokensUsed, decimal EstimatedAiCost)
{
    public static Figures Of(JsonNode row) => new(row["newConversations"]!.GetValue<int>(), row["newLeads"]!.GetValue<int>(),
        row["totalMessages"]!.GetValue<int>(), row["customerMessages"]!.GetValue<int>(), row["aiMessages"]!.GetValue<int>(),
        row["humanMessages"]!.GetValue<int>(), row["handoffs"]!.GetValue<int>(), row["totalTokensUsed"]!.GetValue<long>(),
        row["estimatedAiCost"]!.GetValue<decimal>());
}
