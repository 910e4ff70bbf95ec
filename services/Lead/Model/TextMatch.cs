using System.Globalization;
using System.Text;

namespace SafeNotify.Crm.Lead.Model;

/// <summary>
/// Matching of customer text, accent- and case-insensitive and on whole words: "ASESÓR" matches "asesor",
/// "asesoría" does not.
/// </summary>
public static class TextMatch
{
    /// <summary>Lower case without accents ("María" → "maria"); "ñ" becomes "n".</summary>
    public static string Fold(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }

        var decomposed = text.Normalize(NormalizationForm.FormD);
        var builder = new StringBuilder(decomposed.Length);
        foreach (var c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(char.ToLowerInvariant(c));
            }
        }

        return builder.ToString().Normalize(NormalizationForm.FormC);
    }

    /// <summary>The folded text with every run of non letters/digits as one space, padded: " quiero una cita ".</summary>
    public static string Words(string? text)
    {
        var folded = Fold(text);
        var builder = new StringBuilder(folded.Length + 2).Append(' ');
        var space = true;
        foreach (var c in folded)
        {
            if (char.IsLetterOrDigit(c))
            {
                builder.Append(c);
                space = false;
            }
            else if (!space)
            {
                builder.Append(' ');
                space = true;
            }
        }

        if (!space)
        {
            builder.Append(' ');
        }

        return builder.ToString();
    }

    /// <summary>The first of <paramref name="phrases"/> found as whole words (the last one also in its plural) in <paramref name="words"/> (from <see cref="Words"/>).</summary>
    public static string? FirstMatch(string words, IEnumerable<string> phrases)
    {
        foreach (var phrase in phrases)
        {
            var folded = Words(phrase);
            if (folded.Length <= 2)
            {
                continue;
            }

            // Whole words, and the plural of the last one ("implante" matches "implantes", "price" matches "prices").
            var stem = folded[..^1];
            if (words.Contains(folded, StringComparison.Ordinal) || words.Contains(stem + "s ", StringComparison.Ordinal)
                || words.Contains(stem + "es ", StringComparison.Ordinal))
            {
                return phrase;
            }
        }

        return null;
    }

    /// <summary>A quote of the customer's words for evidence: trimmed, on one line, at most <paramref name="max"/> characters.</summary>
    public static string Quote(string text, int max = 160)
    {
        var oneLine = string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)].TrimEnd() + "…";
    }
}
