namespace SafeNotify.Crm.Contracts;

/// <summary>
/// Keys under which messages must keep their order. One customer's conversation on one number is the unit
/// of order everywhere on the path; before Routing knows the tenant, the (our number, customer) pair is.
/// </summary>
public static class OrderingKeys
{
    public static string Conversation(string tenantId, string numberId, string customerId) => $"{ConversationPrefix(tenantId)}{numberId}:{customerId}";

    /// <summary>How every <see cref="Conversation"/> key of <paramref name="tenantId"/> begins (to find keys by their last part).</summary>
    public static string ConversationPrefix(string tenantId) => $"conv:{tenantId}:";

    public static string InboundPair(string to, string customerId) => $"pair:{to}:{customerId}";

    /// <summary>
    /// One lead's events (created, scored, status changed) go out in order; different leads' go out side by side.
    /// Keyed by tenant instead, a busy tenant's outbox would publish one lead event per pass, behind all the others.
    /// </summary>
    public static string Lead(string tenantId, string leadId) => $"lead:{tenantId}:{leadId}";

    /// <summary>
    /// A conversation's <c>ConversationActivity</c> events: in order among themselves (a tick never shows before its
    /// message), apart from the conversation's other events, which they never hold back.
    /// </summary>
    public static string ConversationActivity(string tenantId, string conversationId) => $"activity:{tenantId}:{conversationId}";

    /// <summary>A staff member's changes, in order.</summary>
    public static string StaffMember(string tenantId, string staffId) => $"staff:{tenantId}:{staffId}";
}
