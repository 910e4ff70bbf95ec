using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Lead.Model;

/// <summary>
/// A member of the business's staff, as the console last told (<see cref="StaffMemberChanged"/>): whom a conversation or a
/// lead may be assigned to. Changes can arrive out of order; the latest one wins.
/// </summary>
public sealed class StaffMember
{
    private StaffMember()
    {
    }

    public string TenantId { get; private set; } = "";
    public string StaffId { get; private set; } = "";
    public string DisplayName { get; private set; } = "";
    public string Role { get; private set; } = "";
    public bool Active { get; private set; }
    public DateTimeOffset ChangedAt { get; private set; }

    public static StaffMember From(StaffMemberChanged change)
    {
        var member = new StaffMember { TenantId = change.TenantId, StaffId = change.StaffId };
        member.Apply(change);
        return member;
    }

    /// <summary>Takes the change unless it is older than the one already applied.</summary>
    public void Apply(StaffMemberChanged change)
    {
        if (change.ChangedAt < ChangedAt)
        {
            return;
        }

        DisplayName = change.DisplayName;
        Role = change.Role;
        Active = change.Active;
        ChangedAt = change.ChangedAt;
    }

    /// <summary>The member as an assignee (their staff id and the name they have in the console).</summary>
    public Employee AsEmployee() => new(DisplayName, StaffId);
}
