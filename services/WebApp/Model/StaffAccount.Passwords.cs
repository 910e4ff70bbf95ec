using Microsoft.AspNetCore.Identity;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.WebApp.Model;

/// <summary>A lost password replaced through a one-time link, and a password changed by its person.</summary>
public sealed partial class StaffAccount
{
    /// <summary>
    /// A one-time link, good for <see cref="PasswordResetLifetime"/>, for the person to choose a new password (a lost
    /// one); a newer link replaces it. A sentence saying why not, or null.
    /// </summary>
    public string? StartPasswordReset(string resetHash, DateTimeOffset now, CallerIdentity? actor = null)
    {
        if (Disabled)
        {
            return "This account is disabled: enable it first.";
        }

        if (PasswordHash is null)
        {
            return "This person has not accepted the invitation yet: invite them again instead.";
        }

        PasswordResetHash = resetHash;
        PasswordResetExpiresAt = now + PasswordResetLifetime;
        RaiseAudit(TenantId, AuditActions.StaffPasswordResetStarted, "staff", Id, "password reset link made", now, actor);
        return null;
    }

    public bool HasPendingPasswordReset(DateTimeOffset now) => PasswordResetHash is not null && PasswordResetExpiresAt > now && !Disabled;

    /// <summary>
    /// Sets the password chosen through the link whose token hashes to <paramref name="resetHash"/>: the link is spent,
    /// the lockout cleared and every session ends. False when the link is not this account's current one or has lapsed.
    /// </summary>
    public bool ResetPassword(string resetHash, string password, IPasswordHasher<StaffAccount> hasher, DateTimeOffset now)
    {
        RequireGood(password);
        if (!HasPendingPasswordReset(now) || !string.Equals(PasswordResetHash, resetHash, StringComparison.Ordinal))
        {
            return false;
        }

        PasswordResetHash = null;
        PasswordResetExpiresAt = null;
        Choose(password, hasher);
        return true;
    }

    private static void RequireGood(string password)
    {
        if (PasswordProblem(password) is { } problem)
        {
            throw new ArgumentException(problem, nameof(password));
        }
    }

    /// <summary>A password the person chose through a one-time link: any lockout is over, and every older session ends.</summary>
    private void Choose(string password, IPasswordHasher<StaffAccount> hasher)
    {
        PasswordHash = hasher.HashPassword(this, password);
        FailedSignIns = 0;
        LockedUntil = null;
        SessionVersion++;
    }

    /// <summary>
    /// A new password, given the current one: a sentence saying what is wrong, or null once changed. A wrong current
    /// password counts towards the lockout; a change ends every session of the account.
    /// </summary>
    public string? ChangePassword(string currentPassword, string newPassword, IPasswordHasher<StaffAccount> hasher, DateTimeOffset now)
    {
        if (PasswordProblem(newPassword) is { } problem)
        {
            return problem;
        }

        if (SignIn(currentPassword, hasher, now) != SignInOutcome.SignedIn)
        {
            return WrongPassword;
        }

        PasswordHash = hasher.HashPassword(this, newPassword);
        SessionVersion++;
        return null;
    }
}
