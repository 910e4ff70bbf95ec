using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Gateway;

/// <summary>
/// Asks Routing who a bearer key belongs to, and remembers the answer briefly (a known key for 30 s, an
/// unknown one for 5 s) so the API does not cost a second hop per call. Cache entries are keyed by the
/// key's hash, never the key.
/// </summary>
public sealed class ApiKeyResolver(HttpClient http, IMemoryCache cache, IdentityTokenCache identities, ILogger<ApiKeyResolver> logger)
{
    private static readonly TimeSpan KnownKeyLifetime = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan UnknownKeyLifetime = TimeSpan.FromSeconds(5);

    private sealed record Resolution(string? TenantId, string Role);

    public async Task<CallerIdentity?> ResolveAsync(string apiKey, CancellationToken cancellationToken)
    {
        var cacheKey = "api-key:" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(apiKey)));
        if (cache.TryGetValue(cacheKey, out CallerIdentity? cached))
        {
            return cached;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "/internal/api-keys/resolve") { Content = JsonContent.Create(new { apiKey }) };
        request.Headers.Add(CallerIdentity.Header, identities.For(new CallerIdentity(null, CallerIdentity.GatewayRole)));
        using var response = await http.SendAsync(request, cancellationToken);
        CallerIdentity? caller = null;
        if (response.IsSuccessStatusCode)
        {
            var resolution = await response.Content.ReadFromJsonAsync<Resolution>(cancellationToken);
            caller = resolution is null ? null : new CallerIdentity(resolution.TenantId, resolution.Role);
        }
        else if (response.StatusCode != System.Net.HttpStatusCode.NotFound)
        {
            logger.LogWarning("Routing could not resolve an API key: {Status}", (int)response.StatusCode);
            response.EnsureSuccessStatusCode(); // 5xx: the problem handler answers, nothing is cached
        }

        cache.Set(cacheKey, caller, caller is null ? UnknownKeyLifetime : KnownKeyLifetime);
        return caller;
    }
}
