using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Model;

/// <summary>One message of a conversation, in order, with its author and delivery status.</summary>
public sealed class ConversationMessage : Aggregate
{
    public required string Id { get; init; }
    public required string ConversationId { get; init; }
    public required string TenantId { get; init; }
    public MessageAuthor Author { get; init; }
    public string? AgentId { get; init; }
    public string? EmployeeId { get; init; }
    public string? Body { get; init; }

    /// <summary>An approved WhatsApp template sent instead of free text (outside the 24-hour window).</summary>
    public string? ContentSid { get; init; }

    public string? ContentVariables { get; init; }
    public List<WhatsAppMedia> Media { get; init; } = [];

    /// <summary>Ingress's id and sequence of a customer message (unique: a message is appended once).</summary>
    public string? InboundMessageId { get; init; }

    public long? Sequence { get; init; }

    /// <summary>For our messages: the newest customer message this one answers.</summary>
    public long? AnswersSequence { get; init; }

    private string? _deliveryStatus;

    /// <summary>Set when the message is made; afterwards only <see cref="RecordDelivery"/> moves it.</summary>
    public string? DeliveryStatus { get => _deliveryStatus; init => _deliveryStatus = value; }
    public string? TwilioSid { get; private set; }
    public string? ErrorCode { get; private set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; private set; }

    /// <summary>
    /// What Ingress reported of one of our messages: a status only ever moves forward (callbacks arrive out of order);
    /// "sending" is only our own mark until Ingress reports, and its first report replaces it even when it ranks lower
    /// in Twilio's order ("queued" on send, or "delivery_unknown" after a crash mid-send).
    /// </summary>
    public void RecordDelivery(string? twilioSid, string status, string? errorCode, DateTimeOffset at)
    {
        if (!string.IsNullOrEmpty(twilioSid))
        {
            TwilioSid ??= twilioSid; // a "delivery unknown" report carries no SID
        }

        ErrorCode ??= errorCode;
        if (status != DeliveryStatus && (DeliveryStatus == DeliveryStatuses.Sending || DeliveryStatuses.IsForward(DeliveryStatus, status)))
        {
            _deliveryStatus = status;
            Raise(new ConversationActivity(TenantId, ConversationId, ConversationChange.DeliveryStatusChanged, at)
                { MessageId = Id, Author = Author, DeliveryStatus = status }, OrderingKeys.ConversationActivity(TenantId, ConversationId));
        }

        if (SentAt is null && DeliveryStatuses.Rank(status) >= DeliveryStatuses.Rank("queued") && status != DeliveryStatuses.Failed)
        {
            SentAt = at;
        }
    }
}

/// <summary>
/// What came of an employee's reply: the message on its way (and whether the reply took the conversation), or the
/// closed customer-service window that refused free text.
/// </summary>
public sealed record HumanReply(ConversationMessage? Sent, bool TookOver, CustomerServiceWindow? ClosedWindow);
