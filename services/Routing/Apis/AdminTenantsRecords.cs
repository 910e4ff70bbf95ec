using SafeNotify.Crm.Routing.Model;

namespace SafeNotify.Crm.Routing.Apis;

/// <summary>A new tenant; with <c>firstOwner</c>, the console invites that person as its owner and the answer holds their link.</summary>
public sealed record CreateTenantRequest(string? SafeNotifyUserId, string? Name, bool? CrmEnabled, string? CrmPlan, string? Timezone, FirstOwnerRequest? FirstOwner = null);

/// <summary>The person who will own the tenant's console.</summary>
public sealed record FirstOwnerRequest(string? Email, string? DisplayName);

public sealed record UpdateTenantRequest(string? Name, bool? CrmEnabled, string? CrmPlan, string? Timezone);

/// <summary>A tenant as operators see it; <c>migrationRunId</c> names the <c>migrate-users</c> run that created it (null: made by hand).</summary>
public sealed record TenantResponse(
    string Id, string SafeNotifyUserId, string Name, bool CrmEnabled, string CrmPlan, int? MaxAgents,
    int MaxWhatsappNumbers, string Timezone, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? MigrationRunId, string? LegacyPlanType)
{
    public static TenantResponse From(Tenant t) =>
        new(t.Id, t.SafeNotifyUserId, t.Name, t.CrmEnabled, t.CrmPlan, t.MaxAgents, t.MaxWhatsappNumbers, t.Timezone, t.CreatedAt, t.UpdatedAt,
            t.MigrationRunId, t.LegacyPlanType);
}

/// <summary>The new tenant with its first API key and, when an owner was named, that owner's invitation link: each shown this once.</summary>
public sealed record CreatedTenantResponse(
    string Id, string SafeNotifyUserId, string Name, bool CrmEnabled, string CrmPlan, int? MaxAgents,
    int MaxWhatsappNumbers, string Timezone, DateTimeOffset CreatedAt, string ApiKey,
    string? FirstOwnerInvitationLink = null, DateTimeOffset? FirstOwnerInvitationExpiresAt = null);

/// <summary>
/// Issue a key. With <c>replacesKeyId</c> (one key) or <c>rotate: true</c> (every key of the tenant that still
/// works) it is a rotation: the replaced keys keep working for the grace period, then stop.
/// </summary>
public sealed record IssueApiKeyRequest(string? ReplacesKeyId, bool? Rotate);

/// <summary>A key replaced in a rotation and the moment it stops working.</summary>
public sealed record ReplacedApiKey(string Id, DateTimeOffset ExpiresAt);

/// <summary>The new key, shown this once, and the keys it replaces (empty when it is simply another key).</summary>
public sealed record IssuedApiKeyResponse(string Id, string ApiKey, DateTimeOffset CreatedAt, IReadOnlyList<ReplacedApiKey>? Replaced = null);

/// <summary>A key as operators see it: never the secret, only the prefix that tells keys apart.</summary>
public sealed record ApiKeyResponse(
    string Id, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt,
    string? ReplacedByKeyId)
{
    public static ApiKeyResponse From(ApiKey k) => new(k.Id, k.Prefix, k.CreatedAt, k.LastUsedAt, k.ExpiresAt, k.RevokedAt, k.ReplacedByKeyId);
}

public sealed record UnroutedMessageResponse(string Id, string MessageSid, string AccountSid, string To, string CustomerId, string Reason, string? TenantId, DateTimeOffset ReceivedAt);
