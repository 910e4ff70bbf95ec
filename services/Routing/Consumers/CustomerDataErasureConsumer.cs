using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;

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
        await Db.UnroutedMessages
            .Where(m => m.CustomerId == message.CustomerId && (m.TenantId == message.TenantId || numbers.Contains(m.To)))
            .ExecuteUpdateAsync(set => set.SetProperty(m => m.CustomerId, Erased), cancellationToken);
    }
}
