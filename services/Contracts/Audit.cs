namespace SafeNotify.Crm.Contracts;

/// <summary>
/// A critical change, recorded for the audit trail (seed: "Audit trail de cambios críticos"). The service
/// that made the change publishes it through its outbox in the same transaction as the change; Routing
/// keeps the trail and serves it to operators at <c>GET /api/admin/audit</c>.
/// <para>
/// Who: <paramref name="ActorRole"/> (<c>operator</c>, <c>owner</c>, <c>admin</c>, <c>agent</c> or <c>system</c>), the acting
/// tenant, the id of the API key used (null for the operator's configured key) or the staff member who acted in the console
/// (<paramref name="ActorStaffId"/>, with the name they had then). What: <paramref name="Action"/> (one of
/// <see cref="AuditActions"/>), the target and a short <paramref name="Detail"/> that never holds a secret or a
/// customer's personal data. When: <paramref name="OccurredAt"/>.
/// </para>
/// </summary>
public sealed record AuditRecorded(
    string? TenantId,
    string Action,
    string TargetType,
    string TargetId,
    string? Detail,
    string ActorRole,
    string? ActorTenantId,
    string? ActorKeyId,
    string Service,
    DateTimeOffset OccurredAt,
    string? ActorStaffId = null,
    string? ActorStaffName = null);

/// <summary>The audit trail's action names.</summary>
public static class AuditActions
{
    public const string TenantCreated = "tenant.created";
    public const string TenantPlanChanged = "tenant.plan_changed";
    public const string TenantSettingsChanged = "tenant.settings_changed";
    public const string ApiKeyIssued = "api_key.issued";
    public const string ApiKeyRotated = "api_key.rotated";
    public const string ApiKeyRevoked = "api_key.revoked";
    public const string AgentCreated = "agent.created";
    public const string AgentUpdated = "agent.updated";
    public const string AgentDeleted = "agent.deleted";
    public const string PromptActivated = "prompt.activated";
    public const string ConversationHandedOff = "conversation.handed_off";
    public const string ConversationReleased = "conversation.released";
    public const string LeadExported = "lead.exported";
    public const string LeadErased = "lead.erased";
    public const string StaffInvited = "staff.invited";
    public const string StaffRoleChanged = "staff.role_changed";
    public const string StaffDisabled = "staff.disabled";
    public const string StaffEnabled = "staff.enabled";
    public const string StaffPasswordResetStarted = "staff.password_reset_started";
}
