using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>
/// SafeNotify-wide figures: messages no tenant answered count as processed (once), and the figures can be asked for
/// a period and days, like a tenant's.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class OperatorFiguresTests(MetricsService metrics)
{
    private static readonly TimeSpan Bogota = TimeSpan.FromHours(-5);

    private static DateTimeOffset On(int year, int month, int day, int hour = 12) => new(year, month, day, hour, 0, 0, Bogota);

    [Fact]
    public async Task Messages_no_tenant_answered_count_once_as_processed_but_not_in_the_tenants_figures()
    {
        var tenant = TenantEvents.New();
        await metrics.HandledAsync(tenant.Provisioned("America/Bogota"));
        var before = (await metrics.GlobalAsync())!;

        var overLimit = tenant.Unrouted(On(2019, 5, 6), "over_plan_limit");
        var id = await metrics.HandledAsync(overLimit);
        await metrics.Bus.Publish(overLimit, context => context.MessageId = id); // redelivered
        await metrics.Consumed.WaitAsync(id, nameof(InboundMessageUnrouted), times: 2);
        await metrics.HandledAsync(overLimit); // published again under a new message id
        await metrics.HandledAsync(tenant.Unrouted(On(2019, 5, 6, 13), "crm_disabled"));
        var toNobody = TenantEvents.UnroutedToNobody(On(2019, 5, 6, 14));
        await metrics.HandledAsync(toNobody);
        await metrics.HandledAsync(toNobody);
        await metrics.HandledAsync(tenant.CustomerMessage(On(2019, 5, 6)));

        var after = (await metrics.GlobalAsync())!;
        Assert.Equal((3, 1, 4), (Delta(before, after, "unroutedMessages"), Delta(before, after, "totalMessages"), Delta(before, after, "messagesProcessed")));
        Assert.Equal(after["totalMessages"]!.GetValue<long>() + after["unroutedMessages"]!.GetValue<long>(), after["messagesProcessed"]!.GetValue<long>());
        Expect.Figures(await metrics.GlobalAsync("from=2019-05-06&to=2019-05-06"), new
        {
            messagesProcessed = 4, unroutedMessages = 3, totalMessages = 1, customerMessages = 1, from = "2019-05-06", to = "2019-05-06",
        });

        // The tenant's own figures count only what its CRM handled.
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, "from=2019-05-06&to=2019-05-06")), new { customerMessages = 1, totalMessages = 1 });

        // A rebuild (one tenant, then every tenant) changes none of it.
        await metrics.RebuildAsync(tenant.TenantId);
        await metrics.RebuildAsync(null);
        Assert.Equal(after.ToJsonString(), (await metrics.GlobalAsync())!.ToJsonString());
    }

    [Fact]
    public async Task An_unanswered_message_counts_on_its_tenants_day_and_a_rebuild_moves_it_when_the_tenants_zone_changed()
    {
        var tenant = TenantEvents.New();
        await metrics.HandledAsync(tenant.Provisioned("Asia/Tokyo"));
        // 20:00 on 7 May 2019 in Bogotá is 10:00 on 8 May in Tokyo.
        await metrics.HandledAsync(tenant.Unrouted(On(2019, 5, 7, 20)));
        Expect.Figures(await metrics.GlobalAsync("from=2019-05-08&to=2019-05-08"), new { unroutedMessages = 1, messagesProcessed = 1 });

        await metrics.HandledAsync(tenant.PlanChanged(true, "America/Bogota", DateTimeOffset.UtcNow.AddMinutes(1)));
        await metrics.RebuildAsync(tenant.TenantId);
        Expect.Figures(await metrics.GlobalAsync("from=2019-05-08&to=2019-05-08"), new { unroutedMessages = 0, messagesProcessed = 0 });
        Expect.Figures(await metrics.GlobalAsync("from=2019-05-07&to=2019-05-07"), new { unroutedMessages = 1, messagesProcessed = 1 });
    }

    [Fact]
    public async Task Operators_figures_by_day_week_and_month_sum_every_tenants_whole_periods()
    {
        var bogota = TenantEvents.New();
        var madrid = TenantEvents.New();
        await metrics.HandledAsync(bogota.Provisioned("America/Bogota"));
        await metrics.HandledAsync(madrid.Provisioned("Europe/Madrid"));
        var conversation = TenantEvents.Id("conv");
        // Monday 3 June 2019 to Sunday 9 June: two customer messages, one unanswered; Monday 10 June: a message, an AI
        // reply (400 tokens) and a sale; 1 July: one message.
        await metrics.HandledAsync(bogota.CustomerMessage(On(2019, 6, 3)));
        await metrics.HandledAsync(madrid.CustomerMessage(new DateTimeOffset(2019, 6, 9, 12, 0, 0, TimeSpan.FromHours(2))));
        await metrics.HandledAsync(TenantEvents.UnroutedToNobody(On(2019, 6, 4)));
        await metrics.HandledAsync(bogota.Opened(On(2019, 6, 10), conversation));
        await metrics.HandledAsync(bogota.CustomerMessage(On(2019, 6, 10)));
        await metrics.HandledAsync(bogota.Reply(On(2019, 6, 10).AddSeconds(2), 300, 100, 0.004m, conversation));
        await metrics.HandledAsync(bogota.Sent(MessageAuthor.AiAgent, On(2019, 6, 10).AddSeconds(3), conversation));
        await metrics.HandledAsync(bogota.Outcome(conversation, On(2019, 6, 10, 13), 5, 120000m));
        await metrics.HandledAsync(madrid.CustomerMessage(new DateTimeOffset(2019, 7, 1, 12, 0, 0, TimeSpan.FromHours(2))));

        var week = await metrics.GlobalAsync("from=2019-06-03&to=2019-06-09");
        Expect.Figures(week, new { messagesProcessed = 3, customerMessages = 2, unroutedMessages = 1, aiMessages = 0, totalTokensUsed = 0, from = "2019-06-03", to = "2019-06-09" });
        Assert.Null(week["period"]);
        Assert.Empty(week["periods"]!.AsArray());

        // Wednesday 5 to Wednesday 12 June: the whole weeks of 3 and 10 June.
        var weeks = await metrics.GlobalAsync("period=weekly&from=2019-06-05&to=2019-06-12");
        Expect.Figures(weeks, new { period = "WEEKLY", from = "2019-06-03", to = "2019-06-16", messagesProcessed = 5, totalTokensUsed = 400, totalRevenue = 120000m });
        var rows = weeks["periods"]!.AsArray();
        Assert.Equal(2, rows.Count);
        Expect.Figures(rows[0], new
        {
            period = "WEEKLY", periodStart = "2019-06-03", periodEnd = "2019-06-10", messagesProcessed = 3, totalMessages = 2, customerMessages = 2,
            unroutedMessages = 1, conversations = 0, totalRevenue = 0m,
        });
        Expect.Figures(rows[1], new
        {
            period = "WEEKLY", periodStart = "2019-06-10", periodEnd = "2019-06-17", messagesProcessed = 2, customerMessages = 1, aiMessages = 1,
            unroutedMessages = 0, conversations = 1, totalTokensUsed = 400, estimatedAiCost = 0.004m, totalRevenue = 120000m, aiHandledRevenue = 120000m,
            satisfactionAvg = 5.0, satisfactionRatings = 1,
        });

        var months = await metrics.GlobalAsync("period=MONTHLY&from=2019-06-20&to=2019-07-01");
        Assert.Equal(
            [("2019-06-01", "2019-07-01", 5L), ("2019-07-01", "2019-08-01", 1L)],
            months["periods"]!.AsArray().Select(r => (r!["periodStart"]!.GetValue<string>(), r["periodEnd"]!.GetValue<string>(), r["messagesProcessed"]!.GetValue<long>())));
        Expect.Figures(months, new { messagesProcessed = 6, from = "2019-06-01", to = "2019-07-31" });

        var days = (await metrics.GlobalAsync("period=DAILY&from=2019-06-09&to=2019-06-10"))["periods"]!.AsArray();
        Assert.Equal([("2019-06-09", 1L), ("2019-06-10", 2L)], days.Select(r => (r!["periodStart"]!.GetValue<string>(), r["messagesProcessed"]!.GetValue<long>())));

        // Without a period or days: all time, as before.
        var all = (await metrics.GlobalAsync())!;
        Assert.Null(all["from"]);
        Assert.Null(all["to"]);
        Assert.Empty(all["periods"]!.AsArray());
        Assert.True(all["messagesProcessed"]!.GetValue<long>() >= 6);
    }

    [Theory]
    [InlineData("period=HOURLY", "period")]
    [InlineData("period=1", "period")]
    [InlineData("period=DAILY,WEEKLY", "period")]
    [InlineData("from=2026-13-01", "from")]
    [InlineData("from=10/03/2026&to=2026-03-31", "from")]
    [InlineData("to=yesterday", "to")]
    [InlineData("from=", "from")]
    [InlineData("from=2026-03-10&to=2026-03-01", "to")]
    [InlineData("from=2000-01-01&to=2026-03-01", "to")]
    public async Task Bad_query_values_for_operators_are_a_400_naming_the_field(string query, string field)
    {
        using var response = await metrics.OperatorClient().GetAsync($"/api/admin/metrics?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal([field], errors.Select(e => e.Key));
    }

    [Fact]
    public async Task A_tenant_cannot_read_operators_figures_for_any_period()
    {
        using var response = await metrics.ClientFor(TenantEvents.New().TenantId).GetAsync("/api/admin/metrics?period=MONTHLY&from=2019-01-01&to=2019-12-31");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    [Fact]
    public async Task A_deprovisioned_tenants_unanswered_messages_and_numbers_go_with_it()
    {
        var tenant = TenantEvents.New();
        await metrics.HandledAsync(tenant.Number("num_gone", DateTimeOffset.UtcNow));
        await metrics.HandledAsync(tenant.Unrouted(On(2019, 8, 5)));
        Expect.Figures(await metrics.GlobalAsync("from=2019-08-05&to=2019-08-05"), new { unroutedMessages = 1 });

        await metrics.HandledAsync(new TenantDeprovisioned(tenant.TenantId, "user-" + tenant.TenantId, MigratedTenants.RollbackReason, DateTimeOffset.UtcNow));

        Expect.Figures(await metrics.GlobalAsync("from=2019-08-05&to=2019-08-05"), new { unroutedMessages = 0 });
        Assert.Equal(0, await metrics.WithDbAsync(db => db.Numbers.CountAsync(n => n.TenantId == tenant.TenantId)));
    }

    private static long Delta(JsonNode before, JsonNode after, string field) => after[field]!.GetValue<long>() - before[field]!.GetValue<long>();
}
