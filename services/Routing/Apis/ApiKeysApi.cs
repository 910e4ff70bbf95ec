using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.ModelBinding;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

/// <summary>
/// A business's API keys: SafeNotify's operators manage any business's under <c>/api/admin/tenants/{id}/api-keys</c>, a
/// business's owners their own under <c>/api/tenant/api-keys</c>, under the same rules. An API key acts as an admin, so it
/// never reaches these routes.
/// </summary>
public static class ApiKeysApi
{
    private const string ListSummary = "The keys without their secrets: prefix, createdAt, lastUsedAt (to the minute), expiresAt, revokedAt";
    private const string IssueSummary = "Issue an API key, shown once; with replacesKeyId or rotate=true the replaced keys keep working for the grace period (24 h by default)";
    private const string RevokeSummary = "Revoke an API key at once (the gateway stops accepting it within 5 s)";

    public static IEndpointRouteBuilder MapApiKeysApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin/tenants/{id}/api-keys").WithTags("Admin").RequireOperator().AcrossTenants<RoutingDbContext>();
        admin.MapGet("/", ListApiKeys).WithName("ListApiKeys").WithSummary(ListSummary);
        admin.MapPost("/", (string id, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] IssueApiKeyRequest? request, RoutingDbContext db,
                IOptions<ApiKeyOptions> options, TimeProvider time, HttpContext http, CancellationToken cancellationToken) =>
                IssueApiKey(id, $"/api/admin/tenants/{id}/api-keys", request, db, options, time, http, cancellationToken))
            .WithName("IssueApiKey").WithSummary(IssueSummary);
        admin.MapDelete("/{keyId}", RevokeApiKey).WithName("RevokeApiKey").WithSummary(RevokeSummary);

        var own = app.MapGroup("/api/tenant/api-keys").WithTags("Tenant").RequireTenant(TenantRole.Owner);
        own.MapGet("/", (HttpContext http, RoutingDbContext db, int? page, int? pageSize, CancellationToken cancellationToken) =>
                ListApiKeys(http.TenantId(), db, page, pageSize, cancellationToken))
            .WithName("ListOwnApiKeys").WithSummary(ListSummary + " (owners only)");
        own.MapPost("/", ([FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] IssueApiKeyRequest? request, RoutingDbContext db,
                IOptions<ApiKeyOptions> options, TimeProvider time, HttpContext http, CancellationToken cancellationToken) =>
                IssueApiKey(http.TenantId(), "/api/tenant/api-keys", request, db, options, time, http, cancellationToken))
            .WithName("IssueOwnApiKey").WithSummary(IssueSummary + " (owners only)");
        own.MapDelete("/{keyId}", (string keyId, RoutingDbContext db, TimeProvider time, HttpContext http, CancellationToken cancellationToken) =>
                RevokeApiKey(http.TenantId(), keyId, db, time, http, cancellationToken))
            .WithName("RevokeOwnApiKey").WithSummary(RevokeSummary + " (owners only)");
        return app;
    }

    private static async Task<Results<Ok<PagedList<ApiKeyResponse>>, ProblemHttpResult>> ListApiKeys(
        string id, RoutingDbContext db, int? page, int? pageSize, CancellationToken cancellationToken)
    {
        if (!await db.Tenants.AnyAsync(t => t.Id == id, cancellationToken))
        {
            return Problems.NotFound("Tenant");
        }

        var paging = PageQuery.From(page, pageSize);
        var query = db.ApiKeys.AsNoTracking().Where(k => k.TenantId == id);
        var total = await query.CountAsync(cancellationToken);
        var items = await query.OrderByDescending(k => k.CreatedAt).ThenBy(k => k.Id).Skip(paging.Skip).Take(paging.PageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedList<ApiKeyResponse>(items.Select(ApiKeyResponse.From).ToList(), paging.Page, paging.PageSize, total));
    }

    /// <summary>
    /// Issues a key (shown this once; only its hash is kept). A rotation also gives the replaced keys an end:
    /// now plus the grace period, or sooner if they already ended sooner. The tenant's row lock orders
    /// concurrent rotations, so two of them cannot both extend the same key's life.
    /// </summary>
    private static async Task<Results<Created<IssuedApiKeyResponse>, ProblemHttpResult>> IssueApiKey(
        string id, string location, [FromBody(EmptyBodyBehavior = EmptyBodyBehavior.Allow)] IssueApiKeyRequest? request, RoutingDbContext db,
        IOptions<ApiKeyOptions> options, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (await db.LockTenantAsync(id, cancellationToken) is null)
        {
            return Problems.NotFound("Tenant");
        }

        var now = time.GetUtcNow();
        var key = ApiKeys.NewKey();
        var apiKey = new ApiKey { Id = Ids.New("key"), TenantId = id, Hash = ApiKeys.Hash(key), Prefix = ApiKeys.DisplayPrefix(key), CreatedAt = now };

        List<ApiKey> replaced = [];
        if (!string.IsNullOrEmpty(request?.ReplacesKeyId))
        {
            var old = await db.ApiKeys.FirstOrDefaultAsync(k => k.Id == request.ReplacesKeyId && k.TenantId == id, cancellationToken);
            if (old is null || !old.WorksAt(now))
            {
                return Problems.NotFound("API key");
            }

            replaced.Add(old);
        }
        else if (request?.Rotate == true)
        {
            replaced = (await db.ApiKeys.Where(k => k.TenantId == id && k.RevokedAt == null).ToListAsync(cancellationToken))
                .Where(k => k.WorksAt(now)).ToList();
        }

        var graceEnds = now + options.Value.RotationGracePeriod;
        foreach (var old in replaced)
        {
            old.ExpiresAt = old.ExpiresAt is { } ends && ends < graceEnds ? ends : graceEnds;
            old.ReplacedByKeyId ??= apiKey.Id;
        }

        db.ApiKeys.Add(apiKey);
        if (replaced.Count == 0)
        {
            db.Audit(http, id, AuditActions.ApiKeyIssued, "api_key", apiKey.Id, $"new key {apiKey.Prefix}…", now);
        }
        else
        {
            foreach (var old in replaced)
            {
                db.Audit(http, id, AuditActions.ApiKeyRotated, "api_key", old.Id,
                    $"replaced by {apiKey.Id} ({apiKey.Prefix}…), works until {old.ExpiresAt:O}", now);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return TypedResults.Created($"{location}/{apiKey.Id}", new IssuedApiKeyResponse(apiKey.Id, key, apiKey.CreatedAt,
            replaced.Select(k => new ReplacedApiKey(k.Id, k.ExpiresAt!.Value)).ToList()));
    }

    /// <summary>
    /// Revokes a key at once in Routing; revoking it again changes nothing and records nothing. The revocation is
    /// one conditional update, so of two concurrent revocations exactly one is recorded.
    /// </summary>
    private static async Task<Results<NoContent, ProblemHttpResult>> RevokeApiKey(
        string id, string keyId, RoutingDbContext db, TimeProvider time, HttpContext http, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var key = await db.ApiKeys.AsNoTracking().FirstOrDefaultAsync(k => k.Id == keyId && k.TenantId == id, cancellationToken);
        if (key is null)
        {
            return Problems.NotFound("API key");
        }

        var now = time.GetUtcNow();
        var revoked = await db.ApiKeys.Where(k => k.Id == keyId && k.RevokedAt == null)
            .ExecuteUpdateAsync(k => k.SetProperty(x => x.RevokedAt, now), cancellationToken);
        if (revoked == 1)
        {
            db.Audit(http, id, AuditActions.ApiKeyRevoked, "api_key", key.Id, $"key {key.Prefix}… revoked", now);
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return TypedResults.NoContent();
    }
}
