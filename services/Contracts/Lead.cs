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
    DateTimeOffset RequestedAt);

public sealed record LeadCreated(string TenantId, string LeadId, string NumberId, string? Source, DateTimeOffset OccurredAt);

public sealed record LeadStatusChanged(string TenantId, string LeadId, string FromStatus, string ToStatus, DateTimeOffset OccurredAt);

public sealed record LeadScored(string TenantId, string LeadId, int Score, string Grade, string Reason, DateTimeOffset OccurredAt);

public sealed record ConversationOpened(string TenantId, string ConversationId, string LeadId, string NumberId, string? AgentId, DateTimeOffset OccurredAt);

public sealed record ConversationClosed(string TenantId, string ConversationId, string Reason, DateTimeOffset OccurredAt);

public sealed record ConversationHandedOff(string TenantId, string ConversationId, string? AssignedToUser, string Reason, DateTimeOffset OccurredAt);

public sealed record ConversationReleased(string TenantId, string ConversationId, string Reason, DateTimeOffset OccurredAt);

public sealed record ConversationOutcomeRecorded(
    string TenantId,
    string ConversationId,
    string? Outcome,
    int? SatisfactionRating,
    decimal? ConversionValue,
    DateTimeOffset OccurredAt);

/// <summary>Erase one customer's personal data: every service that holds some honours it.</summary>
public sealed record CustomerDataErasureRequested(string TenantId, string CustomerId, string LeadId, DateTimeOffset OccurredAt);
