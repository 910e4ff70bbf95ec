using MassTransit;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Services;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Consumers;

public sealed class InboundMessageRoutedConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<InboundMessageRouted, LeadDbContext>(db)
{
    protected override Task HandleAsync(InboundMessageRouted message, ConsumeContext<InboundMessageRouted> context, CancellationToken cancellationToken) =>
        gate.OnCustomerMessageAsync(message, cancellationToken);
}

public sealed class AgentReplyGeneratedConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<AgentReplyGenerated, LeadDbContext>(db)
{
    protected override Task HandleAsync(AgentReplyGenerated message, ConsumeContext<AgentReplyGenerated> context, CancellationToken cancellationToken) =>
        gate.OnReplyWrittenAsync(message, cancellationToken);
}

public sealed class AgentReplyFailedConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<AgentReplyFailed, LeadDbContext>(db)
{
    protected override Task HandleAsync(AgentReplyFailed message, ConsumeContext<AgentReplyFailed> context, CancellationToken cancellationToken) =>
        gate.OnReplyFailedAsync(message, cancellationToken);
}

public sealed class OutboundMessageSentConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<OutboundMessageSent, LeadDbContext>(db)
{
    protected override Task HandleAsync(OutboundMessageSent message, ConsumeContext<OutboundMessageSent> context, CancellationToken cancellationToken) =>
        gate.OnDeliveryAsync(message.OutboundId, message.TwilioSid, message.Status, null, message.SentAt, cancellationToken);
}

public sealed class MessageDeliveryUpdatedConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<MessageDeliveryUpdated, LeadDbContext>(db)
{
    protected override Task HandleAsync(MessageDeliveryUpdated message, ConsumeContext<MessageDeliveryUpdated> context, CancellationToken cancellationToken) =>
        gate.OnDeliveryAsync(message.OutboundId, message.TwilioSid, message.Status, message.ErrorCode, message.UpdatedAt, cancellationToken);
}

public sealed class OutboundMessageFailedConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<OutboundMessageFailed, LeadDbContext>(db)
{
    protected override Task HandleAsync(OutboundMessageFailed message, ConsumeContext<OutboundMessageFailed> context, CancellationToken cancellationToken) =>
        gate.OnDeliveryAsync(message.OutboundId, null, DeliveryStatuses.Failed, message.ErrorCode, message.FailedAt, cancellationToken);
}
