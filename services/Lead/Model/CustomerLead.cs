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
}
