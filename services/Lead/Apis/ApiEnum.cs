using System.Text.Json;

namespace SafeNotify.Crm.Lead.Apis;

/// <summary>
/// Enum filters in a query string, spelled as the API writes them (the seed's UPPERCASE names: WAITING_HUMAN).
/// Minimal APIs would bind an enum parameter only from its C# name (WaitingHuman) or a number.
/// </summary>
internal static class ApiEnum
{
    public static string Name<TEnum>(TEnum value) where TEnum : struct, Enum => JsonNamingPolicy.SnakeCaseUpper.ConvertName(value.ToString());

    /// <summary>True for no value (no filter) or a known name, ignoring case.</summary>
    public static bool TryParse<TEnum>(string? text, out TEnum? value) where TEnum : struct, Enum
    {
        value = null;
        if (string.IsNullOrWhiteSpace(text))
        {
            return true;
        }

        foreach (var candidate in Enum.GetValues<TEnum>())
        {
            if (string.Equals(Name(candidate), text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                value = candidate;
                return true;
            }
        }

        return false;
    }

    public static string OneOf<TEnum>() where TEnum : struct, Enum => "One of " + string.Join(", ", Enum.GetValues<TEnum>().Select(Name)) + ".";
}
