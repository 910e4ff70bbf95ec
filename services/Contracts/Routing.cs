namespace SafeNotify.Crm.Contracts;

/// <summary>What should happen with a routed message.</summary>
public enum ReplyPolicy
{
    /// <summary>The proposed agent answers.</summary>
    Agent,

    /// <summary>Outside business hours with no agent on duty: the out-of-hours text goes out (once per conversation and closed period).</summary>
    OutOfHoursText,

    /// <summary>Stored and shown, nobody answers (autoReply off outside business hours).</summary>
    None,
}

/// <summary>
/// Routing found the tenant and number of an inbound message and proposes who answers it.
/// It carries the message itself so that Lead never reads Ingress's data.
/// </summary>
public sealed record InboundMessageRouted(
    string TenantId,
    string NumberId,
    string NumberPhone,
    string AccountSid,
    string InboundMessageId,
    string MessageSid,
    string CustomerId,
    string? CustomerPhone,
    string? ProfileName,
    string? Text,
    IReadOnlyList<WhatsAppMedia> Media,
    long Sequence,
    DateTimeOffset ReceivedAt,
    ReplyPolicy Reply,
    string? ProposedAgentId,
    string ProposalReason,
    bool MatchedKeyword,
    bool InsideBusinessHours)
{
    public string? OutOfHoursText { get; init; }
    public WhatsAppLocation? Location { get; init; }
    public string? ButtonPayload { get; init; }
}

/// <summary>Nobody can answer an inbound message: unknown or inactive number, or CRM disabled.</summary>
public sealed record InboundMessageUnrouted(
    string InboundMessageId,
    string MessageSid,
    string AccountSid,
    string To,
    string CustomerId,
    string Reason,
    string? TenantId,
    DateTimeOffset ReceivedAt);

/// <summary>A tenant's CRM was set up (<see cref="MaxAgents"/> null means unlimited).</summary>
public sealed record TenantProvisioned(
    string TenantId,
    string SafeNotifyUserId,
    string Name,
    bool CrmEnabled,
    string Plan,
    int? MaxAgents,
    int MaxWhatsappNumbers,
    string Timezone,
    DateTimeOffset OccurredAt)
{
    /// <summary>Set up by the migration of an existing SafeNotify user (seed "Plan de Migración"); see <see cref="TenantMigrated"/>.</summary>
    public bool Migrated { get; init; }

    /// <summary>The owner the operator named when creating the tenant, invited by the console; null when none was named.</summary>
    public FirstOwnerInvitation? FirstOwner { get; init; }
}

/// <summary>
/// An invitation to be a new tenant's first owner. Only the hash of its link's token travels: the token itself is
/// shown once, to the operator who created the tenant.
/// </summary>
public sealed record FirstOwnerInvitation(string Email, string DisplayName, string InvitationHash, DateTimeOffset ExpiresAt)
{
    /// <summary>How long an invitation link works (the console's own invitations last as long).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(72);
}

/// <summary>A tenant's plan, limits, CRM switch or time zone changed.</summary>
public sealed record TenantPlanChanged(
    string TenantId,
    bool CrmEnabled,
    string Plan,
    int? MaxAgents,
    int MaxWhatsappNumbers,
    string Timezone,
    DateTimeOffset OccurredAt);

/// <summary>A WhatsApp number was added, changed or removed.</summary>
public sealed record NumberChanged(
    string TenantId,
    string NumberId,
    string PhoneNumber,
    bool IsActive,
    bool Deleted,
    DateTimeOffset OccurredAt);
