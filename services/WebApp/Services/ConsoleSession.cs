using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>
/// Who is signed in to the console, as their session cookie says. <see cref="PassedSecondFactor"/>: the session was issued
/// after an authenticator's code, not after the password alone.
/// </summary>
public sealed record ConsoleUser(string AccountId, string? TenantId, StaffRole Role, string DisplayName, string Email, int SessionVersion,
    bool PassedSecondFactor = false);

/// <summary>
/// Someone half-way through signing in: the password was right, the authenticator's code is still to come. With
/// <see cref="NewAuthenticatorKey"/> set, the account has no authenticator yet and must set this one up first.
/// </summary>
public sealed record PendingSignIn(string AccountId, string? TenantId, int SessionVersion, string? NewAuthenticatorKey);

/// <summary>
/// The console's session: a cookie naming the account, its tenant and role and the account's session version. Its
/// claims have names of their own, so a session is never taken for a service caller's signed identity. Every
/// <see cref="ConsoleOptions.SessionCheckInterval"/> a request (and an open console, see <c>ConsoleAuthenticationState</c>)
/// checks that the account still holds the session; signing out anywhere ends it everywhere.
/// </summary>
public static class ConsoleSession
{
    public const string Scheme = CookieAuthenticationDefaults.AuthenticationScheme;
    public const string CookieName = "safenotify.console";

    /// <summary>The short-lived cookie between the password and the second factor; it grants nothing else.</summary>
    public const string PendingScheme = "ConsolePending";
    public const string PendingCookieName = "safenotify.console.pending";
    public static readonly TimeSpan PendingLifetime = TimeSpan.FromMinutes(10);

    private const string AccountClaim = "console_account";
    private const string TenantClaim = "console_tenant";
    private const string RoleClaim = "console_role";
    private const string NameClaim = "console_name";
    private const string EmailClaim = "console_email";
    private const string VersionClaim = "console_session";
    private const string CheckedAt = "console_checked_at";
    private const string NewKeyClaim = "console_new_authenticator_key";
    private const string SecondFactorClaim = "console_second_factor";

    /// <summary>The session of <paramref name="account"/>, saying whether it was issued after the second factor.</summary>
    public static ClaimsPrincipal PrincipalFor(StaffAccount account, bool passedSecondFactor)
    {
        var claims = new List<Claim>
        {
            new(AccountClaim, account.Id),
            new(RoleClaim, account.Role.ToString()),
            new(NameClaim, account.DisplayName),
            new(EmailClaim, account.Email),
            new(VersionClaim, account.SessionVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (account.TenantId is not null)
        {
            claims.Add(new Claim(TenantClaim, account.TenantId));
        }

        if (passedSecondFactor)
        {
            claims.Add(new Claim(SecondFactorClaim, "passed"));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, Scheme, NameClaim, RoleClaim));
    }

    /// <summary>The half-way sign-in of <paramref name="account"/>, setting up <paramref name="newAuthenticatorKey"/> when it has none.</summary>
    public static ClaimsPrincipal PendingPrincipalFor(StaffAccount account, string? newAuthenticatorKey)
    {
        var claims = new List<Claim>
        {
            new(AccountClaim, account.Id),
            new(VersionClaim, account.SessionVersion.ToString(System.Globalization.CultureInfo.InvariantCulture)),
        };
        if (account.TenantId is not null)
        {
            claims.Add(new Claim(TenantClaim, account.TenantId));
        }

        if (newAuthenticatorKey is not null)
        {
            claims.Add(new Claim(NewKeyClaim, newAuthenticatorKey));
        }

        return new ClaimsPrincipal(new ClaimsIdentity(claims, PendingScheme));
    }

    public static PendingSignIn? PendingFrom(ClaimsPrincipal? user) =>
        user?.Identity is { IsAuthenticated: true, AuthenticationType: PendingScheme }
        && user.FindFirstValue(AccountClaim) is { Length: > 0 } account
        && int.TryParse(user.FindFirstValue(VersionClaim), out var version)
            ? new PendingSignIn(account, user.FindFirstValue(TenantClaim), version, user.FindFirstValue(NewKeyClaim))
            : null;

    public static ConsoleUser? From(ClaimsPrincipal? user) =>
        user?.Identity is { IsAuthenticated: true, AuthenticationType: Scheme }
        && user.FindFirstValue(AccountClaim) is { Length: > 0 } account
        && Enum.TryParse<StaffRole>(user.FindFirstValue(RoleClaim), out var role)
        && int.TryParse(user.FindFirstValue(VersionClaim), out var version)
            ? new ConsoleUser(account, user.FindFirstValue(TenantClaim), role, user.FindFirstValue(NameClaim) ?? "", user.FindFirstValue(EmailClaim) ?? "", version,
                user.HasClaim(SecondFactorClaim, "passed"))
            : null;

    /// <summary>Whether <paramref name="user"/>'s account still holds the session.</summary>
    public static async Task<bool> HoldsAsync(StaffDirectory directory, ConsoleUser user, CancellationToken cancellationToken) =>
        await directory.FindAsync(user.AccountId, user.TenantId, cancellationToken) is { } account && account.Holds(user.SessionVersion);

    /// <summary>The cookie's check: at most every <see cref="ConsoleOptions.SessionCheckInterval"/>, the account must still hold the session.</summary>
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var now = TimeProvider.System.GetUtcNow();
        if (From(context.Principal) is not { } user)
        {
            await RejectAsync(context);
            return;
        }

        var interval = context.HttpContext.RequestServices.GetRequiredService<IOptions<ConsoleOptions>>().Value.SessionCheckInterval;
        if (context.Properties.Items.TryGetValue(CheckedAt, out var last) && DateTimeOffset.TryParse(last, out var checkedAt) && now - checkedAt < interval)
        {
            return;
        }

        var directory = context.HttpContext.RequestServices.GetRequiredService<StaffDirectory>();
        if (!await HoldsAsync(directory, user, context.HttpContext.RequestAborted))
        {
            await RejectAsync(context);
            return;
        }

        context.Properties.Items[CheckedAt] = now.ToString("O");
        context.ShouldRenew = true;
    }

    private static async Task RejectAsync(CookieValidatePrincipalContext context)
    {
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(Scheme);
    }
}
