using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Npgsql;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.ServiceData;

/// <summary>
/// What an API call that the database could not complete tells its caller, instead of a 500. Nothing of the call was
/// committed either way, and <c>Retry-After</c> says the caller may simply try again:
/// <list type="bullet">
/// <item>409 <c>concurrent-change</c>: it lost a race it could not run again (another writer changed the same row,
/// Postgres cancelled it to break a deadlock or a serialization conflict, a unique key was taken a moment earlier).
/// Routes that can run their work again do so first; this is the answer when they cannot.</item>
/// <item>503: the database went away under it (a restart, a dropped connection) and is coming back, or was too busy to
/// answer in time (no connection free, a statement cancelled by its timeout).</item>
/// </list>
/// </summary>
internal sealed class DatabaseExceptionHandler(ILogger<DatabaseExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        var answer = IsConcurrentChange(exception) ? ConcurrentChange()
            : IsUnavailable(exception) ? Unavailable()
            : null;
        if (answer is null || context.Response.HasStarted)
        {
            return false;
        }

        logger.LogWarning("An API call could not be completed by the database and was answered {Status}: {Reason}", answer.StatusCode, exception.Message);
        context.Response.Headers.RetryAfter = "1";
        await answer.ExecuteAsync(context);
        return true;
    }

    private static ProblemHttpResult ConcurrentChange() =>
        Problems.Conflict("The object was changed by another request at the same time.",
            "Nothing of this request was saved; read the object again and retry.", "concurrent-change");

    private static ProblemHttpResult Unavailable() =>
        TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "The database is not reachable at the moment.",
            detail: "Nothing of this request was saved; retry shortly.", type: Problems.TypeBase + "database-unavailable");

    private static bool IsConcurrentChange(Exception exception) =>
        exception is DbUpdateConcurrencyException
        || Postgres(exception)?.SqlState is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.UniqueViolation;

    /// <summary>
    /// A connection that broke, could not be made or was not free in time (transient by Npgsql's judgement), a server
    /// shutting down (57P0x), a statement cancelled by its timeout.
    /// </summary>
    private static bool IsUnavailable(Exception exception) =>
        (exception as NpgsqlException ?? exception.InnerException as NpgsqlException) is { IsTransient: true }
        || Postgres(exception)?.SqlState is PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow
            or PostgresErrorCodes.QueryCanceled;

    private static PostgresException? Postgres(Exception exception) => exception as PostgresException ?? exception.InnerException as PostgresException;
}
