using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Metrics.Tests;

/// <summary>Metrics' part of a rolled-back migration: a removed tenant's figures go, other tenants' stay.</summary>
[Collection(MetricsCollection.Name)]
public sealed class TenantDeprovisionedTests(MetricsService metrics)
{
    [Fact]
    public async Task A_deprovisioned_tenants_facts_rollups_and_clock_are_removed_and_nobody_elses()
    {
        var at = new DateTimeOffset(2026, 3, 20, 10, 0, 0, TimeSpan.FromHours(-5));
        var gone = TenantEvents.New();
        var stays = TenantEvents.New();
        foreach (var tenant in new[] { gone, stays })
        {
            await metrics.HandledAsync(tenant.Provisioned("America/Bogota"));
            await metrics.HandledAsync(tenant.CustomerMessage(at));
        }

        await metrics.HandledAsync(new TenantDeprovisioned(gone.TenantId, "user-" + gone.TenantId, MigratedTenants.RollbackReason, DateTimeOffset.UtcNow));

        Assert.Empty(await metrics.RowsAsync(gone.TenantId, "from=2026-03-20&to=2026-03-20"));
        Assert.False(await metrics.WithDbAsync(db => db.Facts.AnyAsync(f => f.TenantId == gone.TenantId)));
        Assert.False(await metrics.WithDbAsync(db => db.Tenants.AnyAsync(t => t.TenantId == gone.TenantId)));
        Assert.Single(await metrics.RowsAsync(stays.TenantId, "from=2026-03-20&to=2026-03-20"));
    }

    [Fact]
    public async Task News_of_a_removed_tenant_arriving_after_its_removal_brings_no_agent_number_or_tenant_back()
    {
        // Agent publishes the migrated "Asistente" under the agent's ordering key, the rollback goes under the
        // tenant's: Metrics may hear of the agent after the tenant is gone.
        var gone = TenantEvents.New();
        await metrics.HandledAsync(gone.Provisioned("America/Bogota"));
        await metrics.HandledAsync(new TenantDeprovisioned(gone.TenantId, "user-" + gone.TenantId, MigratedTenants.RollbackReason, DateTimeOffset.UtcNow));
        var before = (await metrics.GlobalAsync())!;

        await metrics.HandledAsync(gone.Agent(MigratedTenants.AssistantId(gone.TenantId), revision: 1));
        await metrics.HandledAsync(gone.Number(TenantEvents.Id("num"), DateTimeOffset.UtcNow));
        await metrics.HandledAsync(gone.PlanChanged(crmEnabled: true, "America/Bogota", DateTimeOffset.UtcNow));

        Assert.False(await metrics.WithDbAsync(db => db.Agents.AnyAsync(a => a.TenantId == gone.TenantId)));
        Assert.False(await metrics.WithDbAsync(db => db.Numbers.AnyAsync(n => n.TenantId == gone.TenantId)));
        Assert.False(await metrics.WithDbAsync(db => db.Tenants.AnyAsync(t => t.TenantId == gone.TenantId)));
        var after = (await metrics.GlobalAsync())!;
        Assert.Equal((before["tenants"]!.GetValue<int>(), before["agents"]!.GetValue<int>()), (after["tenants"]!.GetValue<int>(), after["agents"]!.GetValue<int>()));
    }
}
