namespace SafeNotify.Crm.Metrics.Model;

/// <summary>
/// The additive figures of a day (or of a delta to add to a day). Every field is a count or a sum, so days add up to
/// weeks and months exactly, and a change is applied as "add the new contribution, subtract the old one".
/// </summary>
public class Tally
{
    public int NewConversations { get; set; }
    public int CompletedConversations { get; set; }

    /// <summary>Conversations handed to a human (counted once, on the day of the first handoff).</summary>
    public int HandedOffConversations { get; set; }

    /// <summary>Completed conversations no human ever took.</summary>
    public int AiResolvedConversations { get; set; }

    public int NewLeads { get; set; }
    public int QualifiedLeads { get; set; }
    public int ConvertedLeads { get; set; }
    public int CustomerMessages { get; set; }
    public int AiMessages { get; set; }
    public int HumanMessages { get; set; }
    public long TotalTokensUsed { get; set; }
    public decimal EstimatedAiCost { get; set; }

    /// <summary>Conversations whose first reply (AI or human) went out that day, the sum of their waits, and their histogram.</summary>
    public int FirstResponses { get; set; }

    public long FirstResponseMsSum { get; set; }
    public int[] FirstResponseHistogram { get; set; } = new int[ResponseHistogram.BucketCount];

    /// <summary>Outcomes with a conversion value above zero, recorded that day, and their values.</summary>
    public int Conversions { get; set; }

    public decimal Revenue { get; set; }

    /// <summary>The part of <see cref="Revenue"/> from conversations no human took.</summary>
    public decimal AiHandledRevenue { get; set; }

    public int SatisfactionRatings { get; set; }
    public int SatisfactionSum { get; set; }

    public bool IsZero =>
        NewConversations == 0 && CompletedConversations == 0 && HandedOffConversations == 0 && AiResolvedConversations == 0 &&
        NewLeads == 0 && QualifiedLeads == 0 && ConvertedLeads == 0 && CustomerMessages == 0 && AiMessages == 0 && HumanMessages == 0 &&
        TotalTokensUsed == 0 && EstimatedAiCost == 0 && FirstResponses == 0 && FirstResponseMsSum == 0 && FirstResponseHistogram.All(b => b == 0) &&
        Conversions == 0 && Revenue == 0 && AiHandledRevenue == 0 && SatisfactionRatings == 0 && SatisfactionSum == 0;

    /// <summary>Adds <paramref name="other"/> times <paramref name="sign"/> (1 or -1).</summary>
    public void Add(Tally other, int sign = 1)
    {
        NewConversations += sign * other.NewConversations;
        CompletedConversations += sign * other.CompletedConversations;
        HandedOffConversations += sign * other.HandedOffConversations;
        AiResolvedConversations += sign * other.AiResolvedConversations;
        NewLeads += sign * other.NewLeads;
        QualifiedLeads += sign * other.QualifiedLeads;
        ConvertedLeads += sign * other.ConvertedLeads;
        CustomerMessages += sign * other.CustomerMessages;
        AiMessages += sign * other.AiMessages;
        HumanMessages += sign * other.HumanMessages;
        TotalTokensUsed += sign * other.TotalTokensUsed;
        EstimatedAiCost += sign * other.EstimatedAiCost;
        FirstResponses += sign * other.FirstResponses;
        FirstResponseMsSum += sign * other.FirstResponseMsSum;
        for (var i = 0; i < ResponseHistogram.BucketCount; i++)
        {
            FirstResponseHistogram[i] += sign * other.FirstResponseHistogram[i];
        }

        Conversions += sign * other.Conversions;
        Revenue += sign * other.Revenue;
        AiHandledRevenue += sign * other.AiHandledRevenue;
        SatisfactionRatings += sign * other.SatisfactionRatings;
        SatisfactionSum += sign * other.SatisfactionSum;
    }
}

/// <summary>
/// First-response times in fixed buckets whose bounds grow by 20% from 100 ms to beyond a week: a day's histogram is
/// a fixed-length array, days add element by element, and p50/p90 of any period come from the summed array with
/// at most 20% error (the reported value is the upper bound of the bucket holding the percentile). Exact values per
/// conversation would need a query over every conversation of the period; the histogram keeps the query bounded
/// by the number of days.
/// </summary>
public static class ResponseHistogram
{
    public const int BucketCount = 90;
    private const double FirstBoundMs = 100;
    private const double Growth = 1.2;

    /// <summary>Upper bound (inclusive, in ms) of bucket <paramref name="index"/>; the last bucket has no bound.</summary>
    public static double UpperBoundMs(int index) => FirstBoundMs * Math.Pow(Growth, index);

    public static int BucketOf(long milliseconds)
    {
        if (milliseconds <= FirstBoundMs)
        {
            return 0;
        }

        var index = (int)Math.Ceiling(Math.Log(milliseconds / FirstBoundMs) / Math.Log(Growth) - 1e-9);
        return Math.Min(index, BucketCount - 1);
    }

    /// <summary>The upper bound of the bucket holding the <paramref name="quantile"/>, in seconds; null without values.</summary>
    public static double? Percentile(int[] histogram, double quantile)
    {
        long total = histogram.Sum(b => (long)b);
        if (total == 0)
        {
            return null;
        }

        var rank = (long)Math.Ceiling(quantile * total);
        long seen = 0;
        for (var i = 0; i < histogram.Length; i++)
        {
            seen += histogram[i];
            if (seen >= rank)
            {
                return Math.Round(UpperBoundMs(i) / 1000, 3);
            }
        }

        return Math.Round(UpperBoundMs(histogram.Length - 1) / 1000, 3);
    }
}
