using System.Globalization;
using System.Text;
using SafeNotify.Crm.Agent.Model;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>Prompt evolution settings (section <c>Prompts</c>).</summary>
public sealed class PromptOptions
{
    public const int DefaultMaxLength = 32_000;

    /// <summary>Longest system prompt a version may have, in characters (about 8,000 tokens).</summary>
    public int MaxLength { get; set; } = DefaultMaxLength;

    /// <summary>A new version is made after this many customer messages handled by the agent.</summary>
    public int EvolveEveryMessages { get; set; } = 5;

    /// <summary>And not more often than this (zero: every <see cref="EvolveEveryMessages"/> messages).</summary>
    public TimeSpan MinEvolutionInterval { get; set; } = TimeSpan.Zero;

    /// <summary>Longest context summary, in characters.</summary>
    public int SummaryMaxLength { get; set; } = 1_500;

    /// <summary>Anonymised questions kept per agent to summarise from.</summary>
    public int SamplesKept { get; set; } = 200;
}

/// <summary>
/// The context summary of an evolved prompt (seed "Auto-evolución"): what customers ask and which answers worked, as
/// counts per topic from anonymised samples, so no customer's personal data or instructions reach a prompt used for every
/// customer (quoted examples are only short, plain questions about a known topic).
/// </summary>
public static class ContextSummary
{
    private static readonly (Intent Intent, string Topic)[] Topics =
    [
        (Intent.Book, "booking"), (Intent.Cancel, "cancelling"), (Intent.Prices, "prices"), (Intent.Hours, "opening hours"),
        (Intent.Location, "location"), (Intent.Urgency, "urgent cases"), (Intent.Human, "talking to a person"),
    ];

    public const string OtherTopic = "other questions";

    /// <summary>The topics a message is about, by name; "other questions" when none is recognised (greetings and thanks are not topics).</summary>
    public static IReadOnlyList<string> TopicsOf(string text)
    {
        var intents = CustomerText.IntentsOf(text);
        var topics = Topics.Where(t => intents.Contains(t.Intent)).Select(t => t.Topic).ToList();
        if (topics.Count == 0 && !intents.Contains(Intent.Greeting) && !intents.Contains(Intent.Thanks))
        {
            topics.Add(OtherTopic);
        }

        return topics;
    }

    /// <param name="ratings">Satisfaction (1-5) of the rated conversations the samples come from, by conversation id.</param>
    public static string Build(IReadOnlyList<QuestionSample> samples, int maxLength, IReadOnlyDictionary<string, int>? ratings = null)
    {
        if (samples.Count == 0)
        {
            return "";
        }

        var byTopic = samples
            .SelectMany(s => s.Topics.Select(topic => (Topic: topic, s.NeededHuman)))
            .GroupBy(x => x.Topic)
            .Select(g => (Topic: g.Key, Asked: g.Count(), ByBot: g.Count(x => !x.NeededHuman)))
            .OrderByDescending(t => t.Asked).ThenBy(t => t.Topic, StringComparer.Ordinal)
            .ToList();

        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"From the last {samples.Count} customer messages (anonymised).");
        if (byTopic.Count > 0)
        {
            text.Append(" Customers ask most about: ")
                .Append(string.Join(", ", byTopic.Select(t => $"{t.Topic} ({t.Asked})")))
                .Append('.');
            var worked = byTopic.Where(t => t.ByBot > 0 && t.Topic != OtherTopic).ToList();
            if (worked.Count > 0)
            {
                text.Append(" Answers that worked without a person: ")
                    .Append(string.Join(", ", worked.Select(t => $"{t.Topic} {t.ByBot}/{t.Asked}")))
                    .Append(". Keep answering these the same way.");
            }

            var handedOver = byTopic.Where(t => t.ByBot < t.Asked).ToList();
            if (handedOver.Count > 0)
            {
                text.Append(" Needed a person: ")
                    .Append(string.Join(", ", handedOver.Select(t => $"{t.Topic} {t.Asked - t.ByBot}/{t.Asked}")))
                    .Append(". Offer a person early for these.");
            }
        }

        // Results, where customers rated the conversation: which topics went well and which did not.
        if (ratings is { Count: > 0 })
        {
            string Topics(Func<int, bool> rated) => string.Join(", ", samples
                .Where(s => s.ConversationId is { } id && ratings.TryGetValue(id, out var rating) && rated(rating))
                .SelectMany(s => s.Topics).GroupBy(t => t).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).Select(g => g.Key));
            var good = Topics(rating => rating >= 4);
            var poor = Topics(rating => rating <= 2);
            if (good.Length > 0)
            {
                text.Append(" Conversations customers rated well (4-5) were about: ").Append(good).Append('.');
            }

            if (poor.Length > 0)
            {
                text.Append(" Conversations rated poorly (1-2) were about: ").Append(poor).Append("; answer these with more care or offer a person sooner.");
            }
        }

        // The summary goes into the prompt every later customer is answered with: one customer's words enter it only as
        // a short example of a known topic that reads as a question, never as something the model could take as an order.
        var examples = samples.OrderByDescending(s => s.Id).Select(s => OneLine(s.Text)).Where(IsSafeExample).Distinct().Take(5).ToList();
        if (examples.Count > 0)
        {
            text.Append(" Recent questions: ").Append(string.Join("; ", examples.Select(e => $"\"{e}\""))).Append('.');
        }

        return Shorten(text.ToString(), maxLength);
    }

    /// <summary>Longest customer question quoted as an example.</summary>
    public const int ExampleMaxLength = 80;

    /// <summary>
    /// A customer's question may be quoted when it is short, about known topics only, has no instruction-like words and
    /// only the characters of a plain question (no quotes, brackets or markup to break out of the quotation).
    /// </summary>
    private static bool IsSafeExample(string text) =>
        text.Length is > 0 and <= ExampleMaxLength
        && TopicsOf(text) is { Count: > 0 } topics && !topics.Contains(OtherTopic)
        && !CustomerText.LooksLikeInstruction(text)
        && text.All(c => char.IsLetterOrDigit(c) || c == ' ' || ".,;¿?¡!'-".Contains(c));

    private static string OneLine(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    private static string Shorten(string text, int max)
    {
        var oneLine = OneLine(text);
        return oneLine.Length <= max ? oneLine : oneLine[..(max - 1)].TrimEnd() + "…";
    }
}

/// <summary>
/// Checks a prompt version before it may go live: it keeps the personality, business and objectives prompts,
/// every business rule and the rules that always apply, stays within length, and its context summary holds no
/// personal data. A version that fails is kept inactive with the reason.
/// </summary>
public static class PromptCheck
{
    /// <summary>Why the version may not go live, or null when it may.</summary>
    public static string? Problem(AiAgent agent, string systemPrompt, string contextSummary, int maxLength, IEnumerable<string?> knownNames)
    {
        if (systemPrompt.Length > maxLength)
        {
            return string.Create(CultureInfo.InvariantCulture, $"The prompt would be {systemPrompt.Length} characters long, over the limit of {maxLength}.");
        }

        foreach (var (part, name) in new[] { (agent.PersonalityPrompt, "personality"), (agent.BusinessPrompt, "business"), (agent.ObjectivesPrompt, "objectives") })
        {
            if (!systemPrompt.Contains(part.Trim(), StringComparison.Ordinal))
            {
                return $"The {name} prompt is missing.";
            }
        }

        foreach (var line in PromptComposer.RuleLines(agent))
        {
            if (!systemPrompt.Contains(line, StringComparison.Ordinal))
            {
                return $"A business rule is missing: {line.TrimStart('-', ' ').Split(':')[0]}.";
            }
        }

        foreach (var line in PromptComposer.AlwaysRules)
        {
            if (!systemPrompt.Contains(line, StringComparison.Ordinal))
            {
                return "The rules that always apply are missing.";
            }
        }

        var personal = PersonalData.Find(contextSummary, knownNames);
        return personal.Count > 0 ? $"The context summary contains personal data ({string.Join(", ", personal)})." : null;
    }
}
