using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>A tenant is gone (a rolled-back migration): its agents, prompt versions and plan go too. Nothing is announced.</summary>
public sealed class TenantDeprovisionedConsumer(AgentDbContext db) : TransactionalConsumer<TenantDeprovisioned, AgentDbContext>(db)
{
    protected override async Task HandleAsync(TenantDeprovisioned message, ConsumeContext<TenantDeprovisioned> context, CancellationToken cancellationToken)
    {
        await Db.Prompts.Where(p => p.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Agents.Where(a => a.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Tenants.Where(t => t.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
    }
}
