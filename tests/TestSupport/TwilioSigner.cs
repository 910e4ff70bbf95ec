using System.Security.Cryptography;
using System.Text;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// Signs a webhook as Twilio documents it, written for the tests independently of the code under test
/// (which uses the Twilio library) and of the stand-in: Base64(HMAC-SHA1(auth token, the full URL followed by
/// every POST parameter sorted by name, as name + value)).
/// </summary>
public static class TwilioSigner
{
    public static string Sign(string authToken, string url, IEnumerable<KeyValuePair<string, string>> form)
    {
        var data = new StringBuilder(url);
        foreach (var (name, value) in form.OrderBy(p => p.Key, StringComparer.Ordinal))
        {
            data.Append(name).Append(value);
        }

        return Convert.ToBase64String(HMACSHA1.HashData(Encoding.UTF8.GetBytes(authToken), Encoding.UTF8.GetBytes(data.ToString())));
    }

    /// <summary>A POST of <paramref name="form"/> to <paramref name="path"/>, signed for <paramref name="publicBaseUrl"/> + path.</summary>
    public static HttpRequestMessage SignedPost(string publicBaseUrl, string path, IReadOnlyDictionary<string, string> form, string authToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Add("X-Twilio-Signature", Sign(authToken, publicBaseUrl.TrimEnd('/') + path, form));
        return request;
    }

    /// <summary>Twilio's inbound form for a WhatsApp text message.</summary>
    public static Dictionary<string, string> InboundForm(string accountSid, string from, string to, string body, string? messageSid = null) => new()
    {
        ["MessageSid"] = messageSid ?? "SM" + Guid.NewGuid().ToString("N"),
        ["SmsMessageSid"] = messageSid ?? "SM" + Guid.NewGuid().ToString("N"),
        ["AccountSid"] = accountSid,
        ["From"] = $"whatsapp:{from}",
        ["To"] = $"whatsapp:{to}",
        ["Body"] = body,
        ["NumMedia"] = "0",
        ["NumSegments"] = "1",
        ["ProfileName"] = "María González",
        ["WaId"] = from.TrimStart('+'),
        ["SmsStatus"] = "received",
        ["ApiVersion"] = "2010-04-01",
    };
}
