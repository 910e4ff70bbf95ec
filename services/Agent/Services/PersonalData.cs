using System.Text.RegularExpressions;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>
/// Finds and removes one customer's personal data (names, phone numbers, emails, street addresses) from text
/// that will be shown to the model for every other customer (the evolved prompt's context summary).
/// Spanish (Colombian addresses: "Calle 93 #15-20", "Cra 15 # 45-23") and English; accent- and case-insensitive.
/// </summary>
public static partial class PersonalData
{
    public const string NamePlaceholder = "[name]";
    public const string PhonePlaceholder = "[phone]";
    public const string EmailPlaceholder = "[email]";
    public const string AddressPlaceholder = "[address]";

    /// <summary><paramref name="text"/> with every piece of personal data replaced by a placeholder.</summary>
    /// <param name="knownNames">Names the CRM knows for this customer (its lead's name, its WhatsApp profile name).</param>
    public static string Scrub(string text, IEnumerable<string?> knownNames)
    {
        var scrubbed = Email().Replace(text, EmailPlaceholder);
        scrubbed = Address().Replace(scrubbed, AddressPlaceholder);
        scrubbed = Phone().Replace(scrubbed, PhonePlaceholder);
        scrubbed = Introduction().Replace(scrubbed, m => m.Groups["lead"].Value + NamePlaceholder + NotName(m.Groups["name"].Value));
        foreach (var part in NameParts(knownNames))
        {
            scrubbed = ReplaceWord(scrubbed, part, NamePlaceholder);
        }

        return scrubbed;
    }

    /// <summary>The kinds of personal data found in <paramref name="text"/> ("email", "phone", "address", "name"); empty when none.</summary>
    public static IReadOnlyList<string> Find(string text, IEnumerable<string?> knownNames)
    {
        var found = new List<string>();
        if (Email().IsMatch(text)) found.Add("email");
        if (Phone().IsMatch(text)) found.Add("phone");
        if (Address().IsMatch(text)) found.Add("address");
        if (Introduction().IsMatch(text) || NameParts(knownNames).Any(part => IndexOfWord(text, part) >= 0)) found.Add("name");
        return found;
    }

    // Words that end a name written after "me llamo" / "my name is" ("me llamo juan y quiero una cita").
    private static readonly HashSet<string> NotNameWords = new(StringComparer.OrdinalIgnoreCase)
    {
        "y", "e", "o", "que", "quiero", "necesito", "tengo", "de", "del", "para", "por", "con", "soy", "el", "la", "los", "las", "un", "una", "mi", "es",
        "me", "te", "le", "no", "si", "and", "or", "i", "want", "need", "have", "from", "for", "with", "the", "a", "an", "my", "is", "am", "to", "please", "and",
    };

    /// <summary>What follows the name in an introduction's words, kept (from its first word that is not part of a name).</summary>
    private static string NotName(string words)
    {
        var parts = System.Text.RegularExpressions.Regex.Split(words, @"(\s+)");
        for (var i = 0; i < parts.Length; i += 2)
        {
            if (i > 0 && NotNameWords.Contains(parts[i]))
            {
                return string.Concat(parts[(i - 1)..]);
            }
        }

        return "";
    }

    /// <summary>The words of the known names worth matching: at least 3 letters (not "de", "la", initials).</summary>
    private static IEnumerable<string> NameParts(IEnumerable<string?> names) => names
        .Where(n => !string.IsNullOrWhiteSpace(n))
        .SelectMany(n => n!.Split([' ', '\t', ',', '.', '-'], StringSplitOptions.RemoveEmptyEntries))
        .Where(p => p.Count(char.IsLetter) >= 3)
        .Distinct(StringComparer.OrdinalIgnoreCase);

    /// <summary>Replaces every whole-word, case- and accent-insensitive occurrence of <paramref name="word"/>.</summary>
    private static string ReplaceWord(string text, string word, string replacement)
    {
        // Folding keeps lengths for the Latin letters customers write (á -> a), so positions carry over;
        // should a character decompose into more than one, fall back to the folded text.
        var folded = CustomerText.Fold(text);
        var source = folded.Length == text.Length ? text : folded;
        var target = CustomerText.Fold(word);
        var builder = new System.Text.StringBuilder();
        var position = 0;
        while (true)
        {
            var index = IndexOfFoldedWord(folded, target, position);
            if (index < 0)
            {
                break;
            }

            builder.Append(source, position, index - position).Append(replacement);
            position = index + target.Length;
        }

        return builder.Append(source, position, source.Length - position).ToString();
    }

    private static int IndexOfWord(string text, string word) => IndexOfFoldedWord(CustomerText.Fold(text), CustomerText.Fold(word), 0);

    private static int IndexOfFoldedWord(string folded, string target, int from)
    {
        while (from <= folded.Length - target.Length)
        {
            var index = folded.IndexOf(target, from, StringComparison.Ordinal);
            if (index < 0)
            {
                return -1;
            }

            var before = index == 0 || !char.IsLetterOrDigit(folded[index - 1]);
            var after = index + target.Length == folded.Length || !char.IsLetterOrDigit(folded[index + target.Length]);
            if (before && after)
            {
                return index;
            }

            from = index + 1;
        }

        return -1;
    }

    [GeneratedRegex(@"[\p{L}\p{N}._%+\-]+@[\p{L}\p{N}.\-]+\.[\p{L}]{2,}", RegexOptions.CultureInvariant)]
    private static partial Regex Email();

    // Seven or more digits, possibly grouped by spaces, dots, dashes or brackets, with an optional +country code:
    // "+57 300 123 4567", "300-123-4567", "(601) 555 1234", "3001234567".
    // Amounts ("3.000.000") and dates ("2026-12-25") are not phone numbers.
    [GeneratedRegex(@"(?<![\p{L}\p{N}])(?!\d{1,3}(?:[.,]\d{3})+(?![\p{N}]))(?!\d{4}-\d{2}-\d{2}(?![\p{N}]))\+?\d(?:[\s.\-()]{0,2}\d){6,}(?![\p{L}\p{N}])", RegexOptions.CultureInvariant)]
    private static partial Regex Phone();

    // A street word followed by a number, optionally "# 15-20", "No. 15 - 20", "apto 301", "Bogotá":
    // "Calle 93 #15-20", "Cra 15 # 45-23", "Av. Boyacá 12-30", "221B Baker Street", "742 Evergreen Terrace".
    [GeneratedRegex(
        @"(?ix)
          \b(?:calle|cll|cl|carrera|cra|kra|kr|cr|avenida|av|avda|diagonal|dg|transversal|tv|tr|autopista|circular|manzana|mz|vereda|barrio)\b\.?
          \s*\p{L}{0,12}\s*\d+\s*[a-z]?(?:\s*-\s*\d+)?(?:\s*(?:\#|n[oº°]\.?|num(?:ero)?\.?)\s*\d+\s*[a-z]?(?:\s*-\s*\d+)?)?(?:\s*(?:apto|apartamento|casa|int|interior|torre|piso|of|oficina|consultorio)\.?\s*\d+)?
          |
          \b\d+[a-z]?\s+(?:[\p{L}]+\s+){1,3}(?:street|st|avenue|ave|road|rd|lane|ln|drive|dr|boulevard|blvd|terrace|way|court|ct)\b\.?",
        RegexOptions.CultureInvariant)]
    private static partial Regex Address();

    // "me llamo Juan Pérez", "mi nombre es Ana", "my name is John Smith", "this is Mary", "soy Juan" (a capitalised word after "soy"/"I'm").
    [GeneratedRegex(
        @"(?<lead>\b(?:(?i:me\s+llamo|mi\s+nombre\s+es|my\s+name\s+is|name\s*:|nombre\s*:)\s+|(?i:soy|i'?m|i\s+am|this\s+is|habla|le\s+habla)\s+(?=\p{Lu})))(?<name>[\p{L}'\-]+(?:\s+[\p{L}'\-]+){0,3})",
        RegexOptions.CultureInvariant)]
    private static partial Regex Introduction();
}
