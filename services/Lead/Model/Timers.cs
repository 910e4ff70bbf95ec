namespace SafeNotify.Crm.Lead.Model;

// Timers are data: each is an outbox row with a due time, published to Lead itself when due. A restart or a
// second instance neither loses nor doubles them, and each one re-checks the conversation when it fires.

/// <summary>Check whether an open conversation has been idle long enough to close.</summary>
public sealed record ConversationIdleCheckDue(string TenantId, string ConversationId);

/// <summary>Check whether the human owner of a conversation has been idle long enough to give it back to the bot.</summary>
public sealed record HumanIdleReleaseDue(string TenantId, string ConversationId, int OwnershipVersion);

/// <summary>The tenant's burst window after a customer message ended: ask for one reply covering the burst.</summary>
public sealed record BurstWindowElapsed(string TenantId, string ConversationId);
