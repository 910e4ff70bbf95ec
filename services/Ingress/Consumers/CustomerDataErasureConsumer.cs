using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Ingress.Consumers;

/// <summary>
/// A tenant erased one of its customers (Lead's <see cref="CustomerDataErasureRequested"/>): the customer's texts,
/// profile name, phone, media, location and Twilio's raw payloads are removed from the messages Ingress keeps,
/// inbound (to the tenant's numbers the customer wrote to) and outbound (the tenant's messages to the customer).
/// The rows stay, emptied, so a message Twilio delivers again is still recognised and never sent twice.
/// </summary>
public sealed class CustomerDataErasureConsumer(IngressDbContext db)
    : TransactionalConsumer<CustomerDataErasureRequested, IngressDbContext>(db)
{
    public const string Erased = "erased";

    protected override async Task HandleAsync(CustomerDataErasureRequested message, ConsumeContext<CustomerDataErasureRequested> context, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(message.CustomerId))
        {
            return;
        }

        var customer = message.CustomerId;
        var numbers = message.NumberPhones ?? [];
        if (numbers.Count > 0)
        {
            // Inbound messages carry no tenant: the tenant's numbers the customer wrote to scope them.
            await Db.InboundMessages.Where(m => m.CustomerId == customer && numbers.Contains(m.To)).ExecuteUpdateAsync(set => set
                .SetProperty(m => m.CustomerId, Erased)
                .SetProperty(m => m.CustomerPhone, (string?)null)
                .SetProperty(m => m.WaId, (string?)null)
                .SetProperty(m => m.ProfileName, (string?)null)
                .SetProperty(m => m.Body, (string?)null)
                .SetProperty(m => m.Media, new List<WhatsAppMedia>())
                .SetProperty(m => m.Location, (WhatsAppLocation?)null)
                .SetProperty(m => m.ButtonPayload, (string?)null)
                .SetProperty(m => m.ButtonText, (string?)null)
                .SetProperty(m => m.RawPayload, new Dictionary<string, string>()), cancellationToken);
            await Db.CustomerSequences.Where(s => s.CustomerId == customer && numbers.Contains(s.Number)).ExecuteDeleteAsync(cancellationToken);
            // Published copies of the customer's messages left in the outbox (kept for its retention) go too.
            await Db.ForgetPublishedAsync(numbers.Select(n => OrderingKeys.InboundPair(n, customer)).ToList(), cancellationToken);
        }

        var outbound = Db.OutboundMessages.Where(m => m.TenantId == message.TenantId && m.To == customer);
        await Db.OutboundParts.Where(p => outbound.Select(m => m.OutboundId).Contains(p.OutboundId))
            .ExecuteUpdateAsync(set => set.SetProperty(p => p.Body, (string?)null), cancellationToken);
        await outbound.ExecuteUpdateAsync(set => set
            .SetProperty(m => m.To, Erased)
            .SetProperty(m => m.Body, (string?)null)
            .SetProperty(m => m.ContentVariables, (string?)null)
            .SetProperty(m => m.FailureReason, (string?)null), cancellationToken);
    }
}
