using Microsoft.EntityFrameworkCore;
using Npgsql;
using SafeNotify.Crm.Lead.Data;

namespace SafeNotify.Crm.Lead.Apis;

internal static class Transactions
{
    private const int MaxAttempts = 5;

    /// <summary>
    /// Runs <paramref name="work"/> in one transaction with what it publishes (the outbox), and runs it again from a
    /// fresh read when a consumer changed the same conversation meanwhile (row version), or when Postgres chose this
    /// transaction to break a deadlock with one (then everything it did was rolled back): an API call never
    /// overwrites the gate's change, never commits half, and is not a 500 for losing a race it can simply run again.
    /// Out of attempts, the last conflict reaches the caller as 409 <c>concurrent-change</c> (the services' conflict handler).
    /// </summary>
    public static async Task<T> RunAsync<T>(LeadDbContext db, Func<CancellationToken, Task<T>> work, CancellationToken cancellationToken)
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
            catch (Exception ex) when (attempt < MaxAttempts && (ex is DbUpdateConcurrencyException || IsDeadlockVictim(ex)))
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>A statement (EF's bulk ones throw Npgsql's exception as is; SaveChanges wraps it) cancelled to end a deadlock.</summary>
    private static bool IsDeadlockVictim(Exception ex) =>
        (ex as PostgresException ?? ex.InnerException as PostgresException)?.SqlState == PostgresErrorCodes.DeadlockDetected;
}
