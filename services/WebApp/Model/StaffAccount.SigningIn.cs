using Microsoft.AspNetCore.Identity;

namespace SafeNotify.Crm.WebApp.Model;

/// <summary>Signing in: the password, then the authenticator's code where there is one, and the lockout both count towards.</summary>
public sealed partial class StaffAccount
{
    /// <summary>
    /// One attempt to sign in. A wrong password counts; the last allowed one locks the account. While it is locked no
    /// password is checked at all, so guessing on cannot tell a right password from a wrong one.
    /// </summary>
    public SignInOutcome SignIn(string password, IPasswordHasher<StaffAccount> hasher, DateTimeOffset now)
    {
        if (LockedUntil > now)
        {
            return SignInOutcome.Locked;
        }

        if (PasswordHash is null || Disabled)
        {
            return SignInOutcome.Refused;
        }

        var verified = hasher.VerifyHashedPassword(this, PasswordHash, password);
        if (verified == PasswordVerificationResult.Failed)
        {
            return Failed(now);
        }

        FailedSignIns = 0;
        LockedUntil = null;
        if (verified == PasswordVerificationResult.SuccessRehashNeeded)
        {
            PasswordHash = hasher.HashPassword(this, password);
        }

        return SignInOutcome.SignedIn;
    }

    /// <summary>
    /// The second step of signing in, after the password: the authenticator's code. Wrong codes count with wrong
    /// passwords towards the lockout, and a code accepted once is refused after, so one seen over a shoulder is spent.
    /// </summary>
    public SignInOutcome PassSecondFactor(string? code, DateTimeOffset now)
    {
        if (LockedUntil > now)
        {
            return SignInOutcome.Locked;
        }

        if (AuthenticatorKey is null || PasswordHash is null || Disabled)
        {
            return SignInOutcome.Refused;
        }

        if (!AuthenticatorCodes.Matches(AuthenticatorKey, code, now, out var step) || step <= LastAuthenticatorStep)
        {
            return Failed(now);
        }

        LastAuthenticatorStep = step;
        FailedSignIns = 0;
        return SignInOutcome.SignedIn;
    }

    /// <summary>
    /// Sets up the authenticator app holding <paramref name="key"/>, proven by one of its codes; false when the code is
    /// not the key's. Sessions signed in without it end.
    /// </summary>
    public bool SetUpAuthenticator(string key, string? code, DateTimeOffset now)
    {
        if (Disabled || !AuthenticatorCodes.Matches(key, code, now, out var step))
        {
            return false;
        }

        AuthenticatorKey = key;
        LastAuthenticatorStep = step;
        SessionVersion++;
        return true;
    }

    /// <summary>
    /// Stops asking for an authenticator's code, given the password: a sentence saying why not (operators always need
    /// one), or null. Sessions end.
    /// </summary>
    public string? RemoveAuthenticator(string password, IPasswordHasher<StaffAccount> hasher, DateTimeOffset now)
    {
        if (IsOperator)
        {
            return "Operators always sign in with a second factor.";
        }

        if (SignIn(password, hasher, now) != SignInOutcome.SignedIn)
        {
            return WrongPassword;
        }

        AuthenticatorKey = null;
        LastAuthenticatorStep = null;
        SessionVersion++;
        return null;
    }

    private const string WrongPassword = "The password is not right, or the account is locked for a while after too many tries.";

    private SignInOutcome Failed(DateTimeOffset now)
    {
        FailedSignIns++;
        if (FailedSignIns < AllowedFailures)
        {
            return SignInOutcome.Refused;
        }

        FailedSignIns = 0;
        LockedUntil = now + LockoutTime;
        return SignInOutcome.Locked;
    }
}
