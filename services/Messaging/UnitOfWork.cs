using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// The one way a service changes its data: load, call the model, save once, in one transaction with what the change
/// raised (the outbox) and, for a message, its inbox record. A race the work can simply run again (a row version
/// another writer moved, a deadlock Postgres broke by cancelling this transaction, a serialization failure) runs it
/// again from a fresh read; out of attempts, the conflict reaches the caller (an API answers 409
/// <c>concurrent-change</c>, a consumer's message is retried by MassTransit).
/// </summary>
public static class UnitOfWork
{
    private const int MaxAttempts = 5;

    /// <summary>Runs <paramref name="work"/> as one unit of work and returns what it returned.</summary>
    public static async Task<T> RunAsync<T>(this DbContext db, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            try
            {
                var result = await work(cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
                await transaction.CommitAsync(cancellationToken);
                return result;
            }
            catch (Exception ex) when (attempt < MaxAttempts && MayRunAgain(ex))
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear(); // everything it read or changed is gone: the next attempt reads afresh
            }
        }
    }

    /// <summary>Runs <paramref name="work"/> as one unit of work.</summary>
    public static Task RunAsync(this DbContext db, Func<CancellationToken, Task> work, CancellationToken cancellationToken) =>
        db.RunAsync(async ct =>
        {
            await work(ct);
            return true;
        }, cancellationToken);

    /// <summary>A lost race: EF's row-version check, or a statement Postgres cancelled to end a deadlock or a serialization conflict.</summary>
    private static bool MayRunAgain(Exception ex) =>
        ex is DbUpdateConcurrencyException
        || (ex as PostgresException ?? ex.InnerException as PostgresException)?.SqlState
            is PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;
}
