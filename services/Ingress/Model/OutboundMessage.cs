using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Services;

namespace SafeNotify.Crm.Ingress.Model;

/// <summary>Where a message we send stands, as a whole.</summary>
public enum OutboundState
{
    /// <summary>Recorded; its parts are being sent (or wait for a retry or a pacing slot).</summary>
    Pending,

    /// <summary>Twilio accepted every part.</summary>
    Sent,

    /// <summary>A part stopped inside the Twilio call and could not be found at Twilio: never resent, shown to operators.</summary>
    DeliveryUnknown,

    Failed,
}

/// <summary>Where one Twilio send stands.</summary>
public enum PartState
{
    Pending,

    /// <summary>The Twilio call is being made (committed before the call).</summary>
    Sending,

    /// <summary>Twilio refused for a moment (429, 5xx): sent again at <see cref="OutboundPart.NextAttemptAt"/>.</summary>
    RetryPending,

    Sent,
    DeliveryUnknown,
    Failed,
}

/// <summary>
/// A message we send (one <see cref="SendWhatsAppMessage"/> command), recorded before Twilio is called: a
/// redelivered command finds it and never sends the customer the same text twice. A reply over Twilio's 1600
/// characters becomes several parts, sent in order. The messages from one of our numbers to one customer form a
/// queue: one starts only when every earlier one has ended (see <see cref="OutboundSender"/>).
/// </summary>
public sealed class OutboundMessage
{
    public required string OutboundId { get; init; }
    public required string TenantId { get; init; }
    public required string ConversationId { get; init; }
    public required string AccountSid { get; init; }
    public required string From { get; init; }
    public required string To { get; init; }
    public string? Body { get; init; }
    public string? ContentSid { get; init; }
    public string? ContentVariables { get; init; }

    /// <summary>
    /// True when the approved template (<see cref="ContentSid"/>) is what goes out, as one send; false when the free
    /// text (<see cref="Body"/>) does. Decided once, when the command is recorded, by the 24-hour window.
    /// </summary>
    public bool SendsTemplate { get; init; }

    public MessageAuthor Author { get; init; }
    public OutboundState State { get; set; }

    /// <summary>When Lead issued the command: the order of the (number, customer) queue.</summary>
    public DateTimeOffset RequestedAt { get; init; }

    /// <summary>
    /// When the command was published (its envelope's sent time). Lead's outbox publishes one conversation's
    /// commands one after another, so this orders the commands Lead issued in the same instant (one transaction).
    /// </summary>
    public DateTimeOffset PublishedAt { get; init; }

    /// <summary>The order in which Ingress recorded its messages: the last tie-break of the queue's order.</summary>
    public long Sequence { get; init; }

    /// <summary>
    /// When the message became the one its (number, customer) queue is sending; null while it waits for an earlier
    /// message to that customer from that number to end. At most one message per queue is started and pending.
    /// </summary>
    public DateTimeOffset? StartedAt { get; set; }

    /// <summary>The status reported to Lead: the least advanced of the parts' Twilio statuses (or failed).</summary>
    public string? ReportedStatus { get; set; }

    public string? ErrorCode { get; set; }
    public string? FailureReason { get; set; }

    /// <summary>
    /// Why the approved template went out instead of the command's free text (the 24-hour window had closed);
    /// null when the text went out, or when only a template was asked for.
    /// </summary>
    public string? TemplateReason { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<OutboundPart> Parts { get; init; } = [];
}

/// <summary>One Twilio send of an outbound message (a part of its text, or its template).</summary>
public sealed class OutboundPart
{
    public required string OutboundId { get; init; }

    /// <summary>The message's tenant, repeated here so that row-level security guards the part's text too.</summary>
    public required string TenantId { get; init; }
    public int Index { get; init; }
    public string? Body { get; init; }
    public PartState State { get; set; }
    public string? TwilioSid { get; set; }

    /// <summary>Twilio's status (queued, sent, delivered, read, failed, ...), only ever moved forward.</summary>
    public string? TwilioStatus { get; set; }

    public string? ErrorCode { get; set; }
    public int Attempts { get; set; }

    /// <summary>Not before: a retry's backoff, or the sending number's pacing slot.</summary>
    public DateTimeOffset? NextAttemptAt { get; set; }

    /// <summary>A pacing slot reserved for this part while it waits for it (so waking up does not reserve another).</summary>
    public DateTimeOffset? PacedSlotAt { get; set; }

    /// <summary>When the current Twilio call began; a part still "sending" long after that was interrupted.</summary>
    public DateTimeOffset? AttemptStartedAt { get; set; }

    public DateTimeOffset? SentAt { get; set; }
}

/// <summary>
/// A status callback that arrived before its send's SID was recorded (Twilio may call back before the answer to the
/// send reaches us, and never sends a callback again). Applied, forward only, when the SID is recorded; kept at most
/// <see cref="TwilioOptions.EarlyStatusCallbackRetention"/> (a SID never recorded is not ours).
/// </summary>
public sealed class EarlyStatusCallback
{
    public required string TwilioSid { get; init; }
    public required string Status { get; init; }
    public string? ErrorCode { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}

/// <summary>The next free sending slot of one of our numbers (Twilio paces WhatsApp senders at about 10/s).</summary>
public sealed class SenderPacing
{
    public required string Number { get; init; }
    public DateTimeOffset NextSlotAt { get; set; }
}
