using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Model;

/// <summary>
/// What a conversation reads beyond its own row, when a rule needs it: the recent turns a reply request carries, the
/// signals already scored, the lead and the tenant's settings. The data layer implements it; a model test gives a fake.
/// </summary>
public interface IConversationStore
{
    /// <summary>The conversation's newest saved messages with text, at most <paramref name="count"/>, oldest first.</summary>
    Task<IReadOnlyList<ConversationTurn>> RecentTurnsAsync(string tenantId, string conversationId, int count, CancellationToken cancellationToken);

    /// <summary>The signals already counted for the lead in this conversation: each counts once per conversation.</summary>
    Task<IReadOnlyCollection<string>> SignalsScoredAsync(string leadId, string conversationId, CancellationToken cancellationToken);

    /// <summary>When the customer last wrote to the number, in any of their conversations on it (what opens WhatsApp's window).</summary>
    Task<DateTimeOffset?> LastCustomerMessageAtAsync(string tenantId, string numberId, string customerId, CancellationToken cancellationToken);

    Task<CustomerLead> LeadAsync(string tenantId, string leadId, CancellationToken cancellationToken);

    /// <summary>The tenant's settings, or the defaults when it has not changed any.</summary>
    Task<LeadSettings> SettingsForAsync(string tenantId, CancellationToken cancellationToken);
}
