using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Consumers;

/// <summary>A tenant is gone (a rolled-back migration): its leads and conversations go too.</summary>
public sealed class TenantDeprovisionedConsumer(LeadDbContext db) : TransactionalConsumer<TenantDeprovisioned, LeadDbContext>(db)
{
    protected override async Task HandleAsync(TenantDeprovisioned message, ConsumeContext<TenantDeprovisioned> context, CancellationToken cancellationToken)
    {
        await Db.Messages.Where(m => m.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Conversations.Where(c => c.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Leads.Where(l => l.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.StaffMembers.Where(m => m.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
    }
}
