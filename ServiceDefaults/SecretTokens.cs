using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Secrets handed out once (API keys, the tokens of one-time links): only their SHA-256 hash is stored. The secrets
/// have full entropy, so a fast hash is enough, and a copy of the database opens nothing.
/// </summary>
public static class SecretTokens
{
    /// <summary>256 random bits, URL-safe.</summary>
    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string secret) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(secret)));
}
