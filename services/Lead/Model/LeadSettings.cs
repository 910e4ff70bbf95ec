namespace SafeNotify.Crm.Lead.Model;

/// <summary>A tenant's own scoring signal: any of <see cref="Phrases"/> in a customer message adds <see cref="Points"/>.</summary>
public sealed record ScoringRule(string Signal, string Description, IReadOnlyList<string> Phrases, int Points);

/// <summary>
/// A tenant's settings for leads and conversations. A tenant without a row gets <see cref="Defaults"/>.
/// </summary>
public sealed class LeadSettings
{
    public required string TenantId { get; init; }

    /// <summary>An open conversation closes after this long without a message; the next message opens a new one.</summary>
    public int ConversationIdleSeconds { get; set; } = 24 * 3600;

    /// <summary>A conversation a human took goes back to the bot after this long without the human acting.</summary>
    public int HumanIdleReleaseSeconds { get; set; } = 2 * 3600;

    /// <summary>Wait this long after a customer message before asking for a reply, so a burst is answered at once (0: none).</summary>
    public int BurstWindowSeconds { get; set; }

    /// <summary>Lowest score of grades A, B and C; below C is D.</summary>
    public int GradeAThreshold { get; set; } = 70;

    public int GradeBThreshold { get; set; } = 40;
    public int GradeCThreshold { get; set; }

    /// <summary>The tenant's own signals, added to the built-in ones.</summary>
    public List<ScoringRule> ScoringRules { get; set; } = [];

    public DateTimeOffset UpdatedAt { get; set; }

    public static LeadSettings Defaults(string tenantId) => new() { TenantId = tenantId };

    public string GradeFor(int score) =>
        score >= GradeAThreshold ? "A" : score >= GradeBThreshold ? "B" : score >= GradeCThreshold ? "C" : "D";
}
