using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

public sealed record ResolveApiKeyRequest(string? ApiKey);

/// <summary>
/// Who a key belongs to. <paramref name="KeyId"/> goes into the signed identity (null for the operator's
/// configured key); <paramref name="ExpiresAt"/> is when a rotated-out key stops, so the gateway never
/// remembers the answer past it.
/// </summary>
public sealed record ResolvedApiKey(string? TenantId, string Role, string? KeyId = null, DateTimeOffset? ExpiresAt = null);

public sealed class OperatorOptions
{
    /// <summary>The operator key for /api/admin (Crm__OperatorApiKey).</summary>
    public string? OperatorApiKey { get; set; }
}

public sealed class ApiKeyOptions
{
    /// <summary>How long a key replaced in a rotation keeps working (Crm__ApiKeys__RotationGracePeriod, default 24 h).</summary>
    public TimeSpan RotationGracePeriod { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// lastUsedAt is written at most this often per key (Crm__ApiKeys__LastUsedResolution, default 1 min), so
    /// resolving a busy key costs a read, not a write.
    /// </summary>
    public TimeSpan LastUsedResolution { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>
/// The one synchronous internal call: the gateway asks who a bearer key belongs to. Not routed by the
/// gateway, so clients cannot reach it.
/// </summary>
public static class InternalApiKeysApi
{
    public static RouteGroupBuilder MapInternalApiKeysApi(this IEndpointRouteBuilder app)
    {
        var internalApi = app.MapGroup("/internal").WithTags("Internal").ExcludeFromDescription();
        internalApi.MapPost("/api-keys/resolve", Resolve).RequireGateway().AcrossTenants<RoutingDbContext>(); // a key names its tenant
        return internalApi;
    }

    /// <summary>
    /// The key is hashed (SHA-256: a 128-bit random key needs no slow hash) and looked up by hash through the
    /// unique index; the stored hash is then compared in constant time, as is the operator key's. A revoked key,
    /// or a rotated-out one past its grace period, resolves to nothing.
    /// </summary>
    private static async Task<Results<Ok<ResolvedApiKey>, NotFound>> Resolve(
        ResolveApiKeyRequest request, RoutingDbContext db, IOptions<OperatorOptions> operators, IOptions<ApiKeyOptions> keyOptions, TimeProvider time,
        CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(request.ApiKey) || request.ApiKey.Length > 200)
        {
            return TypedResults.NotFound();
        }

        var hash = ApiKeys.Hash(request.ApiKey);
        var operatorKey = operators.Value.OperatorApiKey;
        if (!string.IsNullOrEmpty(operatorKey) && ApiKeys.HashesEqual(hash, ApiKeys.Hash(operatorKey)))
        {
            return TypedResults.Ok(new ResolvedApiKey(null, CallerIdentity.OperatorRole));
        }

        var now = time.GetUtcNow();
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash, cancellationToken);
        if (key is null || !ApiKeys.HashesEqual(key.Hash, hash) || !key.WorksAt(now))
        {
            return TypedResults.NotFound();
        }

        // At most one write per key per resolution period, however often the key is used; the condition is
        // checked by the database, so concurrent resolutions write once between them.
        var stale = now - keyOptions.Value.LastUsedResolution;
        if (key.LastUsedAt is null || key.LastUsedAt <= stale)
        {
            await db.ApiKeys.Where(k => k.Id == key.Id && (k.LastUsedAt == null || k.LastUsedAt <= stale))
                .ExecuteUpdateAsync(k => k.SetProperty(x => x.LastUsedAt, now), cancellationToken);
        }

        return TypedResults.Ok(new ResolvedApiKey(key.TenantId, CallerIdentity.AdminRole, key.Id, key.ExpiresAt));
    }
}
