using Microsoft.AspNetCore.Identity;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.WebApp.Model;

/// <summary>What a person may do in the console. <see cref="Agent"/> is shown as "Asesor / Advisor", so it is not taken for an AI agent.</summary>
public enum StaffRole
{
    Owner,
    Admin,
    Agent,
    Operator,
}

public static class StaffRoles
{
    /// <summary>The role as the services name it (<c>owner</c>, <c>admin</c>, <c>agent</c>, <c>operator</c>), in identities, events and the audit.</summary>
    public static string ServiceName(this StaffRole role) => role switch
    {
        StaffRole.Owner => CallerIdentity.OwnerRole,
        StaffRole.Admin => CallerIdentity.AdminRole,
        StaffRole.Agent => CallerIdentity.AgentRole,
        _ => CallerIdentity.OperatorRole,
    };
}

/// <summary>How an attempt to sign in ended. Everything but <see cref="SignedIn"/> gets the same message.</summary>
public enum SignInOutcome
{
    SignedIn,
    Refused,
    Locked,
}

/// <summary>
/// A person who signs in to the console: a member of one tenant's staff (owner, admin or advisor) or one of SafeNotify's
/// operators (no tenant). It keeps the rules of signing in: an account starts as an invitation (a one-time token, kept
/// hashed, good for <see cref="InvitationLifetime"/>) that its person accepts by choosing a password; the password is
/// checked with ASP.NET Core Identity's hasher; <see cref="AllowedFailures"/> wrong passwords in a row lock it for
/// <see cref="LockoutTime"/>; a second factor (an authenticator app's code, required of operators) is checked the same
/// way, and a code works once; and <see cref="SessionVersion"/> moves on whenever every session of the account must end.
/// </summary>
public sealed partial class StaffAccount : Aggregate
{
    public const int AllowedFailures = 5;
    public const int MinimumPasswordLength = 12;
    public const int MaximumPasswordLength = 128;
    public static readonly TimeSpan LockoutTime = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan InvitationLifetime = Contracts.FirstOwnerInvitation.Lifetime;
    public static readonly TimeSpan PasswordResetLifetime = TimeSpan.FromHours(1);

    private StaffAccount()
    {
    }

    public string Id { get; private set; } = "";

    /// <summary>The tenant whose staff this is; null for an operator.</summary>
    public string? TenantId { get; private set; }

    /// <summary>Trimmed and lower-case: one account per address.</summary>
    public string Email { get; private set; } = "";

    public string DisplayName { get; private set; } = "";

    public StaffRole Role { get; private set; }

    /// <summary>Null until the invitation is accepted.</summary>
    public string? PasswordHash { get; private set; }

    public int FailedSignIns { get; private set; }

    public DateTimeOffset? LockedUntil { get; private set; }

    /// <summary>Carried by every session; a session of an older version has ended.</summary>
    public int SessionVersion { get; private set; }

    public string? InvitationHash { get; private set; }

    public DateTimeOffset? InvitationExpiresAt { get; private set; }

    /// <summary>The hash of the one-time link that lets the person choose a new password, while it is pending.</summary>
    public string? PasswordResetHash { get; private set; }

    public DateTimeOffset? PasswordResetExpiresAt { get; private set; }

    public DateTimeOffset CreatedAt { get; private set; }

    /// <summary>A disabled account keeps its history but cannot sign in; its sessions have ended.</summary>
    public bool Disabled { get; private set; }

    /// <summary>The key of the person's authenticator app (base32), once set up (<see cref="AuthenticatorCodes"/>).</summary>
    public string? AuthenticatorKey { get; private set; }

    /// <summary>The time step of the last code accepted: a code seen once is refused after.</summary>
    public long? LastAuthenticatorStep { get; private set; }

    public bool IsOperator => Role == StaffRole.Operator;

    /// <summary>Whether signing in takes an authenticator's code after the password: always for operators, else once set up.</summary>
    public bool NeedsSecondFactor => IsOperator || AuthenticatorKey is not null;

    /// <summary>Whether the account's person has accepted the invitation (and so can sign in, unless disabled).</summary>
    public bool IsActive => PasswordHash is not null && !Disabled;

    /// <summary>
    /// A new account waiting for its person to accept <paramref name="invitationHash"/>'s token: an operator when
    /// <paramref name="tenantId"/> is null, else a member of that tenant's staff.
    /// </summary>
    public static StaffAccount Invite(string id, string? tenantId, string email, string displayName, StaffRole role, string invitationHash, DateTimeOffset now,
        CallerIdentity? actor = null)
    {
        if ((tenantId is null) != (role == StaffRole.Operator))
        {
            throw new ArgumentException("Operators belong to no tenant, and every other role to one.", nameof(role));
        }

        var account = new StaffAccount
        {
            Id = id,
            TenantId = tenantId,
            Email = NormalizeEmail(email),
            DisplayName = displayName.Trim(),
            Role = role,
            InvitationHash = invitationHash,
            InvitationExpiresAt = now + InvitationLifetime,
            CreatedAt = now,
        };
        if (actor is not null)
        {
            account.RaiseAudit(tenantId, AuditActions.StaffInvited, "staff", id, $"invited as {role.ServiceName()}", now, actor);
        }

        return account;
    }

    /// <summary>
    /// A new tenant's first owner, named by the operator who created the tenant: invited with the link Routing handed
    /// that operator (only its hash reached the console), good until <paramref name="expiresAt"/>.
    /// </summary>
    public static StaffAccount FirstOwner(string id, string tenantId, string email, string displayName, string invitationHash, DateTimeOffset expiresAt, DateTimeOffset now)
    {
        var account = Invite(id, tenantId, email, displayName, StaffRole.Owner, invitationHash, now);
        account.InvitationExpiresAt = expiresAt;
        return account;
    }

    /// <summary>
    /// The operator a new installation starts with, its password given by whoever installs it (the console has nobody
    /// yet who could invite anyone).
    /// </summary>
    public static StaffAccount FirstOperator(string id, string email, string displayName, string password, IPasswordHasher<StaffAccount> hasher, DateTimeOffset now)
    {
        RequireGood(password);
        var account = new StaffAccount { Id = id, Email = NormalizeEmail(email), DisplayName = displayName.Trim(), Role = StaffRole.Operator, CreatedAt = now };
        account.PasswordHash = hasher.HashPassword(account, password);
        return account;
    }

    /// <summary>A new invitation for the same person (the last one lapsed or was lost); the old token stops working.</summary>
    public void Reinvite(string invitationHash, DateTimeOffset now)
    {
        InvitationHash = invitationHash;
        InvitationExpiresAt = now + InvitationLifetime;
    }

    public bool HasPendingInvitation(DateTimeOffset now) => InvitationHash is not null && InvitationExpiresAt > now;

    /// <summary>
    /// Accepts the invitation whose token hashes to <paramref name="invitationHash"/>: the account gets its password and
    /// the token is spent. False when the token is not this account's current one or has lapsed.
    /// </summary>
    public bool AcceptInvitation(string invitationHash, string password, IPasswordHasher<StaffAccount> hasher, DateTimeOffset now)
    {
        RequireGood(password);
        if (!HasPendingInvitation(now) || !string.Equals(InvitationHash, invitationHash, StringComparison.Ordinal))
        {
            return false;
        }

        InvitationHash = null;
        InvitationExpiresAt = null;
        Choose(password, hasher);
        Announce(now);
        return true;
    }

    /// <summary>Ends every session of the account, in every browser (signing out does this).</summary>
    public void EndSessions() => SessionVersion++;

    /// <summary>Whether a session of <paramref name="sessionVersion"/> still holds.</summary>
    public bool Holds(int sessionVersion) => !Disabled && sessionVersion == SessionVersion;

    /// <summary>Stops the account: it cannot sign in, and its sessions end. Use <see cref="TenantStaff"/>, which keeps the business an owner.</summary>
    internal void Disable(DateTimeOffset now, CallerIdentity? actor)
    {
        Disabled = true;
        InvitationHash = null;
        InvitationExpiresAt = null;
        PasswordResetHash = null;
        PasswordResetExpiresAt = null;
        SessionVersion++;
        RaiseAudit(TenantId, AuditActions.StaffDisabled, "staff", Id, "disabled", now, actor);
        Announce(now);
    }

    internal void Enable(DateTimeOffset now, CallerIdentity? actor)
    {
        Disabled = false;
        RaiseAudit(TenantId, AuditActions.StaffEnabled, "staff", Id, "enabled", now, actor);
        Announce(now);
    }

    /// <summary>A new role, which ends the account's sessions (a session carries the role it was signed in with).</summary>
    internal void ChangeRole(StaffRole role, DateTimeOffset now, CallerIdentity? actor)
    {
        RaiseAudit(TenantId, AuditActions.StaffRoleChanged, "staff", Id, $"role {Role.ServiceName()} → {role.ServiceName()}", now, actor);
        Role = role;
        SessionVersion++;
        Announce(now);
    }

    /// <summary>
    /// Tells the services who the business's members are now (Lead assigns conversations and leads to them): once the
    /// person has joined, after every change of role or of whether they may sign in.
    /// </summary>
    private void Announce(DateTimeOffset now)
    {
        if (TenantId is not null && PasswordHash is not null)
        {
            Raise(new StaffMemberChanged(TenantId, Id, DisplayName, Role.ServiceName(), !Disabled, now), OrderingKeys.StaffMember(TenantId, Id));
        }
    }

    /// <summary>
    /// A sentence saying what is wrong with <paramref name="password"/>, or null when it will do: long enough to resist
    /// guessing, short enough to hash quickly.
    /// </summary>
    public static string? PasswordProblem(string? password) => password switch
    {
        null or { Length: < MinimumPasswordLength } => $"Choose a password of at least {MinimumPasswordLength} characters.",
        { Length: > MaximumPasswordLength } => $"Choose a password of at most {MaximumPasswordLength} characters.",
        _ when string.IsNullOrWhiteSpace(password) => "A password cannot be only spaces.",
        _ => null,
    };

    /// <summary>A sentence saying what is wrong with an address to invite, or null when it will do.</summary>
    public static string? EmailProblem(string? email) =>
        Validators.IsEmailAddress(email) ? null : "Email must be an address such as ana@example.com, at most 254 characters.";

    /// <summary>A sentence saying what is wrong with the name staff will see, or null when it will do.</summary>
    public static string? DisplayNameProblem(string? displayName) =>
        !string.IsNullOrWhiteSpace(displayName) && displayName.Trim().Length <= 100 ? null : "Name is required, at most 100 characters.";

    public static string NormalizeEmail(string email) => email.Trim().ToLowerInvariant();
}
