using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Routing.Model;

/// <summary>A WhatsApp number of a tenant (seed "UserWhatsAppNumber").</summary>
public sealed class WhatsAppNumber
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }

    /// <summary>E.164, unique across all tenants.</summary>
    public required string PhoneNumber { get; set; }

    public required string DisplayName { get; set; }
    public bool IsActive { get; set; } = true;
    public bool IsPrimary { get; set; }

    /// <summary>The tenant's own system, to which this number's conversation events are forwarded (a later issue).</summary>
    public string? WebhookUrl { get; set; }

    /// <summary>The Twilio account (or subaccount) SID this number belongs to; its auth token lives only in Ingress's configuration.</summary>
    public string? TwilioSid { get; set; }

    /// <summary>When the business answers; null means always.</summary>
    public WeeklyHours? BusinessHours { get; set; }

    public string Timezone { get; set; } = "America/Bogota";
    public bool AutoReply { get; set; } = true;
    public string? DefaultAgentId { get; set; }
    /// <summary>Every message to the number, answered or not (added up by <see cref="NumberTotals"/>).</summary>
    public int TotalMessages { get; private set; }

    /// <summary>The leads whose first message came to this number (added up by <see cref="NumberTotals"/>).</summary>
    public int TotalLeads { get; private set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>Routing's copy of an agent, kept from <see cref="AgentChanged"/>: what it needs to choose who answers.</summary>
public sealed class KnownAgent
{
    public required string AgentId { get; init; }
    public required string TenantId { get; init; }
    public required string Name { get; set; }
    public bool IsActive { get; set; }
    public bool IsDefault { get; set; }
    public List<string> TriggerKeywords { get; set; } = [];
    public WeeklyHours? ActiveHours { get; set; }
    public string? OutOfHoursMessage { get; set; }
    public bool Deleted { get; set; }
    public long Revision { get; set; }
}

/// <summary>An inbound message nobody could route (unknown or inactive number, CRM off), kept for operators.</summary>
public sealed class UnroutedMessage
{
    public required string Id { get; init; }
    public required string MessageSid { get; init; }
    public required string AccountSid { get; init; }
    public required string To { get; init; }
    public required string CustomerId { get; init; }
    public required string Reason { get; init; }
    public string? TenantId { get; init; }
    public DateTimeOffset ReceivedAt { get; init; }
}
