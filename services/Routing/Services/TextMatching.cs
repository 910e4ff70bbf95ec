using System.Globalization;
using System.Text;

namespace SafeNotify.Crm.Routing.Services;

/// <summary>
/// Keyword matching as customers write: case- and accent-insensitive ("URGÉNCIA" matches "urgencia"), on
/// whole words and phrases ("dolor fuerte" matches "tengo un dolor fuerte" but "dolor" does not match "dolores").
/// </summary>
public static class TextMatching
{
    /// <summary>Lower case, accents removed, every run of non-letters and non-digits one space, padded with a space each side.</summary>
    public static string Normalize(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return " ";
        }

        var decomposed = text.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length + 2).Append(' ');
        var lastWasSpace = true;
        foreach (var c in decomposed)
        {
            var category = CharUnicodeInfo.GetUnicodeCategory(c);
            if (category == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                builder.Append(char.ToLowerInvariant(c));
                lastWasSpace = false;
            }
            else if (!lastWasSpace)
            {
                builder.Append(' ');
                lastWasSpace = true;
            }
        }

        if (!lastWasSpace)
        {
            builder.Append(' ');
        }

        return builder.ToString();
    }

    /// <summary>Whether the normalized text contains the keyword as whole words.</summary>
    public static bool ContainsPhrase(string normalizedText, string keyword) => ContainsNormalizedPhrase(normalizedText, Normalize(keyword));

    /// <summary>The same, for a keyword already normalized (a keyword of nothing but punctuation never matches).</summary>
    public static bool ContainsNormalizedPhrase(string normalizedText, string phrase) =>
        phrase.Length > 2 && normalizedText.Contains(phrase, StringComparison.Ordinal);
}
