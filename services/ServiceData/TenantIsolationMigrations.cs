using Microsoft.EntityFrameworkCore.Migrations;

namespace SafeNotify.Crm.ServiceData;

/// <summary>Row-level security for a tenant table, in a service's migrations.</summary>
public static class TenantIsolationMigrations
{
    /// <summary>
    /// Protects <paramref name="schema"/>.<paramref name="table"/> with row-level security, enabled and FORCED
    /// (the service's role owns the table and would bypass it otherwise): a connection sees and writes only
    /// rows whose <paramref name="column"/> equals <c>app.tenant_id</c> (none when it is not set), except under
    /// the service's <c>&lt;schema&gt;_all_tenants</c> role, given every row. Idempotent.
    /// </summary>
    public static MigrationBuilder EnableTenantIsolation(this MigrationBuilder migrationBuilder, string schema, string table, string column = "tenant_id")
    {
        var qualified = $"\"{schema}\".\"{table}\"";
        var allTenants = $"\"{schema}{TenantIsolation.AllTenantsSuffix}\"";
        var sameTenant = $"\"{column}\" = current_setting('{TenantIsolation.Setting}', true)";
        migrationBuilder.Sql(
            $"""
            ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY;
            ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY;
            DROP POLICY IF EXISTS tenant_isolation ON {qualified};
            CREATE POLICY tenant_isolation ON {qualified} USING ({sameTenant}) WITH CHECK ({sameTenant});
            DROP POLICY IF EXISTS all_tenants ON {qualified};
            CREATE POLICY all_tenants ON {qualified} TO {allTenants} USING (true) WITH CHECK (true);
            GRANT SELECT, INSERT, UPDATE, DELETE ON {qualified} TO {allTenants};
            """);
        return migrationBuilder;
    }

    /// <summary>Undoes <see cref="EnableTenantIsolation"/>.</summary>
    public static MigrationBuilder DisableTenantIsolation(this MigrationBuilder migrationBuilder, string schema, string table)
    {
        var qualified = $"\"{schema}\".\"{table}\"";
        migrationBuilder.Sql(
            $"""
            DROP POLICY IF EXISTS all_tenants ON {qualified};
            DROP POLICY IF EXISTS tenant_isolation ON {qualified};
            ALTER TABLE {qualified} NO FORCE ROW LEVEL SECURITY;
            ALTER TABLE {qualified} DISABLE ROW LEVEL SECURITY;
            """);
        return migrationBuilder;
    }

    /// <summary>
    /// Runs <paramref name="sql"/> as the schema's cross-tenant role, inside the migration's transaction: a backfill
    /// that reads tables already under forced row-level security (the migration's own connection, set for no tenant,
    /// would see none of their rows).
    /// </summary>
    public static MigrationBuilder SqlAcrossTenants(this MigrationBuilder migrationBuilder, string schema, string sql)
    {
        migrationBuilder.Sql(
            $"""
            SET LOCAL ROLE "{schema}{TenantIsolation.AllTenantsSuffix}";
            {sql}
            SET LOCAL ROLE NONE;
            """);
        return migrationBuilder;
    }

    /// <summary>
    /// Lets the service's cross-tenant role use every table and sequence of the schema (the outbox and inbox
    /// included, which carry no tenant), for schemas provisioned before that role existed.
    /// </summary>
    public static MigrationBuilder GrantAllTenantsRole(this MigrationBuilder migrationBuilder, string schema)
    {
        var allTenants = $"\"{schema}{TenantIsolation.AllTenantsSuffix}\"";
        migrationBuilder.Sql(
            $"""
            GRANT USAGE ON SCHEMA "{schema}" TO {allTenants};
            GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{schema}" TO {allTenants};
            GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{schema}" TO {allTenants};
            """);
        return migrationBuilder;
    }
}
