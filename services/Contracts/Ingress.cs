namespace SafeNotify.Crm.Contracts;

/// <summary>A file the customer attached (image, audio, document...), as Twilio hosts it.</summary>
public sealed record WhatsAppMedia(string Url, string? ContentType);

/// <summary>A location the customer shared.</summary>
public sealed record WhatsAppLocation(double Latitude, double Longitude, string? Label, string? Address);

/// <summary>
/// Ingress stored a customer's WhatsApp message. <see cref="Sequence"/> numbers the messages of one
/// (our number, customer) pair in the order Ingress stored them: Twilio's webhook carries no timestamp,
/// so every later step orders a conversation by it.
/// </summary>
public sealed record WhatsAppMessageReceived(
    string InboundMessageId,
    string MessageSid,
    string AccountSid,
    string To,
    string CustomerId,
    string? CustomerPhone,
    string? ProfileName,
    string? Text,
    IReadOnlyList<WhatsAppMedia> Media,
    long Sequence,
    DateTimeOffset ReceivedAt)
{
    public WhatsAppLocation? Location { get; init; }
    public string? ButtonPayload { get; init; }
    public string? ButtonText { get; init; }

    /// <summary>Twilio's <c>WaId</c>, the customer's WhatsApp account id (digits), when Twilio sent one.</summary>
    public string? WaId { get; init; }
}

public enum MessageAuthor
{
    Customer,
    AiAgent,
    Human,
    System,
}

/// <summary>
/// Command to Ingress: send one WhatsApp message from one of our numbers to a customer: <see cref="Body"/>
/// (free-form, sent only inside the 24-hour window), <see cref="ContentSid"/> (an approved template, with
/// <see cref="ContentVariables"/>), or both: then the text goes inside the window and the template outside it.
/// Free text alone outside the window fails (error 63016). <see cref="OutboundId"/> makes the command idempotent.
/// <see cref="QueueSequence"/> numbers the commands to one customer from one number (1, 2, ...; 0 from a Lead that did not
/// number them): Ingress sends them in that order.
/// </summary>
public sealed record SendWhatsAppMessage(
    string OutboundId,
    string TenantId,
    string ConversationId,
    string AccountSid,
    string From,
    string To,
    string? Body,
    MessageAuthor Author,
    DateTimeOffset RequestedAt)
{
    public string? ContentSid { get; init; }
    public string? ContentVariables { get; init; }
    public string? AgentId { get; init; }
    public string? EmployeeId { get; init; }
    public long QueueSequence { get; init; }
}

/// <summary>Twilio accepted an outbound message; <see cref="Status"/> is the status Twilio returned.</summary>
public sealed record OutboundMessageSent(
    string OutboundId,
    string TenantId,
    string ConversationId,
    string TwilioSid,
    string Status,
    MessageAuthor Author,
    int Parts,
    DateTimeOffset SentAt);

/// <summary>The delivery status of an outbound message moved forward (sent, delivered, read, failed, ...).</summary>
public sealed record MessageDeliveryUpdated(
    string OutboundId,
    string TenantId,
    string ConversationId,
    string TwilioSid,
    string Status,
    string? ErrorCode,
    DateTimeOffset UpdatedAt);

/// <summary>An outbound message could not be sent; <see cref="Reason"/> says why in words.</summary>
public sealed record OutboundMessageFailed(
    string OutboundId,
    string TenantId,
    string ConversationId,
    string Reason,
    string? ErrorCode,
    DateTimeOffset FailedAt);
