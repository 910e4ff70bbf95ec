using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Consumers;
using SafeNotify.Crm.Routing.Model;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>Lead's erasure of a customer reaches the unrouted messages Routing keeps.</summary>
[Collection(RoutingCollection.Name)]
public sealed class CustomerDataErasureTests(RoutingService routing)
{
    [Fact]
    public async Task An_erased_customer_leaves_the_tenants_unrouted_messages_and_other_tenants_are_untouched()
    {
        var customer = "+57300" + Random.Shared.Next(1_000_000, 9_999_999);
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        var otherTenant = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        await routing.WithDbAsync(async db =>
        {
            db.UnroutedMessages.AddRange(Unrouted(customer, tenantId, "crm_disabled"), Unrouted(customer, otherTenant, "number_inactive"));
            return await db.SaveChangesAsync();
        });

        await routing.HandledAsync(new CustomerDataErasureRequested(tenantId, customer, "lead_1", DateTimeOffset.UtcNow) { NumberPhones = [] });

        var rows = await routing.WithDbAsync(db => db.UnroutedMessages.AsNoTracking().Where(m => m.TenantId == tenantId || m.TenantId == otherTenant).ToListAsync());
        Assert.Equal(CustomerDataErasureConsumer.Erased, rows.Single(r => r.TenantId == tenantId).CustomerId);
        Assert.Equal(customer, rows.Single(r => r.TenantId == otherTenant).CustomerId);
    }

    private static UnroutedMessage Unrouted(string customer, string tenantId, string reason) => new()
    {
        Id = "unr_" + Guid.NewGuid().ToString("N")[..12],
        MessageSid = "SM" + Guid.NewGuid().ToString("N"),
        AccountSid = "AC11111111111111111111111111111111",
        To = "+57601" + Random.Shared.Next(1_000_000, 9_999_999),
        CustomerId = customer,
        Reason = reason,
        TenantId = tenantId,
        ReceivedAt = DateTimeOffset.UtcNow,
    };
}
