using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using SafeNotify.Crm.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Every error a client sees is <c>application/problem+json</c>. Bad input (unreadable JSON or form, a parameter that
/// cannot be bound, a body over the size limit) is the client's fault and gets its 4xx naming the field, never a 500.
/// </summary>
public static class ProblemDetailsExtensions
{
    public static IServiceCollection AddCrmProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        // Binding failures reach the handler below in every environment (by default only in Development), so that the
        // answer names the parameter or field instead of being a bare 400.
        services.Configure<RouteHandlerOptions>(options => options.ThrowOnBadRequest = true);
        return services;
    }

    public static WebApplication UseCrmProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        return app;
    }

    /// <summary>A service's one rule for text in every request (<see cref="RequestTextRules"/>), before any handler runs.</summary>
    public static WebApplication UseRequestTextRules(this WebApplication app)
    {
        app.Use(RequestTextRules.ApplyAsync);
        return app;
    }

    private sealed class BadRequestExceptionHandler(
        IProblemDetailsService problemDetails,
        ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
    {
        public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
        {
            if (exception is not BadHttpRequestException badRequest)
            {
                return false;
            }

            logger.LogDebug("Rejected a bad request: {Reason}", badRequest.Message);
            if (badRequest is InvalidRequestException invalid)
            {
                await invalid.Errors.ToProblem().ExecuteAsync(context);
                return true;
            }

            if (badRequest.InnerException is JsonException { Path: { } path })
            {
                // "$.triggerKeywords[2]" names the field; the reader's message says what was wrong with it.
                var field = path is "$" ? "body" : path.TrimStart('$', '.');
                await new ValidationErrors().Add(field, "This value has the wrong type or is not valid JSON.").ToProblem().ExecuteAsync(context);
                return true;
            }

            context.Response.StatusCode = badRequest.StatusCode;
            return await problemDetails.TryWriteAsync(new ProblemDetailsContext
            {
                HttpContext = context,
                Exception = exception,
                ProblemDetails =
                {
                    Status = badRequest.StatusCode,
                    Title = badRequest.StatusCode == StatusCodes.Status413PayloadTooLarge
                        ? "The request body is too large."
                        : "The request could not be read.",
                    Detail = badRequest.Message,
                },
            });
        }
    }
}
