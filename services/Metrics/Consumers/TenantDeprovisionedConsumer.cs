using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;

namespace SafeNotify.Crm.Metrics.Consumers;

/// <summary>A tenant is gone (a rolled-back migration): its facts, rollups and clock go too.</summary>
public sealed class TenantDeprovisionedConsumer(MetricsDbContext db) : TransactionalConsumer<TenantDeprovisioned, MetricsDbContext>(db)
{
    protected override async Task HandleAsync(TenantDeprovisioned message, ConsumeContext<TenantDeprovisioned> context, CancellationToken cancellationToken)
    {
        await Db.Facts.Where(f => f.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Daily.Where(d => d.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Tenants.Where(t => t.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
    }
}
