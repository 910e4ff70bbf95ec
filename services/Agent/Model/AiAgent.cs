using System.Text.Json.Nodes;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Agent.Model;

/// <summary>A tenant's AI agent (seed "UserAIAgent").</summary>
public sealed class AiAgent
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string Name { get; set; }
    public string? Description { get; set; }

    /// <summary>Free text shown to the model ("sales", "support", "assistant").</summary>
    public string Role { get; set; } = "assistant";

    public bool IsActive { get; set; } = true;
    public bool IsDefault { get; set; }
    public required string PersonalityPrompt { get; set; }
    public required string BusinessPrompt { get; set; }
    public required string ObjectivesPrompt { get; set; }
    public string Model { get; set; } = "gpt-3.5-turbo";
    public double Temperature { get; set; } = 0.7;
    public int MaxTokensPerMessage { get; set; } = 500;
    public JsonObject BusinessRules { get; set; } = [];
    public List<string> TriggerKeywords { get; set; } = [];
    public WeeklyHours? ActiveHours { get; set; }

    public int TotalConversations { get; set; }
    public double AvgResponseTime { get; set; }
    public double SatisfactionRating { get; set; }
    public long TotalTokensUsed { get; set; }
    public decimal EstimatedCost { get; set; }

    /// <summary>Replies written, for the running average of <see cref="AvgResponseTime"/>.</summary>
    public int RepliesWritten { get; set; }

    /// <summary>A version was activated by hand: evolved versions are then created inactive until the prompts are edited.</summary>
    public bool PromptPinned { get; set; }

    /// <summary>Customer messages handled since the last evolved version (seed: a new version every 5).</summary>
    public int MessagesSinceEvolution { get; set; }

    public DateTimeOffset? LastEvolvedAt { get; set; }

    /// <summary>Bumped on every change; Routing applies <see cref="AgentChanged"/> only when it is newer.</summary>
    public long Revision { get; set; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>The text sent outside business hours when nobody is on duty (businessRules.outOfHoursMessage).</summary>
    public string? OutOfHoursMessage =>
        BusinessRules.TryGetPropertyValue("outOfHoursMessage", out var value) && value is JsonValue text && text.TryGetValue(out string? message)
            ? message
            : null;

    public AgentChanged ToChangedEvent(DateTimeOffset now, bool deleted = false) =>
        new(TenantId, Id, Name, IsActive, IsDefault, TriggerKeywords, ActiveHours, OutOfHoursMessage, deleted, Revision, now);
}

/// <summary>One version of an agent's system prompt (seed "UserAgentPrompt"); versions are kept, one is active.</summary>
public sealed class AgentPrompt
{
    public required string Id { get; init; }
    public required string AgentId { get; init; }
    public required string TenantId { get; init; }
    public int Version { get; init; }
    public required string SystemPrompt { get; init; }
    public string ContextSummary { get; init; } = "";
    public JsonObject BusinessContext { get; init; } = [];

    /// <summary>initial, agent_updated, conversation_update or rollback.</summary>
    public required string TriggerReason { get; init; }

    public bool IsActive { get; set; }
    public PromptStatus Status { get; set; } = PromptStatus.Active;
    public string? RejectionReason { get; set; }
    public int? TokensUsed { get; set; }
    public double? ResponseQuality { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
}

public enum PromptStatus
{
    Active,
    Inactive,
    Rejected,
}

/// <summary>A conversation an agent has answered in: counts its conversations, its satisfaction, the messages it handled.</summary>
public sealed class AgentConversation
{
    public required string AgentId { get; init; }
    public required string ConversationId { get; init; }
    public required string TenantId { get; init; }

    /// <summary>The newest customer message handled (its sequence), so a message is counted once.</summary>
    public long LastSequence { get; set; }

    /// <summary>The prompt version of the agent's latest reply here: the version a rating of the conversation speaks for.</summary>
    public int? PromptVersion { get; set; }

    /// <summary>1-5, from Lead's ConversationOutcomeRecorded.</summary>
    public int? SatisfactionRating { get; set; }

    public DateTimeOffset FirstSeenAt { get; init; }
}

/// <summary>
/// One customer question an agent handled, with the customer's personal data already removed (it is scrubbed
/// before it is stored): what evolved prompts summarise.
/// </summary>
public sealed class QuestionSample
{
    public long Id { get; init; }
    public required string AgentId { get; init; }
    public required string TenantId { get; init; }
    public required string Text { get; init; }
    public List<string> Topics { get; init; } = [];

    /// <summary>The conversation it was asked in (a random id, no personal data): links it to the conversation's rating.</summary>
    public string? ConversationId { get; init; }

    /// <summary>The reply to it asked for a person (the bot could not help on its own).</summary>
    public bool NeededHuman { get; init; }

    public DateTimeOffset At { get; init; }
}

/// <summary>What Agent knows of a tenant's plan, from Routing's events.</summary>
public sealed class TenantPlan
{
    public required string TenantId { get; init; }
    public required string Plan { get; set; }
    public int? MaxAgents { get; set; }
    public bool CrmEnabled { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
