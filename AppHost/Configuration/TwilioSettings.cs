using Microsoft.Extensions.Configuration;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>
/// Twilio as the configuration contract describes it: <c>Twilio__AccountSid</c> and <c>Twilio__AuthToken</c>
/// select the real API; without them the AppHost starts the Twilio stand-in with credentials generated once.
/// </summary>
internal sealed record TwilioSettings(
    string AccountSid,
    string AuthToken,
    IReadOnlyList<(string Sid, string Token)> MoreAccounts,
    string? ApiBaseUrl,
    string? PublicBaseUrl,
    bool UseStandIn)
{
    public static TwilioSettings From(IConfiguration config, StateFolder state)
    {
        var more = config.GetSection("Twilio:Accounts").GetChildren()
            .Select(account => (Sid: account.Key, Token: account["AuthToken"] ?? ""))
            .Where(account => account.Token.Length > 0)
            .ToList();
        var sid = config["Twilio:AccountSid"];
        var token = config["Twilio:AuthToken"];
        var publicBaseUrl = NullIfEmpty(config["Twilio:PublicBaseUrl"]);

        return !string.IsNullOrWhiteSpace(sid) && !string.IsNullOrWhiteSpace(token)
            ? new TwilioSettings(sid, token, more, NullIfEmpty(config["Twilio:ApiBaseUrl"]), publicBaseUrl, UseStandIn: false)
            : new TwilioSettings(
                state.Secret("twilio-standin-account-sid", bytes: 16, prefix: "AC"),
                state.Secret("twilio-standin-auth-token", bytes: 16),
                more, ApiBaseUrl: null, publicBaseUrl, UseStandIn: true);
    }

    private static string? NullIfEmpty(string? value) => string.IsNullOrWhiteSpace(value) ? null : value;
}
