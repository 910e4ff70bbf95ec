using Microsoft.AspNetCore.Identity;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Tests.Model;

/// <summary>How owners manage a business's staff, over the model alone.</summary>
public sealed class TenantStaffTests
{
    private const string Password = "correct horse battery";
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private readonly PasswordHasher<StaffAccount> _hasher = new();

    [Fact]
    public void A_disabled_member_cannot_sign_in_loses_every_session_and_signs_in_again_once_enabled()
    {
        var (owner, advisor) = (Member("owner", StaffRole.Owner), Member("advisor", StaffRole.Agent));
        var staff = new TenantStaff("tnt_1", [owner, advisor], Now);
        var session = advisor.SessionVersion;

        Assert.Null(staff.Disable(owner.Id, advisor.Id));

        Assert.False(advisor.Holds(session));
        Assert.Equal(SignInOutcome.Refused, advisor.SignIn(Password, _hasher, Now));
        Assert.Null(staff.Enable(advisor.Id));
        Assert.Equal(SignInOutcome.SignedIn, advisor.SignIn(Password, _hasher, Now));
    }

    [Fact]
    public void Nobody_disables_or_demotes_themselves()
    {
        var (owner, other) = (Member("owner", StaffRole.Owner), Member("other", StaffRole.Owner));
        var staff = new TenantStaff("tnt_1", [owner, other], Now);

        Assert.NotNull(staff.Disable(owner.Id, owner.Id));
        Assert.NotNull(staff.ChangeRole(owner.Id, owner.Id, StaffRole.Agent));
        Assert.False(owner.Disabled);
        Assert.Equal(StaffRole.Owner, owner.Role);
    }

    [Fact]
    public void A_business_keeps_an_active_owner()
    {
        var (owner, second, admin) = (Member("owner", StaffRole.Owner), Member("second", StaffRole.Owner), Member("admin", StaffRole.Admin));
        var staff = new TenantStaff("tnt_1", [owner, second, admin], Now);

        Assert.Null(staff.Disable(owner.Id, second.Id)); // another owner remains
        Assert.Null(staff.ChangeRole(owner.Id, admin.Id, StaffRole.Owner));
        Assert.Null(staff.ChangeRole(admin.Id, owner.Id, StaffRole.Admin)); // the admin, now an owner, demotes the first

        Assert.Equal("A business keeps at least one owner: make someone else owner first.", staff.ChangeRole(owner.Id, admin.Id, StaffRole.Agent));
        Assert.Equal(StaffRole.Owner, admin.Role);
    }

    [Fact]
    public void A_new_role_ends_the_members_sessions_and_only_staff_roles_are_given()
    {
        var (owner, advisor) = (Member("owner", StaffRole.Owner), Member("advisor", StaffRole.Agent));
        var staff = new TenantStaff("tnt_1", [owner, advisor], Now);
        var session = advisor.SessionVersion;

        Assert.NotNull(staff.ChangeRole(owner.Id, advisor.Id, StaffRole.Operator));
        Assert.True(advisor.Holds(session));
        Assert.Null(staff.ChangeRole(owner.Id, advisor.Id, StaffRole.Admin));
        Assert.False(advisor.Holds(session));
    }

    [Fact]
    public void Another_businesss_member_is_not_found()
    {
        var owner = Member("owner", StaffRole.Owner);
        var stranger = StaffAccount.Invite("staff_stranger", "tnt_2", "x@other.example", "X", StaffRole.Agent, "h", Now);
        var staff = new TenantStaff("tnt_1", [owner, stranger], Now);

        Assert.Equal("There is no such member of this business.", staff.Disable(owner.Id, stranger.Id));
        Assert.False(stranger.Disabled);
    }

    private StaffAccount Member(string name, StaffRole role)
    {
        var account = StaffAccount.Invite("staff_" + name, "tnt_1", $"{name}@clinica.example", name, role, "hash-" + name, Now);
        Assert.True(account.AcceptInvitation("hash-" + name, Password, _hasher, Now));
        return account;
    }
}
