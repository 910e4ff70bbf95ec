using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Data;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>What came of inviting someone: the account and the token of its link (shown once), or why not.</summary>
public abstract record InvitationResult
{
    public sealed record Invited(StaffAccount Account, string Token) : InvitationResult;

    public sealed record UnknownTenant : InvitationResult;

    public sealed record AddressTaken : InvitationResult;
}

/// <summary>What came of asking for a password reset link: the account and the token of its link (shown once), or why not.</summary>
public abstract record PasswordResetResult
{
    public sealed record Started(StaffAccount Account, string Token) : PasswordResetResult;

    public sealed record Refused(string Reason) : PasswordResetResult;

    public sealed record UnknownAccount : PasswordResetResult;
}

/// <summary>
/// The console's accounts: invitations, accepting them, signing in and ending sessions. Each call is one unit of work
/// that loads an account, calls one of its methods and saves. An account is found by address or invitation across
/// tenants (that is where its tenant is learnt); once the tenant is known, every read is that tenant's.
/// </summary>
public sealed class StaffDirectory(WebAppDbContext db, IPasswordHasher<StaffAccount> hasher, TimeProvider time)
{
    /// <summary>
    /// Invites <paramref name="email"/> to <paramref name="tenantId"/>'s staff (an operator when it is null). Inviting
    /// again someone who has not accepted yet, to the same place in the same role, makes a new link. The audit names
    /// <paramref name="actor"/>.
    /// </summary>
    public async Task<InvitationResult> InviteAsync(string? tenantId, string email, string displayName, StaffRole role, CallerIdentity? actor,
        CancellationToken cancellationToken)
    {
        var token = SecretTokens.New();
        var normalized = StaffAccount.NormalizeEmail(email);
        try
        {
            return await db.RunAsync<InvitationResult>(async ct =>
            {
                var now = time.GetUtcNow();
                return await AcrossTenantsSavedAsync<InvitationResult>(async () =>
                {
                    if (tenantId is not null && await db.Tenants.AnyAsync(t => t.TenantId == tenantId, ct) is false)
                    {
                        return new InvitationResult.UnknownTenant();
                    }

                    var existing = await db.LockByEmailAsync(normalized, ct);
                    if (existing is null)
                    {
                        var account = StaffAccount.Invite(Ids.New(role == StaffRole.Operator ? "op" : "staff"), tenantId, normalized, displayName, role,
                            SecretTokens.Hash(token), now, actor);
                        db.Accounts.Add(account);
                        return new InvitationResult.Invited(account, token);
                    }

                    if (existing.PasswordHash is not null || existing.TenantId != tenantId || existing.Role != role)
                    {
                        return new InvitationResult.AddressTaken();
                    }

                    existing.Reinvite(SecretTokens.Hash(token), now);
                    return new InvitationResult.Invited(existing, token);
                }, ct);
            }, cancellationToken);
        }
        catch (DbUpdateException ex) when (ex.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation })
        {
            return new InvitationResult.AddressTaken(); // invited twice at once: the other invitation holds
        }
    }

    /// <summary>Sets the password of the account <paramref name="token"/> invites; null when the link is not (or no longer) valid.</summary>
    public Task<StaffAccount?> AcceptInvitationAsync(string token, string password, CancellationToken cancellationToken) =>
        db.RunAsync(ct => AcrossTenantsSavedAsync(async () =>
        {
            var account = await db.LockByInvitationAsync(SecretTokens.Hash(token), ct);
            return account is not null && account.AcceptInvitation(SecretTokens.Hash(token), password, hasher, time.GetUtcNow()) ? account : null;
        }, ct), cancellationToken);

    /// <summary>The account <paramref name="token"/> invites, while the invitation is pending; null otherwise.</summary>
    public async Task<StaffAccount?> InvitationAsync(string token, CancellationToken cancellationToken)
    {
        var hash = SecretTokens.Hash(token);
        var account = await db.AcrossTenantsAsync(() => db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.InvitationHash == hash, cancellationToken), cancellationToken);
        return account is not null && account.HasPendingInvitation(time.GetUtcNow()) ? account : null;
    }

    /// <summary>A password reset link for <paramref name="memberId"/>, made by the business's owner <paramref name="owner"/>.</summary>
    public async Task<PasswordResetResult> StartPasswordResetAsync(string tenantId, CallerIdentity owner, string memberId, CancellationToken cancellationToken)
    {
        var token = SecretTokens.New();
        StaffAccount? member = null;
        var problem = await ManageAsync(tenantId, owner, staff =>
        {
            member = staff.Accounts.FirstOrDefault(a => a.Id == memberId);
            return staff.StartPasswordReset(owner.StaffId ?? "", memberId, SecretTokens.Hash(token));
        }, cancellationToken);
        return problem is null && member is not null ? new PasswordResetResult.Started(member, token) : new PasswordResetResult.Refused(problem ?? "");
    }

    /// <summary>A password reset link for any account, made by the operator <paramref name="actor"/>.</summary>
    public Task<PasswordResetResult> StartPasswordResetAsync(string accountId, CallerIdentity? actor, CancellationToken cancellationToken)
    {
        var token = SecretTokens.New();
        return db.RunAsync(ct => AcrossTenantsSavedAsync<PasswordResetResult>(async () =>
        {
            if (await db.LockByIdAsync(accountId, ct) is not { } account)
            {
                return new PasswordResetResult.UnknownAccount();
            }

            return account.StartPasswordReset(SecretTokens.Hash(token), time.GetUtcNow(), actor) is { } problem
                ? new PasswordResetResult.Refused(problem)
                : new PasswordResetResult.Started(account, token);
        }, ct), cancellationToken);
    }

    /// <summary>The account <paramref name="token"/>'s password reset link is for, while it is pending; null otherwise.</summary>
    public async Task<StaffAccount?> PasswordResetAsync(string token, CancellationToken cancellationToken)
    {
        var hash = SecretTokens.Hash(token);
        var account = await db.AcrossTenantsAsync(() => db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.PasswordResetHash == hash, cancellationToken), cancellationToken);
        return account is not null && account.HasPendingPasswordReset(time.GetUtcNow()) ? account : null;
    }

    /// <summary>Sets the password through a reset link; the account, or null when the link is not (or no longer) valid.</summary>
    public Task<StaffAccount?> ResetPasswordAsync(string token, string password, CancellationToken cancellationToken) =>
        db.RunAsync(ct => AcrossTenantsSavedAsync(async () =>
        {
            var account = await db.LockByPasswordResetAsync(SecretTokens.Hash(token), ct);
            return account is not null && account.ResetPassword(SecretTokens.Hash(token), password, hasher, time.GetUtcNow()) ? account : null;
        }, ct), cancellationToken);

    /// <summary>An attempt to sign in with <paramref name="email"/>: the outcome, and the account when it signed in.</summary>
    public Task<(SignInOutcome Outcome, StaffAccount? Account)> SignInAsync(string email, string password, CancellationToken cancellationToken) =>
        db.RunAsync(ct => AcrossTenantsSavedAsync(async () =>
        {
            var account = await db.LockByEmailAsync(StaffAccount.NormalizeEmail(email), ct);
            if (account is null)
            {
                // No such account: the same work as a wrong password, so the answer's timing tells nothing either.
                hasher.VerifyHashedPassword(Placeholder, PlaceholderHash, password);
                return (SignInOutcome.Refused, (StaffAccount?)null);
            }

            var outcome = account.SignIn(password, hasher, time.GetUtcNow());
            return (outcome, outcome == SignInOutcome.SignedIn ? account : null);
        }, ct), cancellationToken);

    /// <summary>
    /// One change to a person's own account (the second step of signing in, a new password, the authenticator), locked
    /// against a second change at once and made only while <paramref name="sessionVersion"/> holds: what the change
    /// returned and the account as saved, or null when the session no longer holds.
    /// </summary>
    public Task<(T Result, StaffAccount Account)?> ChangeOwnAsync<T>(string accountId, string? tenantId, int sessionVersion,
        Func<StaffAccount, DateTimeOffset, T> change, CancellationToken cancellationToken) =>
        db.RunAsync(async ct =>
        {
            async Task<(T, StaffAccount)?> ChangeAsync()
            {
                var account = await db.LockByIdAsync(accountId, ct);
                if (account is null || account.TenantId != tenantId || !account.Holds(sessionVersion))
                {
                    return null;
                }

                return (change(account, time.GetUtcNow()), account);
            }

            if (tenantId is null)
            {
                return await AcrossTenantsSavedAsync(ChangeAsync, ct);
            }

            await db.ForTenant(tenantId, ct);
            return await ChangeAsync();
        }, cancellationToken);

    /// <summary>The account behind a session, read as its own tenant's (an operator's across tenants); null when it is gone.</summary>
    public async Task<StaffAccount?> FindAsync(string accountId, string? tenantId, CancellationToken cancellationToken)
    {
        if (tenantId is null)
        {
            return await db.AcrossTenantsAsync(() => db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == accountId && a.TenantId == null, cancellationToken), cancellationToken);
        }

        await db.ForTenant(tenantId, cancellationToken);
        return await db.Accounts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == accountId, cancellationToken);
    }

    /// <summary>Ends every session of the account (signing out ends them all, in every browser).</summary>
    public async Task EndSessionsAsync(string accountId, string? tenantId, CancellationToken cancellationToken)
    {
        await db.RunAsync(async ct =>
        {
            if (tenantId is null)
            {
                await AcrossTenantsSavedAsync(async () =>
                {
                    (await db.Accounts.SingleOrDefaultAsync(a => a.Id == accountId && a.TenantId == null, ct))?.EndSessions();
                    return true;
                }, ct);
                return;
            }

            await db.ForTenant(tenantId, ct);
            (await db.Accounts.SingleOrDefaultAsync(a => a.Id == accountId, ct))?.EndSessions();
        }, cancellationToken);
    }

    /// <summary>The business's staff, by name: members, invitations not yet answered, disabled accounts.</summary>
    public async Task<IReadOnlyList<StaffAccount>> StaffOfAsync(string tenantId, CancellationToken cancellationToken)
    {
        await db.ForTenant(tenantId, cancellationToken);
        return await db.Accounts.AsNoTracking().OrderBy(a => a.DisplayName).ThenBy(a => a.Email).ToListAsync(cancellationToken);
    }

    /// <summary>
    /// One change to the business's staff (<see cref="TenantStaff"/>), as one unit of work over its accounts, locked so
    /// that two owners changing staff at once see each other's change: the sentence of a refused change, or null. The
    /// audit names <paramref name="actor"/>.
    /// </summary>
    public Task<string?> ManageAsync(string tenantId, CallerIdentity? actor, Func<TenantStaff, string?> change, CancellationToken cancellationToken) =>
        db.RunAsync(async ct =>
        {
            await db.ForTenant(tenantId, ct);
            return change(new TenantStaff(tenantId, await db.LockStaffOfAsync(tenantId, ct), time.GetUtcNow(), actor));
        }, cancellationToken);

    /// <summary>The name the tenant's staff see; null when the console has not heard of it.</summary>
    public async Task<string?> TenantNameAsync(string tenantId, CancellationToken cancellationToken)
    {
        await db.ForTenant(tenantId, cancellationToken);
        return await db.Tenants.AsNoTracking().Where(t => t.TenantId == tenantId).Select(t => t.Name).SingleOrDefaultAsync(cancellationToken);
    }

    /// <summary>Work that finds an account before its tenant is known: across tenants, and saved before isolation is back.</summary>
    private Task<T> AcrossTenantsSavedAsync<T>(Func<Task<T>> work, CancellationToken cancellationToken) =>
        db.AcrossTenantsAsync(async () =>
        {
            var result = await work();
            await db.SaveChangesAsync(cancellationToken);
            return result;
        }, cancellationToken);

    private static readonly StaffAccount Placeholder = StaffAccount.Invite("staff_placeholder", "tnt_placeholder", "nobody@invalid", "", StaffRole.Agent, "", DateTimeOffset.UnixEpoch);

    private static readonly string PlaceholderHash = new PasswordHasher<StaffAccount>().HashPassword(Placeholder, SecretTokens.New());
}
