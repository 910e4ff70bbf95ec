using Microsoft.Extensions.Options;
using Twilio.Security;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Checks <c>X-Twilio-Signature</c> with the Twilio library, over the public URL Twilio called and with the
/// auth token of the account that sent the request. Behind the gateway the URL is rebuilt from
/// <c>Twilio__PublicBaseUrl</c>, else from the forwarded headers. Never fails open: an unknown account,
/// a missing or wrong signature is refused.
/// </summary>
public sealed class TwilioSignatureChecker(IOptions<TwilioOptions> options)
{
    public bool IsGenuine(HttpRequest request, IReadOnlyDictionary<string, string> form)
    {
        var signature = request.Headers["X-Twilio-Signature"].ToString();
        var token = options.Value.AuthTokenOf(form.GetValueOrDefault("AccountSid"));
        if (string.IsNullOrEmpty(signature) || token is null)
        {
            return false;
        }

        return Verify(PublicUrl(request), form, signature, token);
    }

    /// <summary>Twilio's own check (the library's RequestValidator, constant-time) of one signature.</summary>
    public static bool Verify(string url, IReadOnlyDictionary<string, string> form, string signature, string authToken) =>
        !string.IsNullOrEmpty(signature) && !string.IsNullOrEmpty(authToken)
        && new RequestValidator(authToken).Validate(url, new Dictionary<string, string>(form, StringComparer.Ordinal), signature);

    public string PublicUrl(HttpRequest request)
    {
        var baseUrl = options.Value.PublicBaseUrl;
        if (string.IsNullOrWhiteSpace(baseUrl))
        {
            var scheme = request.Headers["X-Forwarded-Proto"].FirstOrDefault() ?? request.Scheme;
            var host = request.Headers["X-Forwarded-Host"].FirstOrDefault() ?? request.Host.Value;
            baseUrl = $"{scheme}://{host}{request.Headers["X-Forwarded-Prefix"].FirstOrDefault()}";
        }

        return baseUrl.TrimEnd('/') + request.Path + request.QueryString;
    }
}
