using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SafeNotify.Crm.Messaging;
using Xunit;

namespace SafeNotify.Crm.TestSupport;

/// <summary>What the row-level security probe of one service schema found.</summary>
public sealed record TenantIsolationReport(IReadOnlyList<string> TenantTables, IReadOnlyList<string> Checked, IReadOnlyList<string> Problems);

/// <summary>
/// Proves row-level security in a service's schema from the catalog and from its behaviour: every table with a
/// <c>tenant_id</c> has RLS enabled and forced with a policy on <c>app.tenant_id</c>; and on the service's own
/// connection set for tenant A, a query with no tenant filter returns none of tenant B's rows, B's rows cannot be
/// updated or deleted, and a copy of a B row cannot be inserted (Postgres refuses it, SQLSTATE 42501).
/// </summary>
public static class TenantIsolationProbe
{
    private const string TenantTablesSql = """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname
                       AND p.qual LIKE '%app.tenant_id%' AND p.with_check LIKE '%app.tenant_id%')
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = @schema AND c.relkind IN ('r', 'p')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        ORDER BY c.relname
        """;

    /// <summary>Every table of <paramref name="schema"/> with a tenant_id column, and why it is not isolated if it is not.</summary>
    public static async Task<(IReadOnlyList<string> Tables, IReadOnlyList<string> Problems)> CatalogAsync(NpgsqlConnection connection, string schema)
    {
        var tables = new List<string>();
        var problems = new List<string>();
        await using var command = new NpgsqlCommand(TenantTablesSql, connection);
        command.Parameters.AddWithValue("schema", schema);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var table = reader.GetString(0);
            tables.Add(table);
            if (!reader.GetBoolean(1) || !reader.GetBoolean(2))
            {
                problems.Add($"{schema}.{table}: row-level security is not enabled and forced");
            }

            if (!reader.GetBoolean(3))
            {
                problems.Add($"{schema}.{table}: no policy keyed on app.tenant_id");
            }
        }

        return (tables, problems);
    }

    /// <summary>The catalog check and the behaviour check of a service hosted by <paramref name="service"/>.</summary>
    public static async Task<TenantIsolationReport> ProbeAsync<TProgram, TDbContext>(ServiceFactory<TProgram, TDbContext> service, string tenantA, string tenantB)
        where TProgram : class
        where TDbContext : DbContext, IMessagingDbContext
    {
        var schema = await service.WithDbAsync(db => Task.FromResult(((ServiceDbContext)(object)db).SchemaName));
        var (tables, problems) = await service.WithDbAsync(db => OnOpenConnection(db, connection => CatalogAsync(connection, schema)));
        var allProblems = problems.ToList();
        var checkedTables = new List<string>();
        foreach (var table in tables)
        {
            var qualified = $"\"{schema}\".\"{table}\"";
            // Across tenants (as an operator would): how many rows each tenant has.
            var (rowsOfA, rowsOfB) = await service.WithDbAsync(db => OnOpenConnection(db, connection => CountsAsync(connection, qualified, tenantA, tenantB)));
            if (rowsOfA == 0 || rowsOfB == 0)
            {
                continue;
            }

            checkedTables.Add(table);
            // The service's own connection, opened for tenant A exactly as its code opens it.
            var problem = await service.WithTenantDbAsync(tenantA, db => OnOpenConnection(db, connection =>
                LeakAsync(connection, schema, table, tenantA, rowsOfA, tenantB)));
            if (problem is not null)
            {
                allProblems.Add($"{schema}.{table}: {problem}");
            }
        }

        return new TenantIsolationReport(tables, checkedTables, allProblems);
    }

    private static async Task<T> OnOpenConnection<T>(DbContext db, Func<NpgsqlConnection, Task<T>> work)
    {
        await db.Database.OpenConnectionAsync();
        try
        {
            return await work((NpgsqlConnection)db.Database.GetDbConnection());
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static async Task<(long A, long B)> CountsAsync(NpgsqlConnection connection, string qualified, string tenantA, string tenantB)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FILTER (WHERE tenant_id = @a), count(*) FILTER (WHERE tenant_id = @b) FROM {qualified}", connection);
        command.Parameters.AddWithValue("a", tenantA);
        command.Parameters.AddWithValue("b", tenantB);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>On a connection set for tenant A: null when nothing of B shows or can be written, else what leaked.</summary>
    private static async Task<string?> LeakAsync(NpgsqlConnection connection, string schema, string table, string tenantA, long rowsOfA, string tenantB)
    {
        var qualified = $"\"{schema}\".\"{table}\"";
        var allTenants = $"\"{schema}{TenantIsolation.AllTenantsSuffix}\"";
        await using var transaction = await connection.BeginTransactionAsync();
        try
        {
            // A query that forgets its tenant filter.
            var seen = await ScalarAsync<long>(connection, $"SELECT count(*) FROM {qualified}");
            var seenOfOthers = await ScalarAsync<long>(connection, $"SELECT count(*) FROM {qualified} WHERE tenant_id IS DISTINCT FROM @b", tenantA);
            if (seenOfOthers != 0 || seen < rowsOfA)
            {
                return $"tenant A's connection saw {seen} rows ({seenOfOthers} of other tenants), expected its own {rowsOfA} only";
            }

            var updated = await ExecuteAsync(connection, $"UPDATE {qualified} SET tenant_id = tenant_id WHERE tenant_id = @b", tenantB);
            var deleted = await ExecuteAsync(connection, $"DELETE FROM {qualified} WHERE tenant_id = @b", tenantB);
            if (updated != 0 || deleted != 0)
            {
                return $"tenant A's connection updated {updated} and deleted {deleted} of tenant B's rows";
            }

            // A copy of one of B's rows, fetched under the cross-tenant role, then inserted as A: refused.
            var columns = string.Join(", ", await ColumnsAsync(connection, schema, table));
            await ExecuteAsync(connection, $"CREATE TEMP TABLE rls_probe ON COMMIT DROP AS SELECT {columns} FROM {qualified} WITH NO DATA");
            await ExecuteAsync(connection, $"GRANT ALL ON rls_probe TO {allTenants}");
            await ExecuteAsync(connection, $"SET LOCAL ROLE {allTenants}");
            await ExecuteAsync(connection, $"INSERT INTO rls_probe SELECT {columns} FROM {qualified} WHERE tenant_id = @b LIMIT 1", tenantB);
            await ExecuteAsync(connection, "SET LOCAL ROLE NONE");
            await ExecuteAsync(connection, "SAVEPOINT before_insert");
            try
            {
                await ExecuteAsync(connection, $"INSERT INTO {qualified} ({columns}) OVERRIDING SYSTEM VALUE SELECT {columns} FROM rls_probe");
                return "tenant A's connection inserted a row of tenant B";
            }
            catch (PostgresException ex) when (ex.SqlState == PostgresErrorCodes.InsufficientPrivilege)
            {
                Assert.Contains("row-level security", ex.MessageText);
            }

            return null;
        }
        finally
        {
            await transaction.RollbackAsync();
        }
    }

    private static async Task<IReadOnlyList<string>> ColumnsAsync(NpgsqlConnection connection, string schema, string table)
    {
        await using var command = new NpgsqlCommand(
            "SELECT quote_ident(column_name) FROM information_schema.columns WHERE table_schema = @s AND table_name = @t AND is_generated = 'NEVER' ORDER BY ordinal_position",
            connection);
        command.Parameters.AddWithValue("s", schema);
        command.Parameters.AddWithValue("t", table);
        var columns = new List<string>();
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private static async Task<T> ScalarAsync<T>(NpgsqlConnection connection, string sql, string? tenant = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (tenant is not null)
        {
            command.Parameters.AddWithValue("b", tenant);
        }

        return (T)(await command.ExecuteScalarAsync())!;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, string? tenant = null)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        if (tenant is not null)
        {
            command.Parameters.AddWithValue("b", tenant);
        }

        return await command.ExecuteNonQueryAsync();
    }

    /// <summary>The role a connection logged in as: its name, and whether it is a superuser or bypasses RLS.</summary>
    public static async Task<(string Role, bool Superuser, bool BypassRls)> LoginRoleAsync(NpgsqlConnection connection)
    {
        await using var command = new NpgsqlCommand(
            "SELECT rolname, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = session_user", connection);
        await using var reader = await command.ExecuteReaderAsync(CommandBehavior.SingleRow);
        await reader.ReadAsync();
        return (reader.GetString(0), reader.GetBoolean(1), reader.GetBoolean(2));
    }
}
