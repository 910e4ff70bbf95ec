
namespace SafeNotify.Crm.Metrics.Model;

public readonly record struct RollupKey(DateOnly Day, DimensionKind Kind, string Id) : IComparable<RollupKey>
{
    public int CompareTo(RollupKey other)
    {
        var byDay = Day.CompareTo(other.Day);
        if (byDay != 0)
        {
            return byDay;
        }

        var byKind = Kind.CompareTo(other.Kind);
        return byKind != 0 ? byKind : string.CompareOrdinal(Id, other.Id);
    }
}

/// <summary>
/// What facts, conversations and leads add to which daily rollup rows. The live path applies
/// "new contribution minus old contribution" for each change; the rebuild adds the contributions of everything
/// stored. Both use these functions alone, so a rebuild gives the same numbers as the live path.
/// </summary>
public sealed class Contributions(TimeZoneInfo zone)
{
    private readonly SortedDictionary<RollupKey, Tally> _rows = [];

    public IEnumerable<KeyValuePair<RollupKey, Tally>> NonZero => _rows.Where(r => !r.Value.IsZero);

    public DateOnly DayOf(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, zone).DateTime);

    /// <summary>A message fact: the whole tenant, its number and its agent (the event's own, else the conversation's).</summary>
    public void AddFact(MetricFact fact, ConversationFacts? conversation, int sign = 1)
    {
        var tally = new Tally();
        switch (fact.Kind)
        {
            case FactKind.CustomerMessage: tally.CustomerMessages = 1; break;
            case FactKind.AiMessage: tally.AiMessages = 1; break;
            case FactKind.HumanMessage: tally.HumanMessages = 1; break;
            case FactKind.AiReply: tally.TotalTokensUsed = fact.Tokens; tally.EstimatedAiCost = fact.Cost; break;
        }

        Spread(DayOf(fact.OccurredAt), fact.NumberId ?? conversation?.NumberId, fact.AgentId ?? conversation?.AgentId, tally, sign);
    }

    /// <summary>A conversation's own figures, each on the tenant's day it happened.</summary>
    public void AddConversation(ConversationFacts conversation, int sign = 1)
    {
        var number = conversation.NumberId;
        var agent = conversation.AgentId;
        var aiOnly = conversation.HandedOffAt is null;
        if (conversation.OpenedAt is { } opened)
        {
            Spread(DayOf(opened), number, agent, new Tally { NewConversations = 1 }, sign);
        }

        if (conversation.ClosedAt is { } closed)
        {
            Spread(DayOf(closed), number, agent, new Tally { CompletedConversations = 1, AiResolvedConversations = aiOnly ? 1 : 0 }, sign);
        }

        if (conversation.HandedOffAt is { } handedOff)
        {
            Spread(DayOf(handedOff), number, agent, new Tally { HandedOffConversations = 1 }, sign);
        }

        if (conversation is { OpenedAt: { } start, FirstResponseAt: { } response } && response >= start)
        {
            var waited = (long)(response - start).TotalMilliseconds;
            var tally = new Tally { FirstResponses = 1, FirstResponseMsSum = waited };
            tally.FirstResponseHistogram[ResponseHistogram.BucketOf(waited)] = 1;
            Spread(DayOf(response), number, agent, tally, sign);
        }

        if (conversation.OutcomeAt is { } outcomeAt)
        {
            var tally = new Tally();
            if (conversation.ConversionValue is > 0 and var value)
            {
                tally.Conversions = 1;
                tally.Revenue = value;
                tally.AiHandledRevenue = aiOnly ? value : 0;
            }

            if (conversation.SatisfactionRating is { } rating)
            {
                tally.SatisfactionRatings = 1;
                tally.SatisfactionSum = rating;
            }

            Spread(DayOf(outcomeAt), number, agent, tally, sign);
        }
    }

    /// <summary>A lead's figures: the tenant, the number it came in on and the agent of its first conversation.</summary>
    public void AddLead(LeadFacts lead, int sign = 1)
    {
        if (lead.CreatedAt is { } created)
        {
            Spread(DayOf(created), lead.NumberId, lead.AgentId, new Tally { NewLeads = 1 }, sign);
        }

        if (lead.QualifiedAt is { } qualified)
        {
            Spread(DayOf(qualified), lead.NumberId, lead.AgentId, new Tally { QualifiedLeads = 1 }, sign);
        }

        if (lead.ConvertedAt is { } converted)
        {
            Spread(DayOf(converted), lead.NumberId, lead.AgentId, new Tally { ConvertedLeads = 1 }, sign);
        }
    }

    private void Spread(DateOnly day, string? numberId, string? agentId, Tally tally, int sign)
    {
        Add(new RollupKey(day, DimensionKind.Tenant, ""), tally, sign);
        if (!string.IsNullOrEmpty(numberId))
        {
            Add(new RollupKey(day, DimensionKind.Number, numberId), tally, sign);
        }

        if (!string.IsNullOrEmpty(agentId))
        {
            Add(new RollupKey(day, DimensionKind.Agent, agentId), tally, sign);
        }
    }

    private void Add(RollupKey key, Tally tally, int sign)
    {
        if (!_rows.TryGetValue(key, out var row))
        {
            _rows[key] = row = new Tally();
        }

        row.Add(tally, sign);
    }
}
