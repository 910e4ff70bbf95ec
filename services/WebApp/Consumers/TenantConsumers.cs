using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.WebApp.Data;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Consumers;

/// <summary>A tenant Routing set up: its staff may now be invited, and the console shows its name.</summary>
public sealed class TenantProvisionedConsumer(WebAppDbContext db) : TransactionalConsumer<TenantProvisioned, WebAppDbContext>(db)
{
    protected override async Task HandleAsync(TenantProvisioned message, ConsumeContext<TenantProvisioned> context, CancellationToken cancellationToken)
    {
        if (await Db.Tenants.SingleOrDefaultAsync(t => t.TenantId == message.TenantId, cancellationToken) is { } known)
        {
            known.Provisioned(message.Name);
            return;
        }

        Db.Tenants.Add(ConsoleTenant.Provisioned(message.TenantId, message.Name));
    }
}

/// <summary>A tenant is gone (a rolled-back migration): its staff accounts go with it, and their sessions end at their next check.</summary>
public sealed class TenantDeprovisionedConsumer(WebAppDbContext db) : TransactionalConsumer<TenantDeprovisioned, WebAppDbContext>(db)
{
    protected override async Task HandleAsync(TenantDeprovisioned message, ConsumeContext<TenantDeprovisioned> context, CancellationToken cancellationToken)
    {
        await Db.Accounts.Where(a => a.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
        await Db.Tenants.Where(t => t.TenantId == message.TenantId).ExecuteDeleteAsync(cancellationToken);
    }
}
