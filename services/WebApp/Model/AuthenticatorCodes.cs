using OtpNet;

namespace SafeNotify.Crm.WebApp.Model;

/// <summary>
/// The codes of an authenticator app (TOTP, RFC 6238: six digits, a new one every 30 seconds), with the key they are
/// made from kept as base32, the form people type into the app when they cannot scan its QR code.
/// </summary>
public static class AuthenticatorCodes
{
    public const int Digits = 6;

    private const string Issuer = "SafeNotify CRM";

    /// <summary>A new random key of 160 bits, the size RFC 4226 recommends.</summary>
    public static string NewKey() => Base32Encoding.ToString(KeyGeneration.GenerateRandomKey(20));

    /// <summary>
    /// Whether <paramref name="code"/> is the key's code at <paramref name="now"/>, or the step before or after (a clock
    /// a little off, a code typed as it changed), and at which time step.
    /// </summary>
    public static bool Matches(string key, string? code, DateTimeOffset now, out long step)
    {
        step = 0;
        var digits = code?.Replace(" ", "", StringComparison.Ordinal).Trim();
        if (digits is not { Length: Digits } || !digits.All(char.IsAsciiDigit))
        {
            return false;
        }

        return new Totp(Base32Encoding.ToBytes(key)).VerifyTotp(now.UtcDateTime, digits, out step, VerificationWindow.RfcSpecifiedNetworkDelay);
    }

    /// <summary>The address an authenticator app reads from the QR code: the key, and whose account it is.</summary>
    public static string SetupUri(string key, string email) => new OtpUri(OtpType.Totp, key, email, Issuer).ToString();

    /// <summary>The key in groups of four, as people copy it by hand.</summary>
    public static string Grouped(string key) => string.Join(' ', key.Chunk(4).Select(group => new string(group)));
}
