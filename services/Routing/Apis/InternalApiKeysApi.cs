using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

public sealed record ResolveApiKeyRequest(string? ApiKey);

public sealed record ResolvedApiKey(string? TenantId, string Role);

public sealed class OperatorOptions
{
    /// <summary>The operator key for /api/admin (Crm__OperatorApiKey).</summary>
    public string? OperatorApiKey { get; set; }
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

    private static async Task<Results<Ok<ResolvedApiKey>, NotFound>> Resolve(
        ResolveApiKeyRequest request, RoutingDbContext db, IOptions<OperatorOptions> operators, TimeProvider time, CancellationToken cancellationToken)
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

        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, cancellationToken);
        if (key is null || !ApiKeys.HashesEqual(key.Hash, hash))
        {
            return TypedResults.NotFound();
        }

        var now = time.GetUtcNow();
        await db.ApiKeys.Where(k => k.Id == key.Id).ExecuteUpdateAsync(k => k.SetProperty(x => x.LastUsedAt, now), cancellationToken);
        return TypedResults.Ok(new ResolvedApiKey(key.TenantId, CallerIdentity.TenantRole));
    }
}
