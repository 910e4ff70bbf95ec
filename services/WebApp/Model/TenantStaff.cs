using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.WebApp.Model;

/// <summary>
/// One business's staff as its owners manage them: who may be disabled, enabled or given another role. The business
/// always keeps an enabled owner, and nobody disables or demotes themselves (another owner does it), so a business is
/// never left without someone who can manage it.
/// </summary>
/// <remarks>Each change is made at <paramref name="now"/> and audited as <paramref name="actor"/>'s.</remarks>
public sealed class TenantStaff(string tenantId, IReadOnlyList<StaffAccount> accounts, DateTimeOffset now, CallerIdentity? actor = null)
{
    public string TenantId { get; } = tenantId;

    public IReadOnlyList<StaffAccount> Accounts { get; } = accounts;

    /// <summary>Disables <paramref name="memberId"/> for <paramref name="actorId"/>; a sentence saying why not, or null when done.</summary>
    public string? Disable(string actorId, string memberId)
    {
        if (Find(memberId) is not { } member)
        {
            return NotFound;
        }

        if (member.Id == actorId)
        {
            return "You cannot disable your own account; another owner can.";
        }

        if (member.Role == StaffRole.Owner && !HasAnotherOwner(member))
        {
            return "A business keeps at least one owner: make someone else owner first.";
        }

        member.Disable(now, actor);
        return null;
    }

    /// <summary>Lets <paramref name="memberId"/> sign in again (with the password it had).</summary>
    public string? Enable(string memberId)
    {
        if (Find(memberId) is not { } member)
        {
            return NotFound;
        }

        member.Enable(now, actor);
        return null;
    }

    /// <summary>
    /// A one-time link for <paramref name="memberId"/> to choose a new password, made by <paramref name="actorId"/>; a
    /// sentence saying why not, or null.
    /// </summary>
    public string? StartPasswordReset(string actorId, string memberId, string resetHash)
    {
        if (Find(memberId) is not { } member)
        {
            return NotFound;
        }

        return member.Id == actorId ? "Change your own password from your profile." : member.StartPasswordReset(resetHash, now, actor);
    }

    /// <summary>Gives <paramref name="memberId"/> the role <paramref name="role"/> for <paramref name="actorId"/>; a sentence saying why not, or null.</summary>
    public string? ChangeRole(string actorId, string memberId, StaffRole role)
    {
        if (Find(memberId) is not { } member)
        {
            return NotFound;
        }

        if (role is not (StaffRole.Owner or StaffRole.Admin or StaffRole.Agent))
        {
            return "A business's staff are owners, admins or advisors.";
        }

        if (member.Role == role)
        {
            return null;
        }

        if (member.Id == actorId)
        {
            return "You cannot change your own role; another owner can.";
        }

        if (member.Role == StaffRole.Owner && !HasAnotherOwner(member))
        {
            return "A business keeps at least one owner: make someone else owner first.";
        }

        member.ChangeRole(role, now, actor);
        return null;
    }

    private const string NotFound = "There is no such member of this business.";

    private StaffAccount? Find(string memberId) => Accounts.FirstOrDefault(a => a.Id == memberId && a.TenantId == TenantId);

    private bool HasAnotherOwner(StaffAccount member) =>
        Accounts.Any(a => a.Id != member.Id && a.Role == StaffRole.Owner && a.IsActive);
}
