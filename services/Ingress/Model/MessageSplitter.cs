namespace SafeNotify.Crm.Ingress.Model;

/// <summary>
/// Twilio's Messages API takes at most 1600 characters of body (WhatsApp itself allows 4096). A longer reply
/// becomes several messages, cut at the end of a sentence where there is one within the limit, else at a
/// line or a word, and only as a last resort inside a word; parts keep the text's order and lose nothing
/// but the whitespace at the cut.
/// </summary>
public static class MessageSplitter
{
    public const int TwilioMaxBody = 1600;

    public static IReadOnlyList<string> Split(string text, int maxLength = TwilioMaxBody)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 10);
        var parts = new List<string>();
        var rest = text.Trim();
        while (rest.Length > maxLength)
        {
            var cut = LastBreak(rest, maxLength);
            parts.Add(rest[..cut].TrimEnd());
            rest = rest[cut..].TrimStart();
        }

        if (rest.Length > 0 || parts.Count == 0)
        {
            parts.Add(rest);
        }

        return parts;
    }

    /// <summary>Where to cut within the first <paramref name="maxLength"/> characters, from the best kind of break to the worst.</summary>
    private static int LastBreak(string text, int maxLength)
    {
        var window = text.AsSpan(0, maxLength);
        // Not in the first third: a tiny first part would waste a message.
        var floor = maxLength / 3;

        var sentence = -1;
        for (var i = window.Length - 1; i >= floor; i--)
        {
            if (window[i] is '.' or '!' or '?' or '…' && (i + 1 == text.Length || char.IsWhiteSpace(text[i + 1])))
            {
                sentence = i + 1;
                break;
            }
        }

        if (sentence > 0)
        {
            return sentence;
        }

        var line = window.LastIndexOf('\n');
        if (line >= floor)
        {
            return line + 1;
        }

        var word = window.LastIndexOf(' ');
        if (word >= floor)
        {
            return word + 1;
        }

        // No break at all: never split a surrogate pair.
        return char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength;
    }
}
