using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Consumers;

/// <summary>
/// A customer message, handled in Ingress's sequence order per (tenant, number, customer) whatever the number of
/// Lead instances: the conversation's lock serialises them, and a message that overtook its predecessor waits for
/// it (boundedly, see <see cref="ConversationOrder"/>). So messages are appended in order and the conversation's rule
/// (only a reply to the newest customer message goes out) keeps replies in order.
/// </summary>
public sealed class InboundMessageRoutedConsumer(LeadDbContext db, TimeProvider time)
    : TransactionalConsumer<InboundMessageRouted, LeadDbContext>(db)
{
    protected override ValueTask<string?> LockKeyAsync(InboundMessageRouted message, CancellationToken cancellationToken) =>
        ValueTask.FromResult<string?>(OrderingKeys.Conversation(message.TenantId, message.NumberId, message.CustomerId));

    protected override async Task HandleAsync(InboundMessageRouted message, ConsumeContext<InboundMessageRouted> context, CancellationToken cancellationToken)
    {
        var key = OrderingKeys.Conversation(message.TenantId, message.NumberId, message.CustomerId);
        if (await Db.Messages.AnyAsync(m => m.InboundMessageId == message.InboundMessageId, cancellationToken))
        {
            return; // already appended (a republished copy under another message id)
        }

        var lastHandled = await Db.Messages
            .Where(m => m.TenantId == message.TenantId && m.Author == MessageAuthor.Customer && m.Sequence != null
                && Db.Conversations.Any(c => c.Id == m.ConversationId && c.WhatsappNumberId == message.NumberId && c.CustomerId == message.CustomerId))
            .MaxAsync(m => m.Sequence, cancellationToken);
        ConversationOrder.WaitForPredecessor(context, key, message.Sequence, lastHandled);

        var now = time.GetUtcNow();
        var settings = await Db.SettingsForAsync(message.TenantId, cancellationToken);
        var lead = await Db.LeadWhoWroteAsync(message, settings, now, cancellationToken);
        var conversation = await Db.OpenConversationAsync(message.TenantId, message.NumberId, message.CustomerId, cancellationToken);
        if (conversation is null)
        {
            conversation = Conversation.Open(message, lead, settings, await Db.SendsBeforeAsync(message.TenantId, message.NumberId, message.CustomerId, cancellationToken), now);
            Db.Conversations.Add(conversation);
        }

        await conversation.ReceiveAsync(message, lead, settings, Db, now, cancellationToken);
    }
}

public sealed class AgentReplyGeneratedConsumer(LeadDbContext db, TimeProvider time)
    : TransactionalConsumer<AgentReplyGenerated, LeadDbContext>(db)
{
    protected override async ValueTask<string?> LockKeyAsync(AgentReplyGenerated message, CancellationToken cancellationToken) =>
        await Db.ConversationKeyAsync(message.TenantId, message.ConversationId, cancellationToken);

    protected override async Task HandleAsync(AgentReplyGenerated message, ConsumeContext<AgentReplyGenerated> context, CancellationToken cancellationToken)
    {
        if (await Db.ConversationAsync(message.TenantId, message.ConversationId, cancellationToken) is { } conversation)
        {
            await conversation.AcceptReplyAsync(message, Db, time.GetUtcNow(), cancellationToken);
        }
    }
}

public sealed class AgentReplyFailedConsumer(LeadDbContext db, TimeProvider time)
    : TransactionalConsumer<AgentReplyFailed, LeadDbContext>(db)
{
    protected override async ValueTask<string?> LockKeyAsync(AgentReplyFailed message, CancellationToken cancellationToken) =>
        await Db.ConversationKeyAsync(message.TenantId, message.ConversationId, cancellationToken);

    protected override async Task HandleAsync(AgentReplyFailed message, ConsumeContext<AgentReplyFailed> context, CancellationToken cancellationToken)
    {
        if (await Db.ConversationAsync(message.TenantId, message.ConversationId, cancellationToken) is { } conversation)
        {
            await conversation.ReplyFailedAsync(message, Db, time.GetUtcNow(), cancellationToken);
        }
    }
}

/// <summary>What Ingress reports of one of our messages, each message's reports one at a time.</summary>
public abstract class DeliveryConsumer<TMessage>(LeadDbContext db) : TransactionalConsumer<TMessage, LeadDbContext>(db)
    where TMessage : class
{
    protected override ValueTask<string?> LockKeyAsync(TMessage message, CancellationToken cancellationToken) =>
        ValueTask.FromResult<string?>("lead-outbound:" + OutboundIdOf(message));

    protected abstract string OutboundIdOf(TMessage message);
}

internal static class DeliveryReports
{
    /// <summary>Applies what Ingress reported of one of our messages (<see cref="ConversationMessage.RecordDelivery"/>).</summary>
    public static async Task RecordDeliveryAsync(this LeadDbContext db, string outboundId, string? twilioSid, string status, string? errorCode,
        DateTimeOffset at, CancellationToken cancellationToken)
    {
        var message = await db.Messages.FirstOrDefaultAsync(m => m.Id == outboundId, cancellationToken);
        message?.RecordDelivery(twilioSid, status, errorCode, at);
    }
}

public sealed class OutboundMessageSentConsumer(LeadDbContext db)
    : DeliveryConsumer<OutboundMessageSent>(db)
{
    protected override string OutboundIdOf(OutboundMessageSent message) => message.OutboundId;

    protected override Task HandleAsync(OutboundMessageSent message, ConsumeContext<OutboundMessageSent> context, CancellationToken cancellationToken) =>
        Db.RecordDeliveryAsync(message.OutboundId, message.TwilioSid, message.Status, null, message.SentAt, cancellationToken);
}

public sealed class MessageDeliveryUpdatedConsumer(LeadDbContext db)
    : DeliveryConsumer<MessageDeliveryUpdated>(db)
{
    protected override string OutboundIdOf(MessageDeliveryUpdated message) => message.OutboundId;

    protected override Task HandleAsync(MessageDeliveryUpdated message, ConsumeContext<MessageDeliveryUpdated> context, CancellationToken cancellationToken) =>
        Db.RecordDeliveryAsync(message.OutboundId, message.TwilioSid, message.Status, message.ErrorCode, message.UpdatedAt, cancellationToken);
}

public sealed class OutboundMessageFailedConsumer(LeadDbContext db)
    : DeliveryConsumer<OutboundMessageFailed>(db)
{
    protected override string OutboundIdOf(OutboundMessageFailed message) => message.OutboundId;

    protected override Task HandleAsync(OutboundMessageFailed message, ConsumeContext<OutboundMessageFailed> context, CancellationToken cancellationToken) =>
        Db.RecordDeliveryAsync(message.OutboundId, null, DeliveryStatuses.Failed, message.ErrorCode, message.FailedAt, cancellationToken);
}
