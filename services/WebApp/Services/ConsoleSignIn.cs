using Microsoft.AspNetCore.Authentication;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Services;

public static class ConsoleSignIn
{
    /// <summary>
    /// After a right password (at sign-in, or chosen from an invitation): the session at once, or, for an account that needs
    /// its second factor, only the short-lived cookie that carries the sign-in to the authenticator's code. Returns where the
    /// browser goes next.
    /// </summary>
    public static async Task<string> AfterPasswordAsync(HttpContext http, StaffAccount account, string? returnUrl)
    {
        if (!account.NeedsSecondFactor)
        {
            await http.SignInAsync(ConsoleSession.Scheme, ConsoleSession.PrincipalFor(account, passedSecondFactor: false));
            return LocalPaths.OrHome(returnUrl);
        }

        var newKey = account.AuthenticatorKey is null ? AuthenticatorCodes.NewKey() : null;
        await http.SignInAsync(ConsoleSession.PendingScheme, ConsoleSession.PendingPrincipalFor(account, newKey));
        return "/sign-in/second-factor" + (returnUrl is null ? "" : "?returnUrl=" + Uri.EscapeDataString(LocalPaths.OrHome(returnUrl)));
    }
}
