using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

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
    public async Task Figures_of_a_removed_tenant_arriving_after_its_removal_are_not_counted()
    {
        var at = new DateTimeOffset(2026, 3, 21, 10, 0, 0, TimeSpan.FromHours(-5));
        var gone = TenantEvents.New();
        await metrics.HandledAsync(gone.Provisioned("America/Bogota"));
        await metrics.HandledAsync(new TenantDeprovisioned(gone.TenantId, "user-" + gone.TenantId, MigratedTenants.RollbackReason, DateTimeOffset.UtcNow));

        // Messages, conversations and leads of the tenant that were still on their way.
        var conversationId = TenantEvents.Id("conv");
        await metrics.HandledAsync(gone.CustomerMessage(at));
        await metrics.HandledAsync(gone.Opened(at, conversationId, leadId: TenantEvents.Id("lead")));
        await metrics.HandledAsync(gone.Sent(MessageAuthor.AiAgent, at.AddMinutes(1), conversationId));
        await metrics.HandledAsync(gone.NewLead(at));
        await metrics.HandledAsync(gone.Unrouted(at));

        Assert.Equal((0, 0, 0, 0, 0), await FiguresOfAsync(gone.TenantId));
    }

    [Fact]
    public async Task A_figure_being_recorded_when_the_removal_comes_is_removed_with_the_rest()
    {
        var at = new DateTimeOffset(2026, 3, 22, 10, 0, 0, TimeSpan.FromHours(-5));
        var gone = TenantEvents.New();
        var conversationId = TenantEvents.Id("conv");
        await metrics.HandledAsync(gone.Provisioned("America/Bogota"));
        await metrics.HandledAsync(gone.Opened(at, conversationId));

        // This test holds the conversation's row, so the reply's fact is being recorded (and waits) when the removal comes.
        var replyId = NewId.NextGuid();
        var removalId = NewId.NextGuid();
        await metrics.WithDbAsync(async db =>
        {
            await using var brake = await db.Database.BeginTransactionAsync();
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM metrics.conversation_facts WHERE tenant_id = {gone.TenantId} AND conversation_id = {conversationId} FOR UPDATE");
            await metrics.Bus.Publish(gone.Sent(MessageAuthor.AiAgent, at.AddMinutes(1), conversationId), context => context.MessageId = replyId);
            await Eventually.TrueAsync(async () => await BlockedAsync() == 1, "the reply's fact to wait for the conversation");
            await metrics.Bus.Publish(new TenantDeprovisioned(gone.TenantId, "user-" + gone.TenantId, MigratedTenants.RollbackReason, DateTimeOffset.UtcNow),
                context => context.MessageId = removalId);
            await Eventually.TrueAsync(async () => await BlockedAsync() == 2, "the removal to wait too");
            await brake.RollbackAsync();
            return true;
        });
        await metrics.Consumed.WaitAsync(replyId, "the reply");
        await metrics.Consumed.WaitAsync(removalId, "the removal");

        Assert.Equal((0, 0, 0, 0, 0), await FiguresOfAsync(gone.TenantId));
    }

    /// <summary>How many of the service's connections wait for a lock another one holds.</summary>
    private Task<int> BlockedAsync() => metrics.WithDbAsync(DatabaseLocks.BlockedAsync);

    /// <summary>The tenant's facts, conversations, leads, daily rollups and unanswered messages.</summary>
    private Task<(int, int, int, int, int)> FiguresOfAsync(string tenantId) => metrics.WithDbAsync(async db => (
        await db.Facts.CountAsync(f => f.TenantId == tenantId),
        await db.Conversations.CountAsync(c => c.TenantId == tenantId),
        await db.Leads.CountAsync(l => l.TenantId == tenantId),
        await db.Rollups.CountAsync(r => r.TenantId == tenantId),
        await db.Unrouted.CountAsync(u => u.TenantId == tenantId)));

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
