using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>Lead's part of a rolled-back migration: a removed tenant's leads and conversations go, other tenants' stay.</summary>
[Collection(LeadCollection.Name)]
public sealed class TenantDeprovisionedTests(LeadService lead)
{
    [Fact]
    public async Task A_deprovisioned_tenants_leads_conversations_and_messages_are_removed_and_nobody_elses()
    {
        var gone = Chat.New();
        var stays = Chat.New();
        foreach (var chat in new[] { gone, stays })
        {
            await lead.HandledAsync(chat.Says(1, "hola", Chat.NewAgent()));
            await Eventually.TrueAsync(() => lead.WithDbAsync(db => db.Messages.AnyAsync(m => m.TenantId == chat.TenantId)), "the message to be stored");
        }

        await lead.HandledAsync(new TenantDeprovisioned(gone.TenantId, "user", MigratedTenants.RollbackReason, DateTimeOffset.UtcNow));

        Assert.False(await lead.WithDbAsync(db => db.Leads.AnyAsync(l => l.TenantId == gone.TenantId)));
        Assert.False(await lead.WithDbAsync(db => db.Conversations.AnyAsync(c => c.TenantId == gone.TenantId)));
        Assert.False(await lead.WithDbAsync(db => db.Messages.AnyAsync(m => m.TenantId == gone.TenantId)));
        Assert.True(await lead.WithDbAsync(db => db.Leads.AnyAsync(l => l.TenantId == stays.TenantId)));
    }
}
