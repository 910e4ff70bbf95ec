using Microsoft.AspNetCore.Identity;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Tests.Model;

/// <summary>The rules of a console account, over the model alone.</summary>
public sealed class StaffAccountTests
{
    private const string Password = "correct horse battery";
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private readonly PasswordHasher<StaffAccount> _hasher = new();

    [Fact]
    public void An_invited_person_chooses_a_password_once_and_then_signs_in_with_it()
    {
        var account = StaffAccount.Invite("staff_1", "tnt_1", "  Ana.Gomez@Clinica.example ", "Ana Gómez", StaffRole.Agent, "hash-1", Now);

        Assert.Equal("ana.gomez@clinica.example", account.Email);
        Assert.Equal(SignInOutcome.Refused, account.SignIn(Password, _hasher, Now)); // no password yet
        Assert.True(account.AcceptInvitation("hash-1", Password, _hasher, Now.AddHours(1)));
        Assert.False(account.AcceptInvitation("hash-1", "another long password", _hasher, Now.AddHours(2))); // the link is spent

        Assert.Equal(SignInOutcome.SignedIn, account.SignIn(Password, _hasher, Now.AddHours(3)));
        Assert.Equal(SignInOutcome.Refused, account.SignIn("another long password", _hasher, Now.AddHours(3)));
    }

    [Fact]
    public void An_invitation_lapses_after_its_lifetime_and_a_new_one_replaces_the_old()
    {
        var account = StaffAccount.Invite("staff_1", "tnt_1", "ana@clinica.example", "Ana", StaffRole.Owner, "hash-1", Now);

        Assert.False(account.AcceptInvitation("hash-1", Password, _hasher, Now + StaffAccount.InvitationLifetime));

        account.Reinvite("hash-2", Now + StaffAccount.InvitationLifetime);
        Assert.False(account.AcceptInvitation("hash-1", Password, _hasher, Now + StaffAccount.InvitationLifetime));
        Assert.True(account.AcceptInvitation("hash-2", Password, _hasher, Now + StaffAccount.InvitationLifetime));
    }

    [Fact]
    public void Five_wrong_passwords_in_a_row_lock_the_account_and_while_locked_even_the_right_one_is_refused()
    {
        var account = Accepted();
        for (var attempt = 1; attempt < StaffAccount.AllowedFailures; attempt++)
        {
            Assert.Equal(SignInOutcome.Refused, account.SignIn("wrong password " + attempt, _hasher, Now));
        }

        Assert.Equal(SignInOutcome.Locked, account.SignIn("wrong password again", _hasher, Now));
        Assert.Equal(SignInOutcome.Locked, account.SignIn(Password, _hasher, Now + StaffAccount.LockoutTime - TimeSpan.FromSeconds(1)));
        Assert.Equal(SignInOutcome.SignedIn, account.SignIn(Password, _hasher, Now + StaffAccount.LockoutTime));
    }

    [Fact]
    public void A_right_password_clears_the_wrong_ones_before_it()
    {
        var account = Accepted();
        for (var attempt = 1; attempt < StaffAccount.AllowedFailures; attempt++)
        {
            account.SignIn("wrong password " + attempt, _hasher, Now);
        }

        Assert.Equal(SignInOutcome.SignedIn, account.SignIn(Password, _hasher, Now));
        Assert.Equal(SignInOutcome.Refused, account.SignIn("one more wrong one", _hasher, Now));
        Assert.Equal(SignInOutcome.SignedIn, account.SignIn(Password, _hasher, Now));
    }

    [Fact]
    public void Ending_the_sessions_ends_every_session_signed_in_before()
    {
        var account = Accepted();
        var session = account.SessionVersion;
        Assert.True(account.Holds(session));

        account.EndSessions();

        Assert.False(account.Holds(session));
        Assert.True(account.Holds(account.SessionVersion));
    }

    [Theory]
    [InlineData("short")]
    [InlineData("            ")]
    public void A_password_too_short_or_blank_is_refused_with_a_reason(string password)
    {
        Assert.NotNull(StaffAccount.PasswordProblem(password));
        var account = StaffAccount.Invite("staff_1", "tnt_1", "ana@clinica.example", "Ana", StaffRole.Owner, "hash-1", Now);
        Assert.Throws<ArgumentException>(() => account.AcceptInvitation("hash-1", password, _hasher, Now));
    }

    [Fact]
    public void Operators_belong_to_no_tenant_and_everyone_else_to_one()
    {
        Assert.Throws<ArgumentException>(() => StaffAccount.Invite("op_1", "tnt_1", "op@safenotify.example", "Op", StaffRole.Operator, "h", Now));
        Assert.Throws<ArgumentException>(() => StaffAccount.Invite("staff_1", null, "ana@clinica.example", "Ana", StaffRole.Admin, "h", Now));
        Assert.True(StaffAccount.Invite("op_1", null, "op@safenotify.example", "Op", StaffRole.Operator, "h", Now).IsOperator);
    }

    [Fact]
    public void A_password_reset_link_works_once_within_its_hour_and_ends_every_session()
    {
        var account = Accepted();
        var session = account.SessionVersion;
        Assert.Equal("This person has not accepted the invitation yet: invite them again instead.",
            StaffAccount.Invite("staff_2", "tnt_1", "luis@clinica.example", "Luis", StaffRole.Agent, "hash-2", Now).StartPasswordReset("reset-1", Now));

        Assert.Null(account.StartPasswordReset("reset-1", Now));
        Assert.False(account.ResetPassword("reset-1", "a brand new long password", _hasher, Now + StaffAccount.PasswordResetLifetime)); // lapsed
        Assert.Null(account.StartPasswordReset("reset-2", Now)); // a newer link replaces it
        Assert.False(account.ResetPassword("reset-1", "a brand new long password", _hasher, Now));
        Assert.True(account.Holds(session));

        Assert.True(account.ResetPassword("reset-2", "a brand new long password", _hasher, Now));
        Assert.False(account.ResetPassword("reset-2", "yet another long password", _hasher, Now)); // spent
        Assert.False(account.Holds(session));
        Assert.Equal(SignInOutcome.SignedIn, account.SignIn("a brand new long password", _hasher, Now));
    }

    [Fact]
    public void A_disabled_account_gets_no_reset_link_and_disabling_spends_a_pending_one()
    {
        var staff = new TenantStaff("tnt_1", [Accepted(), Owner()], Now);
        var account = staff.Accounts[0];
        Assert.Null(account.StartPasswordReset("reset-1", Now));

        Assert.Null(staff.Disable("staff_owner", account.Id));

        Assert.False(account.ResetPassword("reset-1", "a brand new long password", _hasher, Now));
        Assert.Equal("This account is disabled: enable it first.", account.StartPasswordReset("reset-2", Now));
    }

    private StaffAccount Owner()
    {
        var account = StaffAccount.Invite("staff_owner", "tnt_1", "owner@clinica.example", "Dueña", StaffRole.Owner, "hash-owner", Now);
        Assert.True(account.AcceptInvitation("hash-owner", Password, _hasher, Now));
        return account;
    }

    private StaffAccount Accepted()
    {
        var account = StaffAccount.Invite("staff_1", "tnt_1", "ana@clinica.example", "Ana", StaffRole.Agent, "hash-1", Now);
        Assert.True(account.AcceptInvitation("hash-1", Password, _hasher, Now));
        return account;
    }
}
