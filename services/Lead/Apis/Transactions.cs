using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Lead.Data;

namespace SafeNotify.Crm.Lead.Apis;

internal static class Transactions
{
    /// <summary>
    /// Runs <paramref name="work"/> in one transaction with what it publishes (the outbox), and runs it again from a
    /// fresh read when a consumer changed the same conversation meanwhile (row version): an API call never
    /// overwrites the gate's change, and never commits half.
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
            catch (DbUpdateConcurrencyException) when (attempt < 5)
            {
                await transaction.RollbackAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }
        }
    }
}
