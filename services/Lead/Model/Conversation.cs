using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Model;

public enum ConversationStatus
{
    Active,
    WaitingHuman,
    Resolved,
    Closed,
}

public enum ConversationPriority
{
    Low,
    Normal,
    High,
    Urgent,
}

/// <summary>Who may answer: the bot, a human employee, or nobody for now.</summary>
public enum ConversationOwner
{
    Bot,
    Human,
    Paused,
}

/// <summary>
/// A CRM conversation (seed "CRMConversation"): one open per tenant, number and customer. Lead is its
/// gatekeeper: it decides whether the bot may answer and whether a written reply may still go out.
/// </summary>
public sealed class Conversation
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string CustomerLeadId { get; init; }
    public required string WhatsappNumberId { get; init; }
    public required string NumberPhone { get; init; }
    public required string AccountSid { get; set; }
    public required string CustomerId { get; init; }
    public required string SessionId { get; init; }
    public string? CustomerPhone { get; set; }

    public ConversationStatus Status { get; set; } = ConversationStatus.Active;
    public string CurrentStep { get; set; } = "greeting";
    public ConversationPriority Priority { get; set; } = ConversationPriority.Normal;
    public string? CurrentAgentId { get; set; }

    /// <summary>Why the current agent answers (Routing's proposal, or "sticky"), or, when Routing proposed nobody, why nobody does.</summary>
    public string? AgentReason { get; set; }

    public int MessageCount { get; set; }

    /// <summary>Seconds from the first customer message to the first reply.</summary>
    public int? FirstResponseTime { get; set; }

    public double? AvgResponseTime { get; set; }
    public DateTimeOffset LastMessageAt { get; set; }
    public bool RequiresAttention { get; set; }
    public string? AssignedToUser { get; set; }
    public List<string> Tags { get; set; } = [];
    public string? Category { get; set; }
    public string? Intent { get; set; }
    public int? SatisfactionRating { get; set; }
    public string? Outcome { get; set; }
    public decimal ConversionValue { get; set; }
    public string? InternalNotes { get; set; }

    public ConversationOwner Owner { get; set; } = ConversationOwner.Bot;

    /// <summary>Bumped whenever ownership changes, so a reply written under an older owner is recognised.</summary>
    public int OwnershipVersion { get; set; }

    /// <summary>The newest customer message (Ingress's sequence); only a reply to it may go out.</summary>
    public long LastCustomerSequence { get; set; }

    public DateTimeOffset? LastCustomerMessageAt { get; set; }
    public DateTimeOffset? FirstCustomerMessageAt { get; set; }

    /// <summary>A reply is being written for messages up to this sequence; newer messages wait for it.</summary>
    public long? ReplyInFlightUpTo { get; set; }

    /// <summary>
    /// A customer message arrived while the reply in flight was being written. Even one older than the request
    /// (overtaken on the broker) was not among the turns the agent saw, so that reply is stale: one covering
    /// everything is asked for instead.
    /// </summary>
    public bool CustomerWroteDuringReply { get; set; }

    /// <summary>The newest customer message covered by a reply that went out.</summary>
    public long LastRepliedSequence { get; set; }

    public int RepliesSent { get; set; }

    /// <summary>Why the conversation was last handed to a human (or paused), shown to the employees.</summary>
    public string? HandoffReason { get; set; }

    public DateTimeOffset? OwnerSince { get; set; }

    /// <summary>The last time the human owner acted (took over or wrote); the idle release counts from it.</summary>
    public DateTimeOffset? HumanLastActiveAt { get; set; }

    /// <summary>Whether a human ever took part (owned it or wrote in it).</summary>
    public bool HumanInvolved { get; set; }

    /// <summary>Replies written for customer messages up to this sequence were asked for before the last change of owner: dropped.</summary>
    public long VoidRepliesUpTo { get; set; }

    /// <summary>The ownership version under which the reply in flight was asked for.</summary>
    public int? ReplyInFlightVersion { get; set; }

    /// <summary>A reply is due once the tenant's burst window ends (a timer is pending).</summary>
    public bool ReplyDue { get; set; }

    /// <summary>Pending timers (outbox rows with a due time): at most one of each kind per conversation.</summary>
    public DateTimeOffset? IdleCloseDueAt { get; set; }

    public DateTimeOffset? ReleaseDueAt { get; set; }

    /// <summary>The out-of-hours text went out in the current closed period; a message inside business hours ends the period.</summary>
    public bool OutOfHoursNoticeSent { get; set; }
    public DateTimeOffset OpenedAt { get; init; }
    public DateTimeOffset? ClosedAt { get; set; }

    /// <summary>Postgres' row version: concurrent updates of one conversation retry instead of overwriting each other.</summary>
    public uint Version { get; set; }

    public bool IsOpen => Status is ConversationStatus.Active or ConversationStatus.WaitingHuman;
}

/// <summary>One message of a conversation, in order, with its author and delivery status.</summary>
public sealed class ConversationMessage
{
    public required string Id { get; init; }
    public required string ConversationId { get; init; }
    public required string TenantId { get; init; }
    public MessageAuthor Author { get; init; }
    public string? AgentId { get; init; }
    public string? EmployeeId { get; init; }
    public string? Body { get; set; }

    /// <summary>An approved WhatsApp template sent instead of free text (outside the 24-hour window).</summary>
    public string? ContentSid { get; init; }

    public string? ContentVariables { get; set; }
    public List<WhatsAppMedia> Media { get; set; } = [];

    /// <summary>Ingress's id and sequence of a customer message (unique: a message is appended once).</summary>
    public string? InboundMessageId { get; init; }

    public long? Sequence { get; init; }

    /// <summary>For our messages: the newest customer message this one answers.</summary>
    public long? AnswersSequence { get; init; }

    public string? DeliveryStatus { get; set; }
    public string? TwilioSid { get; set; }
    public string? ErrorCode { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? SentAt { get; set; }
}
