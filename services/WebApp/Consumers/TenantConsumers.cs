using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Data;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Consumers;

/// <summary>
/// A tenant Routing set up: its staff may now be invited, the console shows its name, and the first owner the operator
/// named (if any) is invited with the link the operator was given.
/// </summary>
public sealed class TenantProvisionedConsumer(WebAppDbContext db, TimeProvider time, ILogger<TenantProvisionedConsumer> logger)
    : TransactionalConsumer<TenantProvisioned, WebAppDbContext>(db)
{
    protected override async Task HandleAsync(TenantProvisioned message, ConsumeContext<TenantProvisioned> context, CancellationToken cancellationToken)
    {
        if (await Db.Tenants.SingleOrDefaultAsync(t => t.TenantId == message.TenantId, cancellationToken) is { } known)
        {
            known.Provisioned(message.Name);
        }
        else
        {
            Db.Tenants.Add(ConsoleTenant.Provisioned(message.TenantId, message.Name));
        }

        if (message.FirstOwner is { } owner)
        {
            await InviteFirstOwnerAsync(message.TenantId, owner, cancellationToken);
        }
    }

    private async Task InviteFirstOwnerAsync(string tenantId, FirstOwnerInvitation owner, CancellationToken cancellationToken)
    {
        var email = StaffAccount.NormalizeEmail(owner.Email);
        // An address has one account across every tenant: look it up across them before inviting it here.
        if (await Db.AcrossTenantsAsync(() => Db.Accounts.AnyAsync(a => a.Email == email, cancellationToken), cancellationToken))
        {
            logger.LogWarning("The first owner named for tenant {TenantId} was not invited: the address already has an account. Invite another address.", tenantId);
            return;
        }

        Db.Accounts.Add(StaffAccount.FirstOwner(Ids.New("staff"), tenantId, email, owner.DisplayName, owner.InvitationHash, owner.ExpiresAt, time.GetUtcNow()));
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
