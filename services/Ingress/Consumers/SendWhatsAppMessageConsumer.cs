using MassTransit;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Ingress.Services;

namespace SafeNotify.Crm.Ingress.Consumers;

/// <summary>One command from Lead becomes one or more Twilio sends (see <see cref="OutboundSender"/>).</summary>
public sealed class SendWhatsAppMessageConsumer(OutboundSender sender) : IConsumer<SendWhatsAppMessage>
{
    public Task Consume(ConsumeContext<SendWhatsAppMessage> context) => 
        sender.AcceptAsync(context.Message, context.SentTime is { } sent ? new DateTimeOffset(DateTime.SpecifyKind(sent, DateTimeKind.Utc)) : null, context.CancellationToken);
}

/// <summary>A part's retry or pacing slot is due.</summary>
public sealed class OutboundSendDueConsumer(OutboundSender sender) : IConsumer<OutboundSendDue>
{
    public Task Consume(ConsumeContext<OutboundSendDue> context) => sender.ProcessAsync(context.Message.OutboundId, context.CancellationToken);
}
