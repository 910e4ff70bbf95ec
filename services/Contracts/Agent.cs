namespace SafeNotify.Crm.Contracts;

/// <summary>
/// An agent was created, changed or deleted. Routing keeps its own copy of what it needs to choose
/// agents; <see cref="Revision"/> lets it ignore an older change that arrives after a newer one.
/// </summary>
public sealed record AgentChanged(
    string TenantId,
    string AgentId,
    string Name,
    bool IsActive,
    bool IsDefault,
    IReadOnlyList<string> TriggerKeywords,
    WeeklyHours? ActiveHours,
    string? OutOfHoursMessage,
    bool Deleted,
    long Revision,
    DateTimeOffset OccurredAt);

/// <summary>
/// Agent wrote a reply for a conversation, answering every customer message up to <see cref="BasedOnSequence"/>.
/// When the model could not answer, <see cref="Text"/> is a short fallback message, <see cref="NeedsHuman"/> is set and
/// <see cref="FallbackReason"/> says why.
/// </summary>
public sealed record AgentReplyGenerated(
    string TenantId,
    string ConversationId,
    string AgentId,
    long BasedOnSequence,
    string Text,
    int PromptVersion,
    string Model,
    int PromptTokens,
    int CompletionTokens,
    decimal EstimatedCost,
    long LatencyMs,
    bool NeedsHuman,
    DateTimeOffset GeneratedAt)
{
    /// <summary>Why the model could not answer (timeout, HTTP status, open circuit, empty reply); null for a model-written reply.</summary>
    public string? FallbackReason { get; init; }

    /// <summary>The <see cref="ReplyRequested.OwnershipVersion"/> of the request this reply answers.</summary>
    public long? RequestOwnershipVersion { get; init; }
}

/// <summary>Agent could not write a reply (model down, agent gone, ...).</summary>
public sealed record AgentReplyFailed(
    string TenantId,
    string ConversationId,
    string AgentId,
    long BasedOnSequence,
    string Reason,
    DateTimeOffset FailedAt)
{
    /// <summary>The <see cref="ReplyRequested.OwnershipVersion"/> of the request that failed.</summary>
    public long? RequestOwnershipVersion { get; init; }
}
