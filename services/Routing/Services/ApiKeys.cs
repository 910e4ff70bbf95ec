using System.Security.Cryptography;
using System.Text;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// Tenant API keys: 128 random bits behind a recognisable prefix. Only the hash is stored (<see cref="SecretTokens"/>);
/// lookups go by hash and the final comparison is constant-time.
/// </summary>
public static class ApiKeys
{
    public const string Prefix = "sn_live";

    public static string NewKey() => Ids.New(Prefix);

    public static string Hash(string key) => SecretTokens.Hash(key);

    public static string DisplayPrefix(string key) => key[..Math.Min(12, key.Length)];

    public static bool HashesEqual(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(a), Encoding.ASCII.GetBytes(b));
}
