using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>The error answers every service shares, as <c>application/problem+json</c>.</summary>
public static class Problems
{
    public const string TypeBase = "https://safenotify.co/problems/";

    /// <summary>Another tenant's object, or none at all: the same 404 either way, so nothing leaks.</summary>
    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: $"{what} not found.", type: TypeBase + "not-found");

    public static ProblemHttpResult Conflict(string title, string? detail = null, string kind = "conflict") =>
        TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: title, detail: detail, type: TypeBase + kind);

    /// <summary>A plan limit: 409 with the limit, the current usage and the plan.</summary>
    public static ProblemHttpResult PlanLimitExceeded(string what, int limit, int current, string plan) =>
        TypedResults.Problem(
            statusCode: StatusCodes.Status409Conflict,
            title: $"The {plan} plan allows {limit} {what}.",
            detail: $"This tenant already has {current} {what}; upgrade the plan or remove one first.",
            type: TypeBase + "plan-limit-exceeded",
            extensions: new Dictionary<string, object?> { ["limit"] = limit, ["current"] = current, ["plan"] = plan });

    /// <summary>
    /// This service has not heard of an object its owner created a moment ago (the owner's event is on its
    /// way): 409 with Retry-After, so the client simply tries again.
    /// </summary>
    public static IResult NotYetKnown(HttpContext context, string what, string detail)
    {
        context.Response.Headers.RetryAfter = "1";
        return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: $"{what} is not known here yet.",
            detail: detail, type: TypeBase + "not-yet-known");
    }
}

/// <summary>
/// Input refused by a check many routes share (paging), where the handler cannot return its own answer: the service's
/// exception handler answers it as the 400 validation problem, as the framework answers a parameter it cannot bind.
/// </summary>
public sealed class InvalidRequestException(ValidationErrors errors) : BadHttpRequestException("Some fields are not valid.", StatusCodes.Status400BadRequest)
{
    public ValidationErrors Errors { get; } = errors;
}

/// <summary>Collects field errors for a 400 validation problem.</summary>
public sealed class ValidationErrors
{
    private readonly Dictionary<string, List<string>> _errors = [];

    public bool Any => _errors.Count > 0;

    public ValidationErrors Add(string field, string message)
    {
        if (!_errors.TryGetValue(field, out var messages))
        {
            _errors[field] = messages = [];
        }

        messages.Add(message);
        return this;
    }

    public ValidationErrors Check(bool valid, string field, string message) => valid ? this : Add(field, message);

    public ValidationProblem ToProblem() =>
        TypedResults.ValidationProblem(_errors.ToDictionary(e => e.Key, e => e.Value.ToArray()), title: "Some fields are not valid.");
}
