using System.Net;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>Metrics knows a tenant's WhatsApp number from Routing's NumberChanged, before its first conversation.</summary>
[Collection(MetricsCollection.Name)]
public sealed class NumbersTests(MetricsService metrics)
{
    private const string Day = "from=2026-09-01&to=2026-09-01";

    [Fact]
    public async Task A_new_number_answers_zeros_at_once_and_another_tenant_or_an_unknown_id_gets_a_404()
    {
        var tenant = TenantEvents.New();
        var other = TenantEvents.New();
        var numberId = TenantEvents.Id("num");
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(tenant.TenantId, $"numbers/{numberId}", Day)).Status);

        await metrics.HandledAsync(tenant.Number(numberId, DateTimeOffset.UtcNow));

        // Nothing counted yet: no period has any figure (a 200 with no rows, as for a tenant without events).
        Assert.Empty(await metrics.RowsAsync(tenant.TenantId, $"numbers/{numberId}", Day));
        Assert.Empty(await metrics.RowsAsync(tenant.TenantId, $"numbers/{numberId}", "period=MONTHLY"));
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(other.TenantId, $"numbers/{numberId}", Day)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(tenant.TenantId, $"numbers/{TenantEvents.Id("num")}", Day)).Status);
        // The checks of the query still apply to a number with no figures.
        Assert.Equal(HttpStatusCode.BadRequest, (await metrics.DimensionAsync(tenant.TenantId, $"numbers/{numberId}", "period=HOURLY")).Status);

        // Its first message then counts on it.
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 9, 1, 10, 0, 0, TimeSpan.FromHours(-5)), numberId: numberId));
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, $"numbers/{numberId}", Day)), new { customerMessages = 1 });
    }

    [Fact]
    public async Task A_deleted_number_without_figures_is_a_404_whatever_order_the_events_arrive_in_and_one_with_figures_keeps_its_history()
    {
        var tenant = TenantEvents.New();
        var now = DateTimeOffset.UtcNow;
        var (empty, used) = (TenantEvents.Id("num"), TenantEvents.Id("num"));

        await metrics.HandledAsync(tenant.Number(empty, now.AddMinutes(1), deleted: true));
        await metrics.HandledAsync(tenant.Number(empty, now)); // the creation arrives after the deletion: changes nothing
        Assert.Equal(HttpStatusCode.NotFound, (await metrics.DimensionAsync(tenant.TenantId, $"numbers/{empty}", Day)).Status);

        await metrics.HandledAsync(tenant.Number(used, now));
        await metrics.HandledAsync(tenant.CustomerMessage(new DateTimeOffset(2026, 9, 1, 10, 0, 0, TimeSpan.FromHours(-5)), numberId: used));
        await metrics.HandledAsync(tenant.Number(used, now.AddMinutes(1), deleted: true));
        Expect.Figures(Assert.Single(await metrics.RowsAsync(tenant.TenantId, $"numbers/{used}", Day)), new { customerMessages = 1 });
    }
}
