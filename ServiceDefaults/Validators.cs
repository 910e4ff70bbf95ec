using System.Text.RegularExpressions;

namespace SafeNotify.Crm.ServiceDefaults;

public static partial class Validators
{
    /// <summary>E.164: a plus, a country code not starting with 0, 8 to 15 digits in all.</summary>
    public static bool IsE164(string? phone) => phone is not null && E164().IsMatch(phone);

    public static bool IsTimeZone(string? zone) =>
        !string.IsNullOrWhiteSpace(zone) && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out var found) && found.HasIanaId;

    /// <summary>A plain address such as ana@example.com (no display name, a dotted domain), at most 254 characters.</summary>
    public static bool IsEmailAddress(string? email) =>
        email is { Length: > 0 and <= 254 } && System.Net.Mail.MailAddress.TryCreate(email.Trim(), out var address)
        && address.Address == email.Trim() && address.Host.Contains('.');

    public static bool IsHttpUrl(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

    [GeneratedRegex(@"^\+[1-9][0-9]{7,14}$")]
    private static partial Regex E164();
}
