namespace SafeNotify.Crm.Routing.Model;

/// <summary>
/// The CRM extension of one SafeNotify user (seed "EXTENSIÓN User"): the legacy <c>users</c> table is
/// never altered, its CRM columns live here, 1:1, keyed by <see cref="SafeNotifyUserId"/>.
/// </summary>
public sealed class Tenant
{
    public required string Id { get; init; }
    public required string SafeNotifyUserId { get; init; }
    public required string Name { get; set; }
    public bool CrmEnabled { get; set; }
    public required string CrmPlan { get; set; }
    public int? MaxAgents { get; set; }
    public int MaxWhatsappNumbers { get; set; }
    public required string Timezone { get; set; }
    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; set; }

    /// <summary>
    /// The run of <c>migrate-users</c> that created this tenant from an existing SafeNotify user; null for a
    /// tenant made by hand (an operator). A rollback removes only tenants that carry a run id.
    /// </summary>
    public string? MigrationRunId { get; init; }

    /// <summary>The legacy user's plan as written there (e.g. "PREMIUM"), kept when it was not a known plan.</summary>
    public string? LegacyPlanType { get; init; }

    public void ApplyPlan(Plan plan)
    {
        CrmPlan = plan.Name;
        MaxAgents = plan.MaxAgents;
        MaxWhatsappNumbers = plan.MaxWhatsappNumbers;
    }
}

/// <summary>A tenant's API key: only its SHA-256 hash is stored; the key itself is shown once.</summary>
public sealed class ApiKey
{
    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string Hash { get; init; }

    /// <summary>The key's first characters, so a tenant can tell its keys apart without the secret.</summary>
    public required string Prefix { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset? RevokedAt { get; set; }

    /// <summary>When the key was last resolved, to the minute (written at most once a minute per key).</summary>
    public DateTimeOffset? LastUsedAt { get; set; }

    /// <summary>When a rotated-out key stops working (the end of its grace period); null: until revoked.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>The key that replaced this one in a rotation.</summary>
    public string? ReplacedByKeyId { get; set; }

    public bool WorksAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}
