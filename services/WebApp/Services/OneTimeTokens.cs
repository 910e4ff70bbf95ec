using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>
/// The tokens of one-time links (invitations, password resets): 256 random bits, URL-safe. Only the SHA-256 hash is stored (the token has full entropy,
/// so a fast hash is enough), so a copy of the database opens no account.
/// </summary>
public static class OneTimeTokens
{
    public static string New() => Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
