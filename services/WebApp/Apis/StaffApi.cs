using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Apis;

/// <summary>An invitation to join a tenant's staff: <c>role</c> is OWNER, ADMIN or AGENT (an advisor).</summary>
public sealed record StaffInvitationRequest(string? Email, string? DisplayName, StaffRole? Role);

/// <summary>An invitation to become one of SafeNotify's operators.</summary>
public sealed record OperatorInvitationRequest(string? Email, string? DisplayName);

/// <summary>A password reset link for an account, shown this once; <c>emailed</c> when the console also mailed it to the person.</summary>
public sealed record PasswordResetResponse(string Id, string? TenantId, string Email, string PasswordResetLink, DateTimeOffset PasswordResetExpiresAt, bool Emailed);

/// <summary>The invited account and its one-time link, shown this once; <c>emailed</c> when the console also mailed it to the person.</summary>
public sealed record StaffInvitationResponse(string Id, string? TenantId, string Email, string DisplayName, StaffRole Role, string InvitationLink,
    DateTimeOffset InvitationExpiresAt, bool Emailed);

/// <summary>
/// Operators invite a tenant's staff (its first owner above all) and other operators, and make a password reset link
/// for anyone who lost theirs.
/// </summary>
public static class StaffApi
{
    public static RouteGroupBuilder MapStaffApi(this IEndpointRouteBuilder app)
    {
        var admin = app.MapGroup("/api/admin").WithTags("Staff");
        admin.MapPost("/tenants/{id}/staff", InviteStaff).RequireOperator();
        admin.MapPost("/operators", InviteOperator).RequireOperator();
        admin.MapPost("/staff/{id}/password-reset", StartPasswordReset).RequireOperator();
        return admin;
    }

    private static async Task<Results<Created<StaffInvitationResponse>, ValidationProblem, ProblemHttpResult>> InviteStaff(
        string id, StaffInvitationRequest request, HttpContext context, StaffDirectory directory, ConsoleMail mail, IOptions<ConsoleAddress> console,
        CancellationToken cancellationToken)
    {
        var errors = Validate(request.Email, request.DisplayName)
            .Check(request.Role is StaffRole.Owner or StaffRole.Admin or StaffRole.Agent, "role", "Role must be OWNER, ADMIN or AGENT.");
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        return await AnswerAsync(await directory.InviteAsync(id, request.Email!, request.DisplayName!, request.Role!.Value, CallerIdentity.From(context), cancellationToken),
            mail, console.Value, context);
    }

    private static async Task<Results<Created<StaffInvitationResponse>, ValidationProblem, ProblemHttpResult>> InviteOperator(
        OperatorInvitationRequest request, HttpContext context, StaffDirectory directory, ConsoleMail mail, IOptions<ConsoleAddress> console,
        CancellationToken cancellationToken)
    {
        var errors = Validate(request.Email, request.DisplayName);
        if (errors.Any)
        {
            return errors.ToProblem();
        }

        return await AnswerAsync(await directory.InviteAsync(null, request.Email!, request.DisplayName!, StaffRole.Operator, CallerIdentity.From(context), cancellationToken),
            mail, console.Value, context);
    }

    private static async Task<Results<Created<PasswordResetResponse>, ProblemHttpResult>> StartPasswordReset(
        string id, HttpContext context, StaffDirectory directory, ConsoleMail mail, IOptions<ConsoleAddress> console, CancellationToken cancellationToken)
    {
        switch (await directory.StartPasswordResetAsync(id, CallerIdentity.From(context), cancellationToken))
        {
            case PasswordResetResult.Started(var account, var token):
                var link = console.Value.PasswordResetLink(token);
                return TypedResults.Created((string?)null, new PasswordResetResponse(account.Id, account.TenantId, account.Email, link,
                    account.PasswordResetExpiresAt!.Value, await mail.SendPasswordResetAsync(account, link, cancellationToken)));
            case PasswordResetResult.Refused(var reason):
                return Problems.Conflict("This account cannot reset its password now.", reason);
            default:
                return Problems.NotFound("Account");
        }
    }

    private static async Task<Results<Created<StaffInvitationResponse>, ValidationProblem, ProblemHttpResult>> AnswerAsync(InvitationResult result, ConsoleMail mail,
        ConsoleAddress console, HttpContext context) => result switch
    {
        InvitationResult.Invited(var account, var token) => TypedResults.Created((string?)null, new StaffInvitationResponse(
            account.Id, account.TenantId, account.Email, account.DisplayName, account.Role, console.InvitationLink(token), account.InvitationExpiresAt!.Value,
            await mail.SendInvitationAsync(account, console.InvitationLink(token), context.RequestAborted))),
        // Routing's news of a tenant created a moment ago may still be on its way here.
        InvitationResult.UnknownTenant => (ProblemHttpResult)Problems.NotYetKnown(context, "This tenant",
            "If it was created a moment ago, retry shortly; if it was created before the console was installed, announce it first (POST /api/admin/tenants/{id}/announce)."),
        _ => Problems.Conflict("This address already has an account.", "An address belongs to one account; invite it again only while its invitation is unanswered, to the same place and role."),
    };

    private static ValidationErrors Validate(string? email, string? displayName)
    {
        var errors = new ValidationErrors();
        if (StaffAccount.EmailProblem(email) is { } emailProblem)
        {
            errors.Add("email", emailProblem);
        }

        if (StaffAccount.DisplayNameProblem(displayName) is { } nameProblem)
        {
            errors.Add("displayName", nameProblem);
        }

        return errors;
    }
}
