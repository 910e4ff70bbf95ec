using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.TwilioStandIn;

/// <summary>Twilio's request signature, written here so the stand-in does not depend on the Twilio package.</summary>
public static class TwilioSignature
{
    public const string HeaderName = "X-Twilio-Signature";

    /// <summary>Base64(HMAC-SHA1(authToken, url + every POST parameter sorted by name, as name+value)).</summary>
    public static string Compute(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var data = new StringBuilder(url);
        foreach (var (key, value) in form.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            data.Append(key).Append(value);
        }

        var hash = HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString()));
        return Convert.ToBase64String(hash);
    }
}

/// <summary>Posts signed webhooks to our system: inbound messages and status callbacks.</summary>
public sealed class TwilioWebhookSender(
    IHttpClientFactory httpClients,
    TwilioStandInState state,
    IOptions<TwilioStandInOptions> options,
    IHostApplicationLifetime lifetime,
    ILogger<TwilioWebhookSender> logger)
{
    public const string HttpClientName = "twilio-webhooks";

    private readonly TwilioStandInOptions _options = options.Value;

    /// <summary>Posts the form signed with <paramref name="authToken"/> (or the given signature); answers our HTTP status, 0 if none.</summary>
    public async Task<int> PostAsync(string kind, string url, IReadOnlyDictionary<string, string> form, string authToken, string? signatureOverride, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add(TwilioSignature.HeaderName, signatureOverride ?? TwilioSignature.Compute(authToken, url, form));
        request.Headers.TryAddWithoutValidation("User-Agent", "TwilioProxy/1.1");
        request.Headers.Add("I-Twilio-Idempotency-Token", Guid.NewGuid().ToString());

        int status;
        try
        {
            using var response = await httpClients.CreateClient(HttpClientName).SendAsync(request, cancellationToken);
            status = (int)response.StatusCode;
        }
        catch (Exception ex) when ((ex is HttpRequestException or TaskCanceledException) && !cancellationToken.IsCancellationRequested)
        {
            logger.LogWarning("Webhook {Kind} to {Url} got no answer: {Error}", kind, url, ex.Message);
            status = 0;
        }

        form.TryGetValue("MessageStatus", out var messageStatus);
        state.Add(new WebhookDelivery(kind, url, form["MessageSid"], messageStatus, status, DateTimeOffset.UtcNow));
        return status;
    }

    /// <summary>Moves a message to <paramref name="status"/> and posts the signed status callback, if it has a callback URL.</summary>
    public async Task<int?> ReportStatusAsync(string sid, string status, int? errorCode, CancellationToken cancellationToken)
    {
        if (state.SetStatus(sid, status, errorCode) is not { } message)
        {
            return null;
        }

        if (message.StatusCallback is not { } url)
        {
            return 0;
        }

        var form = new Dictionary<string, string>
        {
            ["MessageSid"] = message.Sid,
            ["SmsSid"] = message.Sid,
            ["AccountSid"] = message.AccountSid,
            ["From"] = message.From ?? "",
            ["To"] = message.To,
            ["MessageStatus"] = status,
            ["SmsStatus"] = status,
            ["ApiVersion"] = "2010-04-01",
            ["ChannelPrefix"] = "whatsapp",
        };
        if (message.MessagingServiceSid is { } serviceSid)
        {
            form["MessagingServiceSid"] = serviceSid;
        }

        if (errorCode is { } code)
        {
            form["ErrorCode"] = code.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        var token = _options.FindAuthToken(message.AccountSid) ?? _options.AuthToken;
        return await PostAsync("status", url, form, token, null, cancellationToken);
    }

    /// <summary>
    /// Plays the message's life after the send in the background: failed (for a FailDelivery fault) or
    /// sent, delivered, read, one after the other, each after the configured pause.
    /// </summary>
    public void StartLifecycle(SentMessage message, TwilioFault? fault)
    {
        (string Status, int? ErrorCode)[] steps = fault?.Mode == TwilioFaultMode.FailDelivery
            ? [("failed", fault.ErrorCode ?? 30008)]
            : _options.AutoAdvanceStatuses ? [("sent", null), ("delivered", null), ("read", null)] : [];
        if (steps.Length == 0)
        {
            return;
        }

        var stopping = lifetime.ApplicationStopping;
        _ = Task.Run(async () =>
        {
            try
            {
                foreach (var (status, errorCode) in steps)
                {
                    await Task.Delay(_options.StatusCallbackDelayMs, stopping);
                    if (await ReportStatusAsync(message.Sid, status, errorCode, stopping) is null)
                    {
                        return; // the record was cleared meanwhile
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                // The stand-in is shutting down.
            }
        }, stopping);
    }
}
