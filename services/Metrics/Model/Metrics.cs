namespace SafeNotify.Crm.Metrics.Model;

/// <summary>What Metrics knows of a tenant: its time zone, so days are the tenant's days, and whether its CRM is on.</summary>
public sealed class TenantClock
{
    public required string TenantId { get; init; }
    public required string Timezone { get; set; }
    public bool CrmEnabled { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// A tenant that no longer exists (a rolled-back migration): kept for good, because news of it sent under other
/// ordering keys (Agent's <c>AgentChanged</c> for its "Asistente") may still arrive after its removal and must not
/// bring rows back. Tenant ids are never reused, so the marker never hides a new tenant.
/// </summary>
public sealed class RemovedTenant
{
    public required string TenantId { get; init; }
    public DateTimeOffset RemovedAt { get; init; }
}

/// <summary>One of a tenant's AI agents as Agent last described it (for "agents per tenant").</summary>
public sealed class TenantAgent
{
    public required string TenantId { get; init; }
    public required string AgentId { get; init; }
    public bool IsActive { get; set; }
    public bool Deleted { get; set; }
    public long Revision { get; set; }
}

public enum FactKind
{
    /// <summary>A routed customer message (key: Ingress's inbound message id).</summary>
    CustomerMessage,

    /// <summary>An outbound message the AI wrote, sent through Twilio (key: outbound id).</summary>
    AiMessage,

    /// <summary>An outbound message an employee wrote (key: outbound id).</summary>
    HumanMessage,

    /// <summary>A model call that produced a reply: tokens and cost (key: conversation, sequence, instant).</summary>
    AiReply,
}

/// <summary>
/// One pseudonymous fact taken from a message event (no names, phones or texts), keyed by the event's natural key
/// so a copy of the event (a redelivery, or the owner publishing it again) is stored once. The facts, the
/// conversations and the leads are what the rollups are rebuilt from; an erasure of a customer's data changes none.
/// </summary>
public sealed class MetricFact
{
    public long Id { get; init; }
    public required string TenantId { get; init; }
    public FactKind Kind { get; init; }
    public required string Key { get; init; }
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>The conversation it belongs to, when the event says (its number and agent come from the conversation).</summary>
    public string? ConversationId { get; init; }

    /// <summary>Set when the event itself names them; otherwise taken from the conversation.</summary>
    public string? NumberId { get; init; }

    public string? AgentId { get; init; }
    public long Tokens { get; init; }
    public decimal Cost { get; init; }
}

/// <summary>
/// A conversation as Metrics knows it from Lead's events. Every event merges in any order and any number of times
/// (earliest instant wins, the latest outcome wins), so a reordered or repeated event cannot change it twice.
/// </summary>
public sealed class ConversationFacts
{
    private ConversationFacts()
    {
    }

    public required string TenantId { get; init; }
    public required string ConversationId { get; init; }
    public string? NumberId { get; private set; }
    public string? AgentId { get; private set; }
    public DateTimeOffset? OpenedAt { get; private set; }
    public DateTimeOffset? FirstResponseAt { get; private set; }
    public DateTimeOffset? HandedOffAt { get; private set; }
    public DateTimeOffset? ClosedAt { get; private set; }
    public DateTimeOffset? OutcomeAt { get; private set; }
    public string? Outcome { get; private set; }
    public int? SatisfactionRating { get; private set; }
    public decimal? ConversionValue { get; private set; }

    /// <summary>A conversation Metrics knows nothing of yet: events merge into it.</summary>
    public static ConversationFacts Unknown(string tenantId, string conversationId) => new() { TenantId = tenantId, ConversationId = conversationId };

    public ConversationFacts Copy() => (ConversationFacts)MemberwiseClone();

    public void Opened(string numberId, string? agentId, DateTimeOffset at)
    {
        NumberId = numberId;
        AgentId = agentId;
        OpenedAt = Instants.Earliest(OpenedAt, at);
    }

    /// <summary>One of our replies went out: the earliest is the first response. Says whether it was news.</summary>
    public bool Replied(DateTimeOffset at)
    {
        if (FirstResponseAt is not null && at >= FirstResponseAt)
        {
            return false;
        }

        FirstResponseAt = at;
        return true;
    }

    public void HandedOff(DateTimeOffset at) => HandedOffAt = Instants.Earliest(HandedOffAt, at);

    public void Closed(DateTimeOffset at) => ClosedAt = Instants.Earliest(ClosedAt, at);

    /// <summary>The latest outcome wins; a rating outside 1-5 or a value of 0 counts as none.</summary>
    public void OutcomeRecorded(string? outcome, int? satisfactionRating, decimal? conversionValue, DateTimeOffset at)
    {
        if (OutcomeAt is not null && at < OutcomeAt)
        {
            return;
        }

        OutcomeAt = at;
        Outcome = outcome;
        SatisfactionRating = satisfactionRating is >= 1 and <= 5 ? satisfactionRating : null;
        ConversionValue = conversionValue is > 0 ? conversionValue : null;
    }
}

/// <summary>
/// A lead as Metrics knows it from Lead's events (same merge rules as conversations). Its agent is the agent of its
/// first conversation: the earliest ConversationOpened naming the lead (ties broken by conversation id),
/// so conversations opened in any order, any number of times, settle on the same agent.
/// </summary>
public sealed class LeadFacts
{
    private LeadFacts()
    {
    }

    public required string TenantId { get; init; }
    public required string LeadId { get; init; }

    /// <summary>The number the lead came in on (from LeadCreated; its first conversation's until then).</summary>
    public string? NumberId { get; private set; }

    /// <summary>The agent of the lead's first conversation (null: none known yet, or that conversation had no agent).</summary>
    public string? AgentId { get; private set; }

    /// <summary>When the lead's first conversation opened, and which one it was.</summary>
    public DateTimeOffset? FirstConversationAt { get; private set; }

    public string? FirstConversationId { get; private set; }

    public DateTimeOffset? CreatedAt { get; private set; }
    public DateTimeOffset? QualifiedAt { get; private set; }
    public DateTimeOffset? ConvertedAt { get; private set; }

    /// <summary>A lead Metrics knows nothing of yet: events merge into it.</summary>
    public static LeadFacts Unknown(string tenantId, string leadId) => new() { TenantId = tenantId, LeadId = leadId };

    public LeadFacts Copy() => (LeadFacts)MemberwiseClone();

    public void Created(string numberId, DateTimeOffset at)
    {
        NumberId = numberId;
        CreatedAt = Instants.Earliest(CreatedAt, at);
    }

    /// <summary>A lead counts as qualified the first time it reaches QUALIFIED or goes straight to CONVERTED.</summary>
    public void StatusChanged(string toStatus, DateTimeOffset at)
    {
        var status = toStatus.Trim();
        var converted = status.Equals("Converted", StringComparison.OrdinalIgnoreCase);
        if (converted || status.Equals("Qualified", StringComparison.OrdinalIgnoreCase))
        {
            QualifiedAt = Instants.Earliest(QualifiedAt, at);
        }

        if (converted)
        {
            ConvertedAt = Instants.Earliest(ConvertedAt, at);
        }
    }

    /// <summary>
    /// Takes a conversation of the lead into account: the earliest one (by opening instant, then id) gives the lead
    /// its agent, and its number until LeadCreated says which it is. Commutative and idempotent.
    /// </summary>
    public void MergeConversation(string conversationId, string numberId, string? agentId, DateTimeOffset openedAt)
    {
        if (FirstConversationAt is null || openedAt < FirstConversationAt
            || (openedAt == FirstConversationAt && string.CompareOrdinal(conversationId, FirstConversationId) < 0))
        {
            FirstConversationAt = openedAt;
            FirstConversationId = conversationId;
            AgentId = string.IsNullOrEmpty(agentId) ? null : agentId;
            if (!CreatedSeen)
            {
                NumberId = numberId;
            }
        }
    }

    /// <summary>Whether LeadCreated was merged (its number is then the lead's, whatever conversation came first).</summary>
    public bool CreatedSeen => CreatedAt is not null;
}

public static class Instants
{
    /// <summary>The earlier of two instants, either possibly unknown.</summary>
    public static DateTimeOffset? Earliest(DateTimeOffset? current, DateTimeOffset candidate) =>
        current is null || candidate < current ? candidate : current;
}

/// <summary>
/// A message that reached SafeNotify but no tenant answered (unknown number, number over its plan or inactive, CRM off):
/// processed by SafeNotify all the same. Keyed by Ingress's inbound message id, so it is counted once. The tenant is
/// known unless the number is nobody's; only operators' figures count it.
/// </summary>
public sealed class UnroutedFact
{
    public required string InboundMessageId { get; init; }
    public string? TenantId { get; init; }
    public required string Reason { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }

    /// <summary>The day it counts on: the tenant's local day, or SafeNotify's default zone's without a tenant (set again by a rebuild).</summary>
    public DateOnly Day { get; set; }
}

/// <summary>One of a tenant's WhatsApp numbers as Routing last described it, so its figures exist before its first conversation.</summary>
public sealed class TenantNumber
{
    public required string TenantId { get; init; }
    public required string NumberId { get; init; }
    public bool IsActive { get; set; }
    public bool Deleted { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum DimensionKind
{
    Tenant,
    Number,
    Agent,
}

/// <summary>
/// A tenant's figures for one local day, for the whole tenant or one of its numbers or agents: additive counts and
/// sums only (plus a first-response histogram), so a week or a month is the sum of its days and any ratio or
/// percentile is computed from the sums.
/// </summary>
public sealed class DailyRollup : Tally
{
    public required string TenantId { get; init; }
    public DateOnly Day { get; init; }
    public DimensionKind DimensionKind { get; init; }

    /// <summary>The number's or agent's id; empty for the whole tenant.</summary>
    public required string DimensionId { get; init; }
}
