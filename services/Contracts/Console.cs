namespace SafeNotify.Crm.Contracts;

/// <summary>
/// A member of a business's staff, as the console keeps them, after a change: they joined (accepted the invitation), got
/// another role, were disabled or enabled. <paramref name="Role"/> is <c>owner</c>, <c>admin</c> or <c>agent</c> (an
/// advisor). Lead keeps the list, so a conversation or a lead is assigned to a real member; a change older than the one
/// it holds (<paramref name="ChangedAt"/>) changes nothing.
/// </summary>
public sealed record StaffMemberChanged(string TenantId, string StaffId, string DisplayName, string Role, bool Active, DateTimeOffset ChangedAt);
