using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// Every error a client sees is <c>application/problem+json</c>. Bad input (unreadable JSON or form,
/// a body over the size limit) is the client's fault and gets its 4xx, never a 500.
/// </summary>
public static class ProblemDetailsExtensions
{
    public static IServiceCollection AddCrmProblemDetails(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddExceptionHandler<BadRequestExceptionHandler>();
        return services;
    }

    public static WebApplication UseCrmProblemDetails(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
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
