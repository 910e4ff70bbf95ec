using System.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SafeNotify.Crm.Messaging;
using Xunit;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.TestSupport;

/// <summary>What the row-level security probe of one service schema found.</summary>
public sealed record TenantIsolationReport(IReadOnlyList<string> TenantTables, IReadOnlyList<string> Checked, IReadOnlyList<string> Problems);

/// <summary>
/// Proves row-level security in a service's schema from the catalog and from its behaviour: every table is either under
/// row-level security (enabled and forced, with a policy on <c>app.tenant_id</c>, keyed on its <c>tenant_id</c> or the
/// column named in <see cref="TenantColumns"/>) or listed in <see cref="Exempt"/> with the reason it holds no tenant's
/// rows; and on the service's own connection set for tenant A, a query with no tenant filter returns none of tenant B's
/// rows, B's rows cannot be updated or deleted, and a copy of a B row cannot be inserted (Postgres refuses it, SQLSTATE 42501).
/// </summary>
public static class TenantIsolationProbe
{
    /// <summary>
    /// The tables outside row-level security, each with its reason ("*" for every schema). Every other table must be
    /// under it: a new table goes under it (<c>EnableTenantIsolation</c>), or here with the reason it cannot.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> Exempt = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["*.__ef_migrations_history"] = "EF's record of the migrations applied: no tenant's data",
        ["*.inbox_messages"] = "the ids of the messages a consumer has handled: no tenant's data",
        ["*.outbox_messages"] = "events on their way to the broker, read only by the outbox dispatcher, which publishes every tenant's; no route reads them",
        ["ingress.inbound_messages"] = "Twilio's webhooks, stored before anyone knows their tenant (Routing finds it from the number, later); no tenant's route reads them",
        ["ingress.customer_sequences"] = "the last sequence per (number, customer), stamped on a webhook before its tenant is known",
        ["ingress.sender_pacing"] = "the next free sending slot of each of our numbers: a time per number, no tenant's data",
        ["webapp.data_protection_keys"] = "the console's Data Protection key ring, shared by its instances: keys, no tenant's data",
        ["ingress.early_status_callbacks"] = "Twilio status callbacks for a SID not recorded yet (a SID, a status, an error code): their tenant is unknown until the send records the SID",
    };

    /// <summary>Tables whose tenant is in a column other than <c>tenant_id</c>.</summary>
    public static readonly IReadOnlyDictionary<string, string> TenantColumns = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["routing.tenants"] = "id",
    };

    private const string TablesSql = """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname AND p.tablename = c.relname
                       AND p.qual LIKE '%app.tenant_id%' AND p.with_check LIKE '%app.tenant_id%'),
               ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = @schema AND c.relkind IN ('r', 'p')
        ORDER BY c.relname
        """;

    /// <summary>The column that names a table's tenant.</summary>
    public static string TenantColumn(string schema, string table) => TenantColumns.GetValueOrDefault($"{schema}.{table}", "tenant_id");

    private static string? ExemptionOf(string schema, string table) =>
        Exempt.GetValueOrDefault($"{schema}.{table}") ?? Exempt.GetValueOrDefault($"*.{table}");

    /// <summary>
    /// Every table of <paramref name="schema"/> that holds tenants' rows, and why a table is not isolated if one is not:
    /// a tenant table without forced row-level security or its policy, or a table that is neither a tenant table nor exempt.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Tables, IReadOnlyList<string> Problems)> CatalogAsync(NpgsqlConnection connection, string schema)
    {
        var tables = new List<string>();
        var problems = new List<string>();
        await using var command = new NpgsqlCommand(TablesSql, connection);
        command.Parameters.AddWithValue("schema", schema);
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var table = reader.GetString(0);
            var columns = reader.GetFieldValue<string[]>(4);
            var column = TenantColumn(schema, table);
            if (ExemptionOf(schema, table) is not null)
            {
                if (columns.Contains("tenant_id"))
                {
                    problems.Add($"{schema}.{table}: has a tenant_id but is listed as exempt from row-level security");
                }

                continue;
            }

            if (!columns.Contains(column))
            {
                problems.Add($"{schema}.{table}: has no {column} to key row-level security on, and is not listed as exempt (with the reason) in {nameof(TenantIsolationProbe)}.{nameof(Exempt)}");
                continue;
            }

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
            var column = $"\"{TenantColumn(schema, table)}\"";
            // Across tenants (as an operator would): how many rows each tenant has.
            var (rowsOfA, rowsOfB) = await service.WithDbAsync(db => OnOpenConnection(db, connection => CountsAsync(connection, qualified, column, tenantA, tenantB)));
            if (rowsOfA == 0 || rowsOfB == 0)
            {
                // Isolation is only shown on rows of both tenants: a table the test left empty would pass unseen.
                allProblems.Add($"{schema}.{table}: the test gave it no rows of both tenants ({rowsOfA} of A, {rowsOfB} of B) to try isolation on");
                continue;
            }

            checkedTables.Add(table);
            // The service's own connection, opened for tenant A exactly as its code opens it.
            var problem = await service.WithTenantDbAsync(tenantA, db => OnOpenConnection(db, connection =>
                LeakAsync(connection, schema, table, column, tenantA, rowsOfA, tenantB)));
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

    private static async Task<(long A, long B)> CountsAsync(NpgsqlConnection connection, string qualified, string column, string tenantA, string tenantB)
    {
        await using var command = new NpgsqlCommand(
            $"SELECT count(*) FILTER (WHERE {column} = @a), count(*) FILTER (WHERE {column} = @b) FROM {qualified}", connection);
        command.Parameters.AddWithValue("a", tenantA);
        command.Parameters.AddWithValue("b", tenantB);
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }

    /// <summary>On a connection set for tenant A: null when nothing of B shows or can be written, else what leaked.</summary>
    private static async Task<string?> LeakAsync(NpgsqlConnection connection, string schema, string table, string column, string tenantA, long rowsOfA, string tenantB)
    {
        var qualified = $"\"{schema}\".\"{table}\"";
        var allTenants = $"\"{schema}{TenantIsolation.AllTenantsSuffix}\"";
        await using var transaction = await connection.BeginTransactionAsync();
        try
        {
            // A query that forgets its tenant filter.
            var seen = await ScalarAsync<long>(connection, $"SELECT count(*) FROM {qualified}");
            var seenOfOthers = await ScalarAsync<long>(connection, $"SELECT count(*) FROM {qualified} WHERE {column} IS DISTINCT FROM @b", tenantA);
            if (seenOfOthers != 0 || seen < rowsOfA)
            {
                return $"tenant A's connection saw {seen} rows ({seenOfOthers} of other tenants), expected its own {rowsOfA} only";
            }

            var updated = await ExecuteAsync(connection, $"UPDATE {qualified} SET {column} = {column} WHERE {column} = @b", tenantB);
            var deleted = await ExecuteAsync(connection, $"DELETE FROM {qualified} WHERE {column} = @b", tenantB);
            if (updated != 0 || deleted != 0)
            {
                return $"tenant A's connection updated {updated} and deleted {deleted} of tenant B's rows";
            }

            // A copy of one of B's rows, fetched under the cross-tenant role, then inserted as A: refused.
            var columns = string.Join(", ", await ColumnsAsync(connection, schema, table));
            await ExecuteAsync(connection, $"CREATE TEMP TABLE rls_probe ON COMMIT DROP AS SELECT {columns} FROM {qualified} WITH NO DATA");
            await ExecuteAsync(connection, $"GRANT ALL ON rls_probe TO {allTenants}");
            await ExecuteAsync(connection, $"SET LOCAL ROLE {allTenants}");
            await ExecuteAsync(connection, $"INSERT INTO rls_probe SELECT {columns} FROM {qualified} WHERE {column} = @b LIMIT 1", tenantB);
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
