using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Apis;

/// <summary>A password for an invited account.</summary>
public sealed record AcceptInvitationRequest(string? Password);

/// <summary>The console's own account routes outside its pages: signing out, and accepting an invitation without a browser.</summary>
public static class AccountEndpoints
{
    public static IEndpointRouteBuilder MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        // A form post from the console (antiforgery checked): ends every session of the account, then goes to the sign-in page.
        app.MapPost("/sign-out", SignOut).ExcludeFromDescription();
        // The invitation link's token is the credential: no cookie, no ambient authority, so no forgery to guard against.
        app.MapPost("/account/invitations/{token}", AcceptInvitation).ExcludeFromDescription().DisableAntiforgery();
        return app;
    }

    private static async Task<RedirectHttpResult> SignOut(HttpContext context, StaffDirectory directory, [FromForm] string? returnUrl)
    {
        if (ConsoleSession.From(context.User) is { } user)
        {
            await directory.EndSessionsAsync(user.AccountId, user.TenantId, context.RequestAborted);
        }

        await context.SignOutAsync(ConsoleSession.Scheme);
        return TypedResults.LocalRedirect("/sign-in");
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> AcceptInvitation(
        string token, AcceptInvitationRequest request, StaffDirectory directory, CancellationToken cancellationToken)
    {
        if (StaffAccount.PasswordProblem(request.Password) is { } problem)
        {
            return new ValidationErrors().Add("password", problem).ToProblem();
        }

        return await directory.AcceptInvitationAsync(token, request.Password!, cancellationToken) is null
            ? Problems.NotFound("Invitation")
            : TypedResults.NoContent();
    }
}
