namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>
/// The SQL that gives each service its database identity, shared by the AppHost (<see cref="PostgresReadyCheck"/>)
/// and the tests (TestSupport links this file), so services are tested under exactly the roles they run as:
/// <list type="bullet">
/// <item>a login role named after the service: not a superuser, no BYPASSRLS, owner of a schema of the same
/// name. Row-level security applies to it because every tenant table FORCEs it (owners are not exempt then).</item>
/// <item>a NOLOGIN role <c>&lt;service&gt;_all_tenants</c> granted to it without inheritance (NOINHERIT: policies
/// for a role apply to members that inherit it), which the service enters with <c>SET ROLE</c> only for work that
/// truly crosses tenants; migrations give it a permissive policy per table.
/// Creating a role needs CREATEROLE, which services do not have, so it is made here.</item>
/// </list>
/// Every statement is idempotent (a kept data folder is provisioned again at each start).
/// </summary>
internal static class PostgresProvisioning
{
    /// <summary>The suffix of the role a service enters for cross-tenant work.</summary>
    public const string AllTenantsSuffix = "_all_tenants";

    /// <summary>Server-wide: the service's login role and its cross-tenant role, allowed into <paramref name="database"/>.</summary>
    public static string ServerSql(string role, string password, string database) =>
        $"""
        DO $$ BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE "{role}" LOGIN; END IF;
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}{AllTenantsSuffix}') THEN CREATE ROLE "{role}{AllTenantsSuffix}" NOLOGIN; END IF;
        END $$;
        ALTER ROLE "{role}" WITH LOGIN NOINHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION PASSWORD '{password.Replace("'", "''")}';
        ALTER ROLE "{role}{AllTenantsSuffix}" WITH NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS NOREPLICATION;
        ALTER ROLE "{role}" SET search_path = "{role}";
        DO $$ BEGIN
          -- A member that inherited the role would match its permissive policy always: the service may only SET ROLE to it.
          IF current_setting('server_version_num')::int >= 160000 THEN
            EXECUTE 'GRANT "{role}{AllTenantsSuffix}" TO "{role}" WITH INHERIT FALSE, SET TRUE';
          ELSE
            EXECUTE 'GRANT "{role}{AllTenantsSuffix}" TO "{role}"';
          END IF;
        END $$;
        GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO "{role}";
        """;

    /// <summary>Inside the database: the service's schema, owned by its role, usable by its cross-tenant role.</summary>
    public static string SchemaSql(string role) =>
        $"""
        CREATE SCHEMA IF NOT EXISTS "{role}" AUTHORIZATION "{role}";
        ALTER SCHEMA "{role}" OWNER TO "{role}";
        GRANT USAGE ON SCHEMA "{role}" TO "{role}{AllTenantsSuffix}";
        ALTER DEFAULT PRIVILEGES FOR ROLE "{role}" IN SCHEMA "{role}" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO "{role}{AllTenantsSuffix}";
        ALTER DEFAULT PRIVILEGES FOR ROLE "{role}" IN SCHEMA "{role}" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO "{role}{AllTenantsSuffix}";
        GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "{role}" TO "{role}{AllTenantsSuffix}";
        GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA "{role}" TO "{role}{AllTenantsSuffix}";
        """;

    /// <summary>What the whole database allows everybody: nothing but what is granted above.</summary>
    public static string DatabaseSql(string database) => $"REVOKE ALL ON DATABASE \"{database}\" FROM PUBLIC";

    public const string PublicSchemaSql = "REVOKE CREATE ON SCHEMA public FROM PUBLIC";
}
