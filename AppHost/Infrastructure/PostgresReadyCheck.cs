using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>
/// Postgres is ready for SafeNotify when it answers a query and the <c>safenotify</c> database has, for
/// each service, a login role of its own (not a superuser, no BYPASSRLS) owning a schema of the same name,
/// and the NOLOGIN role it enters for cross-tenant work (<see cref="PostgresProvisioning"/>).
/// The first healthy check provisions them (idempotently, so a kept data folder is fine); services wait
/// for this check, so they never start before their role exists.
/// </summary>
internal sealed class PostgresReadyCheck(
    Func<CancellationToken, ValueTask<string>> superuserConnectionString,
    IReadOnlyDictionary<string, string> servicePasswords) : IHealthCheck
{
    public const string DatabaseName = "safenotify";
    private volatile bool _provisioned;

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var admin = new NpgsqlConnectionStringBuilder(await superuserConnectionString(cancellationToken))
            {
                Database = "postgres",
                Pooling = false,
                Timeout = 3,
            };
            await using (var connection = new NpgsqlConnection(admin.ConnectionString))
            {
                await connection.OpenAsync(cancellationToken);
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync(cancellationToken);
                if (!_provisioned)
                {
                    await ProvisionServerAsync(connection, cancellationToken);
                }
            }

            if (!_provisioned)
            {
                admin.Database = DatabaseName;
                await using var connection = new NpgsqlConnection(admin.ConnectionString);
                await connection.OpenAsync(cancellationToken);
                await ProvisionSchemasAsync(connection, cancellationToken);
                _provisioned = true;
            }

            return HealthCheckResult.Healthy();
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or System.Net.Sockets.SocketException or IOException)
        {
            return HealthCheckResult.Unhealthy("Postgres is not ready yet", ex);
        }
    }

    private async Task ProvisionServerAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using (var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = $1", connection))
        {
            exists.Parameters.AddWithValue(DatabaseName);
            if (await exists.ExecuteScalarAsync(cancellationToken) is null)
            {
                await Execute(connection, $"CREATE DATABASE {DatabaseName} ENCODING 'UTF8'", cancellationToken);
            }
        }

        await Execute(connection, PostgresProvisioning.DatabaseSql(DatabaseName), cancellationToken);
        foreach (var (role, password) in servicePasswords)
        {
            await Execute(connection, PostgresProvisioning.ServerSql(role, password, DatabaseName), cancellationToken);
        }
    }

    private async Task ProvisionSchemasAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await Execute(connection, PostgresProvisioning.PublicSchemaSql, cancellationToken);
        foreach (var role in servicePasswords.Keys)
        {
            await Execute(connection, PostgresProvisioning.SchemaSql(role), cancellationToken);
        }
    }

    private static async Task Execute(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
