namespace SafeNotify.Crm.Lead.Model;

/// <summary>
/// What a customer's words mean to a conversation: a request for a person, or a priority. Whole words, any accents or
/// case, Spanish and English (<see cref="TextMatch.Words"/> gives the words).
/// </summary>
public static class CustomerWords
{
    public static readonly IReadOnlyList<string> HumanRequestPhrases =
    [
        "hablar con una persona", "hablar con alguien", "persona real", "con un humano", "humano", "humana",
        "asesor", "asesora", "agente humano", "agente real",
        "human", "real person", "talk to a person", "speak to a person", "talk to someone", "speak to someone", "live agent",
    ];

    public static readonly IReadOnlyList<string> HighPriorityWords =
        ["urgente", "urgencia", "dolor", "lo antes posible", "cuanto antes", "urgent", "asap", "as soon as possible", "pain"];

    public static readonly IReadOnlyList<string> UrgentPriorityWords =
        ["emergencia", "dolor fuerte", "sangrado", "accidente", "emergency", "severe pain", "bleeding", "accident"];

    public static bool AskForAPerson(string words) => TextMatch.FirstMatch(words, HumanRequestPhrases) is not null;

    /// <summary>The priority the words call for, or null when they call for none.</summary>
    public static ConversationPriority? Priority(string words) =>
        TextMatch.FirstMatch(words, UrgentPriorityWords) is not null ? ConversationPriority.Urgent
        : TextMatch.FirstMatch(words, HighPriorityWords) is not null ? ConversationPriority.High
        : null;
}
