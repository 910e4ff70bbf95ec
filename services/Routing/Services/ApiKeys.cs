using System.Security.Cryptography;
using System.Text;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// Tenant API keys: 128 random bits behind a recognisable prefix. Only the SHA-256 hash is stored (the key
/// has full entropy, so a fast hash is enough); lookups go by hash and the final comparison is constant-time.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "sn_live";

    public static string NewKey() => Ids.New(Prefix);

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static string DisplayPrefix(string key) => key[..Math.Min(12, key.Length)];

    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
