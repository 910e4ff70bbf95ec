using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

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
    public async Task Operators_see_figures_summed_over_every_tenant_and_a_tenant_cannot()
    {
        var before = (await metrics.GlobalAsync())!;
        var first = TenantEvents.New();
        var second = TenantEvents.New();
        await metrics.HandledAsync(first.Provisioned("America/Bogota"));
        await metrics.HandledAsync(second.Provisioned("Europe/Madrid", crmEnabled: false));
        var at = new DateTimeOffset(2026, 3, 20, 10, 0, 0, TimeSpan.FromHours(-5));
        await metrics.HandledAsync(first.CustomerMessage(at));
        await metrics.HandledAsync(second.Sent(Contracts.MessageAuthor.AiAgent, at));
        await metrics.HandledAsync(second.Reply(at, 300, 100, 0.004m));

        var after = (await metrics.GlobalAsync())!;
        Assert.Equal((2, 1, 2, 1, 400L, 0.004m), (
            Delta(before, after, "tenants"), Delta(before, after, "tenantsWithCrm"), Delta(before, after, "totalMessages"), Delta(before, after, "aiMessages"),
            after["totalTokensUsed"]!.GetValue<long>() - before["totalTokensUsed"]!.GetValue<long>(),
            after["estimatedAiCost"]!.GetValue<decimal>() - before["estimatedAiCost"]!.GetValue<decimal>()));

        using var asTenant = await metrics.ClientFor(first.TenantId).GetAsync("/api/admin/metrics");
        Assert.Equal(HttpStatusCode.Forbidden, asTenant.StatusCode);
        using var anonymous = await metrics.CreateClient().GetAsync("/api/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static (string, string, string, int) Row(JsonNode? row) => (row!["period"]!.GetValue<string>(), row["periodStart"]!.GetValue<string>(),
        row["periodEnd"]!.GetValue<string>(), row["customerMessages"]!.GetValue<int>());

    private static int Delta(JsonNode before, JsonNode after, string field) => after[field]!.GetValue<int>() - before[field]!.GetValue<int>();
}
