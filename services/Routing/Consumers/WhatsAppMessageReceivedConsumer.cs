using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>
/// Number → tenant → who answers. Messages nobody can route (unknown or inactive number, CRM off, a number
/// of another Twilio account) are recorded for operators and announced, never answered.
/// </summary>
public sealed class WhatsAppMessageReceivedConsumer(RoutingDbContext db, TimeProvider time)
    : TransactionalConsumer<WhatsAppMessageReceived, RoutingDbContext>(db)
{
    protected override async Task HandleAsync(WhatsAppMessageReceived message, ConsumeContext<WhatsAppMessageReceived> context, CancellationToken cancellationToken)
    {
        var number = await Db.Numbers.FirstOrDefaultAsync(n => n.PhoneNumber == message.To, cancellationToken);
        var tenant = number is null ? null : await Db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == number.TenantId, cancellationToken);

        var reason = (number, tenant) switch
        {
            (null, _) or (_, null) => "unknown_number",
            _ when !number.IsActive => "number_inactive",
            _ when !tenant.CrmEnabled => "crm_disabled",
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
                TenantId = tenant?.Id,
                ReceivedAt = message.ReceivedAt,
            });
            Db.Publish(new InboundMessageUnrouted(message.InboundMessageId, message.MessageSid, message.AccountSid, message.To,
                message.CustomerId, reason, tenant?.Id, message.ReceivedAt), OrderingKeys.InboundPair(message.To, message.CustomerId));
            return;
        }

        var agents = await Db.Agents.AsNoTracking().Where(a => a.TenantId == number!.TenantId && !a.Deleted).ToListAsync(cancellationToken);
        var choice = AgentChooser.Choose(number!, agents, message.Text, time.GetUtcNow());
        number!.TotalMessages++;

        Db.Publish(
            new InboundMessageRouted(number.TenantId, number.Id, number.PhoneNumber, message.AccountSid, message.InboundMessageId,
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
