namespace SafeNotify.Crm.Metrics.Model;

/// <summary>What Metrics knows of a tenant: its time zone, so days are the tenant's days.</summary>
public sealed class TenantClock
{
    public required string TenantId { get; init; }
    public required string Timezone { get; set; }
    public bool CrmEnabled { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

public enum FactKind
{
    CustomerMessage,
    AiMessage,
    HumanMessage,
    NewLead,
    NewConversation,
    Handoff,
    AiTokens,
    AiCost,
}

/// <summary>
/// One pseudonymous fact taken from an event (no names, phones or texts), kept so the figures can be
/// rebuilt and so an erasure of a customer's data changes none of them.
/// </summary>
public sealed class MetricFact
{
    public long Id { get; init; }
    public required string TenantId { get; init; }
    public FactKind Kind { get; init; }
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>The tenant's local day the fact belongs to.</summary>
    public DateOnly Day { get; init; }

    public decimal Amount { get; init; }
}

/// <summary>A tenant's figures for one local day (seed "CRMMetrics", daily), kept current as facts arrive.</summary>
public sealed class DailyMetrics
{
    public required string TenantId { get; init; }
    public DateOnly Day { get; init; }
    public int NewConversations { get; set; }
    public int NewLeads { get; set; }
    public int TotalMessages { get; set; }
    public int CustomerMessages { get; set; }
    public int AiMessages { get; set; }
    public int HumanMessages { get; set; }
    public int Handoffs { get; set; }
    public long TotalTokensUsed { get; set; }
    public decimal EstimatedAiCost { get; set; }

    public void Apply(FactKind kind, decimal amount)
    {
        switch (kind)
        {
            case FactKind.CustomerMessage: CustomerMessages++; TotalMessages++; break;
            case FactKind.AiMessage: AiMessages++; TotalMessages++; break;
            case FactKind.HumanMessage: HumanMessages++; TotalMessages++; break;
            case FactKind.NewLead: NewLeads++; break;
            case FactKind.NewConversation: NewConversations++; break;
            case FactKind.Handoff: Handoffs++; break;
            case FactKind.AiTokens: TotalTokensUsed += (long)amount; break;
            case FactKind.AiCost: EstimatedAiCost += amount; break;
        }
    }
}
