using System.Net;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>A business's API key as its owners see it: never the secret, only the prefix that tells keys apart.</summary>
public sealed record ApiKeyView(string Id, string Prefix, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt, string? ReplacedByKeyId)
{
    public bool WorksAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || ExpiresAt > now);
}

/// <summary>A new key, shown this once.</summary>
public sealed record IssuedApiKey(string Id, string ApiKey, DateTimeOffset CreatedAt);

/// <summary>
/// Routing, called directly (service discovery, never through the gateway) as the signed-in member: Routing checks the
/// member's role itself, so a call this console should not make is refused there too.
/// </summary>
public sealed class RoutingClient(HttpClient http, MemberIdentities identities)
{
    private const string ApiKeys = "/api/tenant/api-keys";

    public async Task<IReadOnlyList<ApiKeyView>> ApiKeysAsync(ConsoleUser user, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(user, HttpMethod.Get, $"{ApiKeys}?pageSize={PageQuery.MaxPageSize}", null, cancellationToken);
        return (await response.Content.ReadFromJsonAsync<PagedList<ApiKeyView>>(cancellationToken))!.Items;
    }

    /// <summary>A new key; with <paramref name="rotate"/>, every key that works now keeps working only for the grace period.</summary>
    public async Task<IssuedApiKey> IssueApiKeyAsync(ConsoleUser user, bool rotate, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(user, HttpMethod.Post, ApiKeys, JsonContent.Create(new { rotate }), cancellationToken);
        return (await response.Content.ReadFromJsonAsync<IssuedApiKey>(cancellationToken))!;
    }

    public async Task RevokeApiKeyAsync(ConsoleUser user, string keyId, CancellationToken cancellationToken)
    {
        using var _ = await SendAsync(user, HttpMethod.Delete, $"{ApiKeys}/{Uri.EscapeDataString(keyId)}", null, cancellationToken);
    }

    private async Task<HttpResponseMessage> SendAsync(ConsoleUser user, HttpMethod method, string path, HttpContent? content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (identities.TokenFor(user) is { } token)
        {
            request.Headers.Add(CallerIdentity.Header, token);
        }

        var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            var status = response.StatusCode;
            response.Dispose();
            throw new ServiceRefusedException(status);
        }

        return response;
    }
}

/// <summary>A service refused what the console asked on a member's behalf (the page says so in a sentence).</summary>
public sealed class ServiceRefusedException(HttpStatusCode status) : Exception($"The service answered {(int)status}.")
{
    public HttpStatusCode Status { get; } = status;
}
