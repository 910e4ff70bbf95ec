using System.Text.Json.Nodes;

namespace SafeNotify.Crm.Lead.Model;

public enum LeadStatus
{
    New,
    Contacted,
    Qualified,
    Converted,
    Lost,
}

/// <summary>A customer of a tenant (seed "CustomerLead"): one per tenant and WhatsApp customer id.</summary>
public sealed class CustomerLead
{
    /// <summary>The largest amount of money (a purchase, a total spent) the CRM keeps, well inside its numeric(18, 2) columns.</summary>
    public const decimal MaxAmount = 1_000_000_000_000m;

    public required string Id { get; init; }
    public required string TenantId { get; init; }

    /// <summary>The customer's WhatsApp id ("+573001234567", or a username id); null for a lead entered by hand without WhatsApp yet.</summary>
    public string? CustomerId { get; set; }

    /// <summary>E.164 when the customer has a phone number.</summary>
    public string? Phone { get; set; }

    public string? Name { get; set; }
    public string? Email { get; set; }
    public string? Company { get; set; }
    public string? CustomerType { get; set; }
    public string? BusinessCategory { get; set; }
    public List<string> Tags { get; set; } = [];
    public int QualificationScore { get; set; }
    public LeadStatus LeadStatus { get; set; } = LeadStatus.New;
    public string LeadGrade { get; set; } = "C";
    public DateTimeOffset? LastPurchase { get; set; }
    public decimal TotalSpent { get; set; }
    public JsonObject? Preferences { get; set; }
    public string? Source { get; set; }
    public string? AssignedTo { get; set; }
    public DateTimeOffset LastActivity { get; set; }
    public DateTimeOffset? NextFollowUp { get; set; }
    public string? InternalNotes { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Name, phone and email folded to lower case without accents, for search ("maria" finds "María").</summary>
    public string SearchText { get; set; } = "";
}

/// <summary>One change of a lead's score, with the signal and the customer's own words that caused it.</summary>
public sealed class LeadScoreEvent
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string LeadId { get; init; }
    public string? ConversationId { get; init; }

    /// <summary>A short name of what counted ("asked_to_book"), for once-per-conversation checks.</summary>
    public required string Signal { get; init; }

    public required string Description { get; init; }
    public int Points { get; init; }

    /// <summary>The customer's words that showed the signal (or the employee's note for a manual change).</summary>
    public string? Evidence { get; init; }

    public int ScoreAfter { get; init; }
    public required string GradeAfter { get; init; }
    public DateTimeOffset OccurredAt { get; init; }

    /// <summary>"+20: asked to book: 'quiero una cita'".</summary>
    public string Reason => $"{(Points >= 0 ? "+" : "")}{Points}: {Description}" + (Evidence is null ? "" : $": '{Evidence}'");
}
