using System.Globalization;
using System.Text;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>
/// Tells Spanish from English in a reply by its common function words: a check written for the tests,
/// independent of the responder's own detection.
/// </summary>
public static class Language
{
    private static readonly HashSet<string> Spanish = ["el", "la", "los", "las", "de", "del", "que", "una", "un", "te", "tu", "por", "para", "con", "es", "en", "nuestro", "nuestra", "nuestros", "equipo", "hola", "soy", "gracias"];
    private static readonly HashSet<string> English = ["the", "you", "your", "we", "our", "to", "of", "and", "is", "in", "a", "team", "hi", "i", "i'm", "it", "with", "will", "please"];

    public static string Of(string text)
    {
        var words = Words(text);
        var spanish = words.Count(Spanish.Contains);
        var english = words.Count(English.Contains);
        return spanish == english ? "unknown" : spanish > english ? "es" : "en";
    }

    private static List<string> Words(string text)
    {
        var plain = new StringBuilder();
        foreach (var c in text.ToLowerInvariant().Normalize(NormalizationForm.FormD))
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                plain.Append(char.IsLetter(c) || c == '\'' ? c : ' ');
            }
        }

        return plain.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries).ToList();
    }
}
