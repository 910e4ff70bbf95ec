using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Twilio.Clients;
using Twilio.Http;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// One Twilio REST client per account, all sharing one HTTP connection pool. The Twilio library always
/// builds https://api.twilio.com URLs; a handler re-bases them on <c>Twilio__ApiBaseUrl</c>, so the
/// library runs unchanged against the stand-in. No automatic retries here: a send is not idempotent, and
/// retrying is the consumer's decision.
/// </summary>
public sealed class TwilioClients : IDisposable
{
    private readonly TwilioOptions _options;
    private readonly System.Net.Http.HttpClient _http;
    private readonly ConcurrentDictionary<string, ITwilioRestClient> _clients = new();

    public TwilioClients(IOptions<TwilioOptions> options)
    {
        _options = options.Value;
        _http = new System.Net.Http.HttpClient(new ApiBaseUrlHandler(new Uri(_options.ApiBaseUrl)) { InnerHandler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        } })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
    }

    /// <summary>The client for <paramref name="accountSid"/>, or null when no auth token is configured for it.</summary>
    public ITwilioRestClient? For(string accountSid)
    {
        var token = _options.AuthTokenOf(accountSid);
        return token is null ? null : _clients.GetOrAdd(accountSid, sid => new TwilioRestClient(sid, token, httpClient: new SystemNetHttpClient(_http)));
    }

    public void Dispose() => _http.Dispose();

    private sealed class ApiBaseUrlHandler(Uri apiBase) : DelegatingHandler
    {
        protected override Task<System.Net.Http.HttpResponseMessage> SendAsync(System.Net.Http.HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri is { Host: "api.twilio.com" } uri && apiBase.Host != "api.twilio.com")
            {
                var rebased = new UriBuilder(uri) { Scheme = apiBase.Scheme, Host = apiBase.Host, Port = apiBase.Port };
                rebased.Path = apiBase.AbsolutePath.TrimEnd('/') + uri.AbsolutePath;
                request.RequestUri = rebased.Uri;
            }

            return base.SendAsync(request, cancellationToken);
        }
    }
}
