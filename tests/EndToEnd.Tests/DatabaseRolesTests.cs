using System.Text.Json;
using Npgsql;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Row-level security only holds if services cannot bypass it: in the running system each service logs in
/// with the connection string the AppHost gives it, as its own role that is neither a superuser nor BYPASSRLS,
/// and every table with a tenant_id in every service schema has RLS enabled, forced and keyed on app.tenant_id.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class DatabaseRolesTests(SystemFixture system)
{
    [Fact]
    public async Task Every_service_logs_in_as_its_own_role_which_is_not_a_superuser_and_cannot_bypass_row_level_security()
    {
        var secrets = JsonSerializer.Deserialize<Dictionary<string, string>>(await File.ReadAllTextAsync(Path.Combine(system.StateDirectory, "secrets.json")))!;
        foreach (var service in ResourceNames.Services)
        {
            var connectionString = await system.App.GetConnectionStringAsync(ResourceNames.Database(service));
            var settings = new NpgsqlConnectionStringBuilder(connectionString);
            Assert.Equal(service, settings.Username);
            Assert.Equal(secrets[$"{service}-db-password"], settings.Password);

            await using var connection = new NpgsqlConnection(connectionString);
            await connection.OpenAsync();
            var (role, superuser, bypassRls) = await TenantIsolationProbe.LoginRoleAsync(connection);
            Assert.Equal(service, role);
            Assert.False(superuser, $"{service} logs in as a superuser");
            Assert.False(bypassRls, $"{service} logs in with BYPASSRLS");

            // Its cross-tenant role cannot log in or bypass RLS, and the service holds it only by SET ROLE, never inherited.
            await using var command = new NpgsqlCommand(
                "SELECT rolcanlogin, rolsuper, rolbypassrls, pg_has_role(session_user, oid, 'MEMBER'), pg_has_role(session_user, oid, 'USAGE') FROM pg_roles WHERE rolname = @role", connection);
            command.Parameters.AddWithValue("role", service + TenantIsolation.AllTenantsSuffix);
            await using (var reader = await command.ExecuteReaderAsync())
            {
                Assert.True(await reader.ReadAsync(), $"{service} has no cross-tenant role");
                Assert.False(reader.GetBoolean(0));
                Assert.False(reader.GetBoolean(1));
                Assert.False(reader.GetBoolean(2));
                Assert.True(reader.GetBoolean(3), $"{service} cannot enter its cross-tenant role");
                Assert.False(reader.GetBoolean(4), $"{service} inherits its cross-tenant role, whose policy would then always apply");
            }

            var (tables, problems) = await TenantIsolationProbe.CatalogAsync(connection, service);
            Assert.NotEmpty(tables);
            Assert.Empty(problems);
        }
    }
}
