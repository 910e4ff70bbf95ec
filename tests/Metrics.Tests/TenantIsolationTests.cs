using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>
/// Isolation in depth: besides the filters in code, Postgres row-level security keeps each tenant's figures to
/// itself, so a query that forgets its tenant filter still sees nothing of another tenant.
/// </summary>
[Collection(MetricsCollection.Name)]
public sealed class TenantIsolationTests(MetricsService metrics)
{
    [Fact]
    public async Task A_query_without_a_tenant_filter_sees_none_of_another_tenants_rows_and_cannot_write_them()
    {
        var at = new DateTimeOffset(2026, 3, 20, 10, 0, 0, TimeSpan.FromHours(-5));
        var tenantA = TenantEvents.New();
        var tenantB = TenantEvents.New();
        foreach (var tenant in new[] { tenantA, tenantB })
        {
            var conversationId = TenantEvents.Id("conv");
            await metrics.HandledAsync(tenant.Provisioned("America/Bogota"));
            await metrics.HandledAsync(tenant.Agent("agt_1", 1));
            await metrics.HandledAsync(tenant.Opened(at, conversationId));
            await metrics.HandledAsync(tenant.CustomerMessage(at));
            await metrics.HandledAsync(tenant.NewLead(at));
            await metrics.HandledAsync(tenant.Number("num_1", DateTimeOffset.UtcNow));
            await metrics.HandledAsync(tenant.Unrouted(at));
        }

        // The removal marker is written directly: a real removal would empty every other table the probe reads.
        await metrics.WithDbAsync(db =>
        {
            db.RemovedTenants.AddRange(new[] { tenantA, tenantB }.Select(t => new RemovedTenant { TenantId = t.TenantId, RemovedAt = at }));
            return db.SaveChangesAsync();
        });

        var report = await TenantIsolationProbe.ProbeAsync(metrics, tenantA.TenantId, tenantB.TenantId);

        Assert.True(report.Problems.Count == 0, string.Join(Environment.NewLine, report.Problems));
        Assert.Equal(report.TenantTables, report.Checked);
        Assert.Superset(new HashSet<string> { "conversation_facts", "daily_rollups", "lead_facts", "metric_facts", "removed_tenants", "tenant_agents", "tenant_clocks", "tenant_numbers", "unrouted_facts" }, report.Checked.ToHashSet());
    }
}
