using Microsoft.AspNetCore.Identity;
using OtpNet;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Tests.Model;

/// <summary>The second factor and the password's own changes, over the model alone.</summary>
public sealed class SecondFactorTests
{
    private const string Password = "correct horse battery";
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 9, 0, 0, TimeSpan.Zero);
    private readonly PasswordHasher<StaffAccount> _hasher = new();

    [Fact]
    public void An_authenticator_is_set_up_only_with_one_of_its_own_codes_and_other_sessions_end()
    {
        var account = Accepted(StaffRole.Agent);
        var session = account.SessionVersion;
        var key = AuthenticatorCodes.NewKey();
        Assert.False(account.NeedsSecondFactor);

        Assert.False(account.SetUpAuthenticator(key, CodeOf(AuthenticatorCodes.NewKey(), Now), Now)); // another app's code
        Assert.False(account.SetUpAuthenticator(key, "12345", Now));
        Assert.True(account.Holds(session));

        Assert.True(account.SetUpAuthenticator(key, CodeOf(key, Now), Now));
        Assert.True(account.NeedsSecondFactor);
        Assert.False(account.Holds(session));
    }

    [Fact]
    public void A_code_works_once_within_a_step_either_side_of_now()
    {
        var (account, key) = WithAuthenticator(StaffRole.Agent);
        var later = Now.AddMinutes(5);

        Assert.Equal(SignInOutcome.SignedIn, account.PassSecondFactor(CodeOf(key, later), later));
        Assert.Equal(SignInOutcome.Refused, account.PassSecondFactor(CodeOf(key, later), later)); // spent
        Assert.Equal(SignInOutcome.SignedIn, account.PassSecondFactor(CodeOf(key, later.AddSeconds(30)), later)); // the phone's clock a little ahead
        Assert.Equal(SignInOutcome.Refused, account.PassSecondFactor(CodeOf(key, later.AddMinutes(2)), later));
        Assert.Equal(SignInOutcome.Refused, account.PassSecondFactor(CodeOf(key, later.AddMinutes(-2)), later));
    }

    [Fact]
    public void Wrong_codes_count_with_wrong_passwords_and_lock_the_account()
    {
        var (account, key) = WithAuthenticator(StaffRole.Operator);
        var later = Now.AddMinutes(5);
        Assert.Equal(SignInOutcome.Refused, account.SignIn("a wrong password", _hasher, later));
        for (var attempt = 2; attempt < StaffAccount.AllowedFailures; attempt++)
        {
            Assert.Equal(SignInOutcome.Refused, account.PassSecondFactor(WrongCodeOf(key, later), later));
        }

        Assert.Equal(SignInOutcome.Locked, account.PassSecondFactor(WrongCodeOf(key, later), later));
        Assert.Equal(SignInOutcome.Locked, account.PassSecondFactor(CodeOf(key, later), later)); // the right code changes nothing now
        var unlocked = later + StaffAccount.LockoutTime;
        Assert.Equal(SignInOutcome.SignedIn, account.PassSecondFactor(CodeOf(key, unlocked), unlocked));
    }

    [Fact]
    public void Operators_always_need_the_second_factor_while_a_member_may_remove_it_with_the_password()
    {
        var (operatorAccount, _) = WithAuthenticator(StaffRole.Operator);
        Assert.True(StaffAccount.FirstOperator("op_2", "op2@safenotify.example", "Op", Password, _hasher, Now).NeedsSecondFactor); // before any setup
        Assert.Equal("Operators always sign in with a second factor.", operatorAccount.RemoveAuthenticator(Password, _hasher, Now));
        Assert.True(operatorAccount.NeedsSecondFactor);

        var (member, _) = WithAuthenticator(StaffRole.Admin);
        var session = member.SessionVersion;
        Assert.NotNull(member.RemoveAuthenticator("not the password", _hasher, Now));
        Assert.True(member.NeedsSecondFactor);
        Assert.Null(member.RemoveAuthenticator(Password, _hasher, Now));
        Assert.False(member.NeedsSecondFactor);
        Assert.False(member.Holds(session));
    }

    [Fact]
    public void A_new_password_needs_the_current_one_and_ends_every_session()
    {
        var account = Accepted(StaffRole.Owner);
        var session = account.SessionVersion;

        Assert.Equal("Choose a password of at least 12 characters.", account.ChangePassword(Password, "short", _hasher, Now));
        Assert.Equal("The password is not right, or the account is locked for a while after too many tries.",
            account.ChangePassword("not the password", "a brand new long password", _hasher, Now));
        Assert.True(account.Holds(session));

        Assert.Null(account.ChangePassword(Password, "a brand new long password", _hasher, Now));
        Assert.False(account.Holds(session));
        Assert.Equal(SignInOutcome.Refused, account.SignIn(Password, _hasher, Now));
        Assert.Equal(SignInOutcome.SignedIn, account.SignIn("a brand new long password", _hasher, Now));
    }

    private static string CodeOf(string key, DateTimeOffset at) => new Totp(Base32Encoding.ToBytes(key)).ComputeTotp(at.UtcDateTime);

    /// <summary>A code the app does not show at <paramref name="at"/>.</summary>
    private static string WrongCodeOf(string key, DateTimeOffset at) => ((int.Parse(CodeOf(key, at), System.Globalization.CultureInfo.InvariantCulture) + 500_000) % 1_000_000).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    private (StaffAccount Account, string Key) WithAuthenticator(StaffRole role)
    {
        var account = Accepted(role);
        var key = AuthenticatorCodes.NewKey();
        Assert.True(account.SetUpAuthenticator(key, CodeOf(key, Now), Now));
        return (account, key);
    }

    private StaffAccount Accepted(StaffRole role)
    {
        var account = StaffAccount.Invite("staff_1", role == StaffRole.Operator ? null : "tnt_1", "ana@clinica.example", "Ana", role, "hash-1", Now);
        Assert.True(account.AcceptInvitation("hash-1", Password, _hasher, Now));
        return account;
    }
}
