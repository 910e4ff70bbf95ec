using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.TestSupport;

/// <summary>What a test sees of the locks it arranged, to know that the code under test is waiting where it meant it to.</summary>
public static class DatabaseLocks
{
    /// <summary>
    /// How many connections to <paramref name="db"/>'s database wait for a lock another one holds. Ask on a connection
    /// outside the transaction that holds the lock: inside a transaction Postgres answers from the activity it saw at
    /// the first look, so a wait that begins later never shows.
    /// </summary>
    public static Task<int> BlockedAsync(DbContext db) => db.Database
        .SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM pg_stat_activity WHERE datname = current_database() AND cardinality(pg_blocking_pids(pid)) > 0")
        .SingleAsync();
}
