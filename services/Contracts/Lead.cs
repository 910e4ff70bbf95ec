namespace SafeNotify.Crm.Contracts;

/// <summary>One turn of a conversation as the model sees it.</summary>
public sealed record ConversationTurn(MessageAuthor Author, string Text, DateTimeOffset At);

/// <summary>What the CRM knows of the customer, for the agent to personalise its reply.</summary>
public sealed record CustomerContext(
    string LeadId,
    string? Name,
    string? CustomerType,
    IReadOnlyList<string> Tags,
    IReadOnlyDictionary<string, string>? Preferences);

/// <summary>
/// Lead asks the conversation's agent for a reply covering every customer message up to
/// <see cref="UpToSequence"/>. Only sent while the bot owns the conversation.
/// </summary>
public sealed record ReplyRequested(
    string TenantId,
    string ConversationId,
    string AgentId,
    string NumberId,
    long UpToSequence,
    IReadOnlyList<ConversationTurn> RecentTurns,
    CustomerContext Customer,
    DateTimeOffset RequestedAt)
{
    /// <summary>
    /// The conversation's ownership version when the reply was asked for; Agent echoes it back, so a reply to a
    /// request made before a human took over (and later gave back) is told apart from the current request's.
    /// </summary>
    public long? OwnershipVersion { get; init; }
}

public sealed record LeadCreated(string TenantId, string LeadId, string NumberId, string? Source, DateTimeOffset OccurredAt);

public sealed record LeadStatusChanged(string TenantId, string LeadId, string FromStatus, string ToStatus, DateTimeOffset OccurredAt);

public sealed record LeadScored(string TenantId, string LeadId, int Score, string Grade, string Reason, DateTimeOffset OccurredAt)
{
    /// <summary>The change this event records (Score is the total after it).</summary>
    public int? Delta { get; init; }

    /// <summary>The signal's short name ("asked_to_book", "manual").</summary>
    public string? Signal { get; init; }

    public string? ConversationId { get; init; }
}

public sealed record ConversationOpened(string TenantId, string ConversationId, string LeadId, string NumberId, string? AgentId, DateTimeOffset OccurredAt);

public sealed record ConversationClosed(string TenantId, string ConversationId, string Reason, DateTimeOffset OccurredAt)
{
    public string? LeadId { get; init; }
    public string? NumberId { get; init; }
    public string? AgentId { get; init; }
    public int? MessageCount { get; init; }

    /// <summary>Seconds from the first customer message to the first reply (null: never answered).</summary>
    public int? FirstResponseSeconds { get; init; }

    public double? AvgResponseSeconds { get; init; }

    /// <summary>Whether a human ever owned the conversation or wrote in it.</summary>
    public bool? HumanInvolved { get; init; }

    public string? Outcome { get; init; }
    public DateTimeOffset? OpenedAt { get; init; }
}

public sealed record ConversationHandedOff(string TenantId, string ConversationId, string? AssignedToUser, string Reason, DateTimeOffset OccurredAt)
{
    /// <summary>What caused it: customer_request, agent_needs_human, agent_failed, employee_handoff, employee_reply.</summary>
    public string? Trigger { get; init; }

    public int? OwnershipVersion { get; init; }
    public string? NumberId { get; init; }
    public string? AgentId { get; init; }

    /// <summary>The console's staff member it was handed to (<see cref="AssignedToUser"/> is then their name); null for an external name.</summary>
    public string? AssignedStaffId { get; init; }
}

public sealed record ConversationReleased(string TenantId, string ConversationId, string Reason, DateTimeOffset OccurredAt)
{
    /// <summary>What caused it: employee_release or human_idle.</summary>
    public string? Trigger { get; init; }

    public int? OwnershipVersion { get; init; }
}

/// <summary>What a staff member sees change in a conversation.</summary>
public enum ConversationChange
{
    /// <summary>A message joined the thread: the customer's, the bot's, a system text or an employee's.</summary>
    MessageAppended,

    /// <summary>One of our messages moved forward in delivery (sent, delivered, read, failed).</summary>
    DeliveryStatusChanged,

    /// <summary>The conversation went to a person, was paused, reassigned or given back to the bot.</summary>
    OwnerChanged,

    /// <summary>The conversation was resolved or closed.</summary>
    StatusChanged,
}

/// <summary>
/// Something a staff member sees changed in a conversation, raised by Lead with the change itself: the one event a live
/// view listens to. It names what changed and where; a view reads the conversation for the rest, so an event
/// missed or seen twice costs a read, never a wrong screen.
/// </summary>
public sealed record ConversationActivity(string TenantId, string ConversationId, ConversationChange Change, DateTimeOffset OccurredAt)
{
    /// <summary>The conversation's number (not on a delivery change: the message's conversation names it).</summary>
    public string? NumberId { get; init; }

    /// <summary>The message appended or whose delivery moved, if the change is about one.</summary>
    public string? MessageId { get; init; }

    public MessageAuthor? Author { get; init; }
    public string? DeliveryStatus { get; init; }

    /// <summary>The employee the conversation is assigned to after the change (null: nobody, or the bot; not on a delivery change).</summary>
    public string? AssignedToUser { get; init; }

    /// <summary>The console's staff member among them, when the assignee is one.</summary>
    public string? AssignedStaffId { get; init; }
}

public sealed record ConversationOutcomeRecorded(
    string TenantId,
    string ConversationId,
    string? Outcome,
    int? SatisfactionRating,
    decimal? ConversionValue,
    DateTimeOffset OccurredAt)
{
    public string? LeadId { get; init; }
    public string? NumberId { get; init; }
    public string? AgentId { get; init; }
    public bool? HumanInvolved { get; init; }

    /// <summary>How much this record added to the conversation's conversion value (ConversionValue is the total after it).</summary>
    public decimal? ConversionDelta { get; init; }
}

/// <summary>Erase one customer's personal data: every service that holds some honours it.</summary>
public sealed record CustomerDataErasureRequested(string TenantId, string CustomerId, string LeadId, DateTimeOffset OccurredAt)
{
    /// <summary>The customer's phone (E.164), when known.</summary>
    public string? CustomerPhone { get; init; }

    /// <summary>Our numbers (E.164) the customer wrote to or was written from, for services that key messages by number.</summary>
    public IReadOnlyList<string>? NumberPhones { get; init; }

    /// <summary>The customer's conversations (Lead's ids), for services that key what they keep by conversation.</summary>
    public IReadOnlyList<string>? ConversationIds { get; init; }
}
