using System.Security.Cryptography;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Random, unguessable ids with a short prefix that says what they name ("tnt_", "lead_", ...).
/// 16 random bytes in lower-case base32: sortless on purpose, so ids leak no counts or order.
/// </summary>
public static class Ids
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyz234567";

    public static string New(string prefix)
    {
        Span<byte> bytes = stackalloc byte[16];
        RandomNumberGenerator.Fill(bytes);
        Span<char> chars = stackalloc char[26];
        int bitBuffer = 0, bitCount = 0, index = 0;
        foreach (var b in bytes)
        {
            bitBuffer = (bitBuffer << 8) | b;
            bitCount += 8;
            while (bitCount >= 5)
            {
                chars[index++] = Alphabet[(bitBuffer >> (bitCount - 5)) & 31];
                bitCount -= 5;
            }
        }

        if (bitCount > 0)
        {
            chars[index++] = Alphabet[(bitBuffer << (5 - bitCount)) & 31];
        }

        return string.Concat(prefix, "_", new string(chars[..index]));
    }
}
