using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Services;

namespace SafeNotify.Crm.Metrics.Consumers;

/// <summary>
/// A tenant is gone (a rolled-back migration): its facts (unanswered messages included), conversations, leads, rollups,
/// numbers, agents and clock go too, and it is marked removed so that news of it arriving later changes nothing.
/// </summary>
public sealed class TenantDeprovisionedConsumer(MetricsDbContext db) : TransactionalConsumer<TenantDeprovisioned, MetricsDbContext>(db)
{
    protected override async Task HandleAsync(TenantDeprovisioned message, ConsumeContext<TenantDeprovisioned> context, CancellationToken cancellationToken)
    {
        await RemovedTenants.MarkAsync(Db, message.TenantId, message.OccurredAt, cancellationToken);
        await Db.Facts.Where(f => f.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Conversations.Where(c => c.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Leads.Where(l => l.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Rollups.Where(r => r.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Unrouted.Where(u => u.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Numbers.Where(n => n.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Agents.Where(a => a.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Tenants.Where(t => t.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
    }
}
