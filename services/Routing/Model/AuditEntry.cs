namespace SafeNotify.Crm.Routing.Model;

/// <summary>
/// One record of the audit trail: a critical change made in any service (plans, keys, agents and prompts,
/// handoffs, exports, erasures), with who made it, what it touched and when. Written once per
/// <see cref="Contracts.AuditRecorded"/> event (the consumer's inbox drops redeliveries); never changed.
/// </summary>
public sealed class AuditEntry
{
    public required string Id { get; init; }

    /// <summary>The tenant the change concerns; null for a change of SafeNotify as a whole.</summary>
    public string? TenantId { get; init; }

    public required string Action { get; init; }
    public required string TargetType { get; init; }
    public required string TargetId { get; init; }
    public string? Detail { get; init; }
    public required string ActorRole { get; init; }
    public string? ActorTenantId { get; init; }
    public string? ActorKeyId { get; init; }

    /// <summary>The staff member who acted in the console, and the name they had then.</summary>
    public string? ActorStaffId { get; init; }

    public string? ActorStaffName { get; init; }
    public required string Service { get; init; }
    public DateTimeOffset OccurredAt { get; init; }
    public DateTimeOffset RecordedAt { get; init; }
}
