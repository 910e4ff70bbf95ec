using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Gateway;

/// <summary>
/// Asks Routing who a bearer key belongs to, and remembers the answer briefly so the API does not cost a
/// second hop per call. Cache entries are keyed by the key's hash, never the key.
/// <para>
/// A known key is remembered for at most <see cref="KnownKeyLifetime"/> (5 s) and never past the moment
/// Routing says it expires (a rotated key's grace period), so a revoked key stops working at every gateway
/// replica within 5 s and a rotated key exactly when its grace ends, without Routing having to reach the
/// gateways. An unknown key is remembered for 5 s, which keeps guessing cheap for Routing. The replica that
/// passes a revocation on (<see cref="Forget"/>) drops the key at once.
/// </para>
/// </summary>
public sealed class ApiKeyResolver(HttpClient http, IMemoryCache cache, IdentityTokenCache identities, ILogger<ApiKeyResolver> logger)
{
    public static readonly TimeSpan KnownKeyLifetime = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan UnknownKeyLifetime = TimeSpan.FromSeconds(5);

    private sealed record Resolution(string? TenantId, string Role, string? KeyId, DateTimeOffset? ExpiresAt);

    /// <summary>
    /// What this gateway remembers of <paramref name="apiKey"/> without asking Routing: true with the caller, or with
    /// null for a key known to be wrong; false when it is not remembered.
    /// </summary>
    public bool TryRemembered(string apiKey, out CallerIdentity? caller) => cache.TryGetValue(CacheKey(apiKey), out caller);

    public async Task<CallerIdentity?> ResolveAsync(string apiKey, CancellationToken cancellationToken)
    {
        var cacheKey = CacheKey(apiKey);
        if (cache.TryGetValue(cacheKey, out CallerIdentity? cached))
        {
            return cached;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/api-keys/resolve") { Content = JsonContent.Create(new { apiKey }) };
        request.Headers.Add(CallerIdentity.Header, identities.For(new CallerIdentity(null, CallerIdentity.GatewayRole)));
        using var response = await http.SendAsync(request, cancellationToken);
        CallerIdentity? caller = null;
        var lifetime = UnknownKeyLifetime;
        if (response.IsSuccessStatusCode)
        {
            var resolution = await response.Content.ReadFromJsonAsync<Resolution>(cancellationToken);
            if (resolution is not null)
            {
                caller = new CallerIdentity(resolution.TenantId, resolution.Role, resolution.KeyId);
                lifetime = KnownKeyLifetime;
                if (resolution.ExpiresAt is { } expiresAt)
                {
                    var left = expiresAt - DateTimeOffset.UtcNow;
                    if (left <= TimeSpan.Zero)
                    {
                        return caller; // good for this request only
                    }

                    lifetime = left < lifetime ? left : lifetime;
                }
            }
        }
        else if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            logger.LogWarning("Routing could not resolve an API key: {Status}", (int)response.StatusCode);
            response.EnsureSuccessStatusCode(); // 5xx: the problem handler answers, nothing is cached
        }

        cache.Set(cacheKey, caller, lifetime);
        if (caller?.KeyId is { } keyId)
        {
            cache.Set(KeyIdEntry(keyId), cacheKey, lifetime);
        }

        return caller;
    }

    /// <summary>Drops what this gateway remembers of a key (by id, as a revocation names it).</summary>
    public void Forget(string keyId)
    {
        if (cache.TryGetValue(KeyIdEntry(keyId), out string? cacheKey) && cacheKey is not null)
        {
            cache.Remove(cacheKey);
        }

        cache.Remove(KeyIdEntry(keyId));
    }

    private static string KeyIdEntry(string keyId) => "api-key-id:" + keyId;

    private static string CacheKey(string apiKey) => "api-key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
}
