using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>
/// A tenant erased one of its customers (Lead's <see cref="CustomerDataErasureRequested"/>): the customer's WhatsApp id
/// leaves the tenant's unrouted messages (the only customer data Routing keeps); the rows stay for the operators' figures.
/// </summary>
public sealed class CustomerDataErasureConsumer(RoutingDbContext db)
    : TransactionalConsumer<CustomerDataErasureRequested, RoutingDbContext>(db)
{
    public const string Erased = "erased";

    protected override async Task HandleAsync(CustomerDataErasureRequested message, ConsumeContext<CustomerDataErasureRequested> context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(message.CustomerId))
        {
            return;
        }

        var numbers = message.NumberPhones ?? [];
        // Messages to the tenant's numbers recorded before they were the tenant's carry no tenant: this crosses tenants.
        await Db.AcrossTenantsAsync(() => Db.UnroutedMessages
            .Where(m => m.CustomerId == message.CustomerId && (m.TenantId == message.TenantId || numbers.Contains(m.To)))
            .ExecuteUpdateAsync(set => set.SetProperty(m => m.CustomerId, Erased), cancellationToken), cancellationToken);

        // Published copies of the customer's routed messages (with their text) left in the outbox for its retention go too.
        var numberIds = await Db.Numbers.Where(n => n.TenantId == message.TenantId).Select(n => n.Id).ToListAsync(cancellationToken);
        var keys = numberIds.Select(id => OrderingKeys.Conversation(message.TenantId, id, message.CustomerId))
            .Concat(numbers.Select(n => OrderingKeys.InboundPair(n, message.CustomerId))).ToList();
        await Db.OutboxMessages.Where(o => o.DispatchedAt != null && keys.Contains(o.OrderingKey)).ExecuteDeleteAsync(cancellationToken);
    }
}
