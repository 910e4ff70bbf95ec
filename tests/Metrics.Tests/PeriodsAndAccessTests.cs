using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>Weeks and months in the tenant's zone, input checks, and who may read which figures.</summary>
[Collection(MetricsCollection.Name)]
public sealed class PeriodsAndAccessTests(MetricsService metrics)
{
    [Fact]
    public async Task WEEKLY_groups_the_tenants_days_by_ISO_week_starting_on_Monday()
    {
        var tenant = TenantEvents.New(); // Bogotá
        // Sunday 1 March; Monday 2 and Sunday 8 March; Tuesday 31 March and Wednesday 1 April (one week, two months).
        foreach (var day in new[] { 1, 2, 8 })
        {
            await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 3, day, 12, 0, 0, TimeSpan.FromHours(-5))));
        }

        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 3, 31, 12, 0, 0, TimeSpan.FromHours(-5))));
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 4, 1, 12, 0, 0, TimeSpan.FromHours(-5))));

        var weeks = await metrics.RowsAsync(tenant.TenantId, "period=WEEKLY&from=2026-02-23&to=2026-04-05");
        Assert.Equal(
            [
                ("WEEKLY", "2026-02-23T00:00:00-05:00", "2026-03-02T00:00:00-05:00", 1),
                ("WEEKLY", "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-05:00", 2),
                ("WEEKLY", "2026-03-30T00:00:00-05:00", "2026-04-06T00:00:00-05:00", 2),
            ],
            weeks.Select(Row));
    }

    [Fact]
    public async Task MONTHLY_groups_by_the_tenants_months_with_each_bounds_own_offset_across_daylight_saving()
    {
        var tenant = TenantEvents.New();
        await metrics.HandledAsync(tenant.Provisioned("Europe/Madrid")); // summer time from 29 March 2026
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 3, 15, 12, 0, 0, TimeSpan.FromHours(1))));
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 3, 31, 23, 30, 0, TimeSpan.FromHours(2))));
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 3, 31, 22, 30, 0, TimeSpan.Zero))); // 00:30 on 1 April in Madrid

        var months = await metrics.RowsAsync(tenant.TenantId, "period=monthly&from=2026-03-01&to=2026-04-30");
        Assert.Equal(
            [
                ("MONTHLY", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 2),
                ("MONTHLY", "2026-04-01T00:00:00+02:00", "2026-05-01T00:00:00+02:00", 1),
            ],
            months.Select(Row));
    }

    [Fact]
    public async Task A_week_or_month_is_always_counted_whole_even_when_from_and_to_fall_inside_it()
    {
        var tenant = TenantEvents.New(); // Bogotá
        foreach (var day in new[] { 2, 4, 8, 20 })
        {
            await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 3, day, 12, 0, 0, TimeSpan.FromHours(-5))));
        }

        // Wednesday 4 to Thursday 5 March: the week of Monday 2 March, all of it.
        var week = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "period=WEEKLY&from=2026-03-04&to=2026-03-05"))!;
        Assert.Equal(("WEEKLY", "2026-03-02T00:00:00-05:00", "2026-03-09T00:00:00-05:00", 3), Row(week));
        var month = Assert.Single(await metrics.RowsAsync(tenant.TenantId, "period=MONTHLY&from=2026-03-10&to=2026-03-10"))!;
        Assert.Equal(("MONTHLY", "2026-03-01T00:00:00-05:00", "2026-04-01T00:00:00-05:00", 4), Row(month));
    }

    [Theory]
    [InlineData("period=HOURLY", "period")]
    [InlineData("period=1", "period")]
    [InlineData("period=DAILY,WEEKLY", "period")]
    [InlineData("from=2026-13-01", "from")]
    [InlineData("from=10/03/2026&to=2026-03-31", "from")]
    [InlineData("to=yesterday", "to")]
    [InlineData("from=2026-03-10&to=2026-03-01", "to")]
    public async Task Bad_query_values_are_a_400_naming_the_field(string query, string field)
    {
        using var response = await metrics.ClientFor(TenantEvents.New().TenantId).GetAsync($"/api/metrics?{query}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var errors = (await response.Content.ReadFromJsonAsync<JsonNode>())!["errors"]!.AsObject();
        Assert.Equal([field], errors.Select(e => e.Key));
    }

    [Fact]
    public async Task ISO_week_1_of_2027_starts_on_Monday_28_December_2026_while_the_months_split_at_new_year()
    {
        var tenant = TenantEvents.New(); // Bogotá
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 12, 31, 23, 30, 0, TimeSpan.FromHours(-5)))); // 04:30 UTC on 1 January
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2027, 1, 1, 0, 30, 0, TimeSpan.FromHours(-5))));
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2027, 1, 4, 0, 0, 0, TimeSpan.FromHours(-5)))); // week 2

        Assert.Equal(
            [
                ("WEEKLY", "2026-12-28T00:00:00-05:00", "2027-01-04T00:00:00-05:00", 2),
                ("WEEKLY", "2027-01-04T00:00:00-05:00", "2027-01-11T00:00:00-05:00", 1),
            ],
            (await metrics.RowsAsync(tenant.TenantId, "period=WEEKLY&from=2026-12-31&to=2027-01-04")).Select(Row));
        Assert.Equal(
            [
                ("MONTHLY", "2026-12-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00", 1),
                ("MONTHLY", "2027-01-01T00:00:00-05:00", "2027-02-01T00:00:00-05:00", 2),
            ],
            (await metrics.RowsAsync(tenant.TenantId, "period=MONTHLY&from=2026-12-31&to=2027-01-01")).Select(Row));
    }

    [Fact]
    public async Task Open_conversations_and_leads_so_far_carry_over_from_earlier_periods()
    {
        var tenant = TenantEvents.New(); // Bogotá
        DateTimeOffset On(int month, int day) => new(2026, month, day, 12, 0, 0, TimeSpan.FromHours(-5));
        var first = tenant.Opened(On(4, 1));
        var second = tenant.Opened(On(4, 2));
        await metrics.HandledAsync(first);
        await metrics.HandledAsync(second);
        await metrics.HandledAsync(tenant.NewLead(On(4, 1)));
        await metrics.HandledAsync(tenant.Closed(first.ConversationId, On(4, 6)));
        await metrics.HandledAsync(tenant.Closed(second.ConversationId, On(5, 4)));
        await metrics.HandledAsync(tenant.NewLead(On(5, 4)));

        var days = await metrics.RowsAsync(tenant.TenantId, "from=2026-04-02&to=2026-04-30"); // 1 April is before 'from'
        Expect.Figures(days[0], new { periodStart = "2026-04-02T00:00:00-05:00", totalConversations = 2, activeConversations = 2, newConversations = 1, totalLeads = 1, newLeads = 0 });
        Expect.Figures(days[1], new { periodStart = "2026-04-06T00:00:00-05:00", totalConversations = 2, activeConversations = 1, completedConversations = 1, totalLeads = 1 });

        var months = await metrics.RowsAsync(tenant.TenantId, "period=MONTHLY&from=2026-04-01&to=2026-05-31");
        Expect.Figures(months[0], new { totalConversations = 2, activeConversations = 1, newConversations = 2, completedConversations = 1, totalLeads = 1, newLeads = 1 });
        Expect.Figures(months[1], new { totalConversations = 1, activeConversations = 0, newConversations = 0, completedConversations = 1, totalLeads = 2, newLeads = 1 });
    }

    [Fact]
    public async Task A_rebuild_from_the_stored_facts_gives_the_same_numbers()
    {
        var tenant = TenantEvents.New();
        await metrics.HandledAsync(tenant.Provisioned("America/Bogota"));
        await Scenario.PlayDayAsync(metrics, tenant, new DateOnly(2026, 6, 30));
        await Scenario.PlayDayAsync(metrics, tenant, new DateOnly(2026, 7, 1));
        var late = TenantEvents.Id("conv"); // a reordered conversation: its reply and close before it opened
        await metrics.HandledAsync(tenant.Sent(Contracts.MessageAuthor.AiAgent, new DateTimeOffset(2026, 7, 2, 9, 0, 5, TimeSpan.FromHours(-5)), late));
        await metrics.HandledAsync(tenant.Closed(late, new DateTimeOffset(2026, 7, 2, 9, 30, 0, TimeSpan.FromHours(-5))));
        await metrics.HandledAsync(tenant.Opened(new DateTimeOffset(2026, 7, 2, 9, 0, 0, TimeSpan.FromHours(-5)), late, numberId: "num_2", agentId: "agt_3"));

        var before = await EverythingAsync(tenant.TenantId);
        Assert.Contains("\"newConversations\":7", before);

        // Damage the rollups (a lost day, a wrong count), then rebuild: the figures are the events' again.
        await metrics.WithDbAsync(async db =>
        {
            await db.Database.ExecuteSqlAsync($"DELETE FROM metrics.daily_rollups WHERE tenant_id = {tenant.TenantId} AND day = {new DateOnly(2026, 6, 30)}");
            return await db.Database.ExecuteSqlAsync($"UPDATE metrics.daily_rollups SET ai_messages = ai_messages + 5 WHERE tenant_id = {tenant.TenantId}");
        });
        Assert.NotEqual(before, await EverythingAsync(tenant.TenantId));

        await metrics.RebuildAsync(tenant.TenantId);
        Assert.Equal(before, await EverythingAsync(tenant.TenantId));
        await metrics.RebuildAsync(null); // every tenant
        Assert.Equal(before, await EverythingAsync(tenant.TenantId));

        using var unknown = await metrics.OperatorClient().PostAsync($"/api/admin/metrics/rebuild?tenantId={TenantEvents.New().TenantId}", null);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        using var asTenant = await metrics.ClientFor(tenant.TenantId).PostAsync($"/api/admin/metrics/rebuild?tenantId={tenant.TenantId}", null);
        Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
    }

    /// <summary>Every figure of the tenant, its numbers and its agents, by day, week and month.</summary>
    private async Task<string> EverythingAsync(string tenantId)
    {
        var all = new List<string>();
        foreach (var period in new[] { "DAILY", "WEEKLY", "MONTHLY" })
        {
            var query = $"period={period}&from=2026-06-29&to=2026-07-05";
            all.Add((await metrics.RowsAsync(tenantId, query)).ToJsonString());
            foreach (var dimension in new[] { "numbers/num_1", "numbers/num_2", "agents/agt_1", "agents/agt_2", "agents/agt_3" })
            {
                var (status, body) = await metrics.DimensionAsync(tenantId, dimension, query);
                all.Add($"{dimension} {(int)status} {(status == HttpStatusCode.OK ? body : "")}");
            }
        }

        return string.Join("\n", all);
    }

    [Fact]
    public async Task Operators_see_figures_summed_over_every_tenant_and_a_tenant_cannot()
    {
        var before = (await metrics.GlobalAsync())!;
        var first = TenantEvents.New();
        var second = TenantEvents.New();
        await metrics.HandledAsync(first.Provisioned("America/Bogota"));
        await metrics.HandledAsync(second.Provisioned("Europe/Madrid", crmEnabled: false));
        await metrics.HandledAsync(second.PlanChanged(true, "Europe/Madrid", DateTimeOffset.UtcNow.AddMinutes(-5))); // older than provisioning: ignored
        await metrics.HandledAsync(first.PlanChanged(false, "America/Bogota", DateTimeOffset.UtcNow.AddMinutes(1)));
        await metrics.HandledAsync(first.PlanChanged(true, "America/Bogota", DateTimeOffset.UtcNow.AddMinutes(2))); // CRM off, then on again
        await metrics.HandledAsync(first.Agent("agt_a", 1));
        await metrics.HandledAsync(first.Agent("agt_b", 1));
        await metrics.HandledAsync(first.Agent("agt_b", 2, deleted: true));
        await metrics.HandledAsync(first.Agent("agt_b", 1)); // an older revision arriving late changes nothing
        await metrics.HandledAsync(second.Agent("agt_c", 1));
        var at = new DateTimeOffset(2026, 3, 20, 10, 0, 0, TimeSpan.FromHours(-5));
        var opened = first.Opened(at);
        await metrics.HandledAsync(opened);
        await metrics.HandledAsync(first.CustomerMessage(at));
        await metrics.HandledAsync(first.Outcome(opened.ConversationId, at, 4, 80000m));
        await metrics.HandledAsync(second.Sent(Contracts.MessageAuthor.AiAgent, at));
        await metrics.HandledAsync(second.Reply(at, 300, 100, 0.004m));

        var after = (await metrics.GlobalAsync())!;
        Assert.Equal((2, 1, 2, 2, 1, 1, 400L, 0.004m, 80000m, 80000m, 1), (
            Delta(before, after, "tenants"), Delta(before, after, "tenantsWithCrm"), Delta(before, after, "agents"), Delta(before, after, "totalMessages"),
            Delta(before, after, "aiMessages"), Delta(before, after, "conversations"),
            after["totalTokensUsed"]!.GetValue<long>() - before["totalTokensUsed"]!.GetValue<long>(),
            after["estimatedAiCost"]!.GetValue<decimal>() - before["estimatedAiCost"]!.GetValue<decimal>(),
            after["totalRevenue"]!.GetValue<decimal>() - before["totalRevenue"]!.GetValue<decimal>(),
            after["aiHandledRevenue"]!.GetValue<decimal>() - before["aiHandledRevenue"]!.GetValue<decimal>(),
            Delta(before, after, "satisfactionRatings")));
        var tenants = after["tenants"]!.GetValue<double>();
        Assert.Equal(Math.Round(after["tenantsWithCrm"]!.GetValue<double>() / tenants, 4), after["crmAdoption"]!.GetValue<double>(), 4);
        Assert.Equal(Math.Round(after["agents"]!.GetValue<double>() / tenants, 3), after["agentsPerTenant"]!.GetValue<double>(), 3);
        Assert.NotNull(after["satisfactionAvg"]);

        using var asTenant = await metrics.ClientFor(first.TenantId).GetAsync("/api/admin/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
        using var anonymous = await metrics.CreateClient().GetAsync("/api/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static (string, string, string, int) Row(JsonNode? row) => (row!["period"]!.GetValue<string>(), row["periodStart"]!.GetValue<string>(),
        row["periodEnd"]!.GetValue<string>(), row["customerMessages"]!.GetValue<int>());

    private static int Delta(JsonNode before, JsonNode after, string field) => after[field]!.GetValue<int>() - before[field]!.GetValue<int>();
}
