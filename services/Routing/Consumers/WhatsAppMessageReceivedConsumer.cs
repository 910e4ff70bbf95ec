using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>
/// Number → tenant → who answers, from the in-memory <see cref="RoutingDirectory"/>. Messages nobody can
/// route (unknown or inactive number, a number beyond the plan after a downgrade, CRM off, a number of
/// another Twilio account) are recorded for operators and announced, never answered. Every message to a
/// known number counts in its <c>totalMessages</c>, answered or not.
/// </summary>
public sealed class WhatsAppMessageReceivedConsumer(RoutingDbContext db, RoutingDirectory directory, TimeProvider time)
    : NumberTotalsConsumer<WhatsAppMessageReceived>(db)
{
    // Messages of one (number, customer) pair are routed one at a time across instances, so their
    // InboundMessageRouted rows enter the outbox, and leave it, in the order they were handled.
    protected override ValueTask<string?> LockKeyAsync(WhatsAppMessageReceived message, CancellationToken cancellationToken) =>
        ValueTask.FromResult<string?>(OrderingKeys.InboundPair(message.To, message.CustomerId));

    protected override async Task HandleAsync(WhatsAppMessageReceived message, ConsumeContext<WhatsAppMessageReceived> context, CancellationToken cancellationToken)
    {
        var (routing, number) = await directory.FindByPhoneAsync(message.To, Db, cancellationToken);
        if (routing is not null)
        {
            await Db.ForTenant(routing.Tenant.Id, cancellationToken); // the rest is that tenant's work only
        }

        if (number is not null)
        {
            Totals.MessageReceived(number);
        }

        var reason = (routing, number) switch
        {
            (null, _) or (_, null) => "unknown_number",
            _ when routing.StatusOf(number) is var status && status != NumberRoutingStatus.Answering => PlanAllowance.UnroutedReason(status),
            _ when number.TwilioSid is not null && number.TwilioSid != message.AccountSid => "account_mismatch",
            _ => null,
        };
        if (reason is not null)
        {
            Db.UnroutedMessages.Add(new UnroutedMessage
            {
                Id = Ids.New("unr"),
                MessageSid = message.MessageSid,
                AccountSid = message.AccountSid,
                To = message.To,
                CustomerId = message.CustomerId,
                Reason = reason,
                TenantId = routing?.Tenant.Id,
                ReceivedAt = message.ReceivedAt,
            });
            Db.Publish(new InboundMessageUnrouted(message.InboundMessageId, message.MessageSid, message.AccountSid, message.To,
                message.CustomerId, reason, routing?.Tenant.Id, message.ReceivedAt), OrderingKeys.InboundPair(message.To, message.CustomerId));
            if (routing is null)
            {
                // A message to a number of no tenant is kept for operators only (no tenant_id): written across tenants.
                await Db.AcrossTenantsAsync(() => Db.SaveChangesAsync(cancellationToken), cancellationToken);
            }

            return;
        }

        var choice = AgentChooser.Choose(number!, routing!.Agents, message.Text, time.GetUtcNow());
        Db.Publish(
            new InboundMessageRouted(number!.TenantId, number.Id, number.PhoneNumber, message.AccountSid, message.InboundMessageId,
                message.MessageSid, message.CustomerId, message.CustomerPhone, message.ProfileName, message.Text, message.Media,
                message.Sequence, message.ReceivedAt, choice.Reply, choice.AgentId, choice.Reason, choice.MatchedKeyword, choice.InsideBusinessHours)
            {
                OutOfHoursText = choice.OutOfHoursText,
                Location = message.Location,
                ButtonPayload = message.ButtonPayload,
            },
            OrderingKeys.Conversation(number.TenantId, number.Id, message.CustomerId));
    }
}
