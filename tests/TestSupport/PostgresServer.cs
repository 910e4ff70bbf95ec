using Npgsql;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.TestSupport;

/// <summary>A private, throw-away PostgreSQL server (durability off: tests do not survive a power cut).</summary>
public sealed class PostgresServer() : ServerProcess("postgres")
{
    public const string Password = "test-superuser";

    protected override string Script => "postgres.sh";

    protected override IReadOnlyDictionary<string, string> Environment => new Dictionary<string, string>
    {
        ["PG_STATE_DIR"] = Path.Combine(StateDirectory, "pg"),
        ["PGPORT"] = Port.ToString(),
        ["PG_SUPERUSER_PASSWORD"] = Password,
        ["PG_FAST"] = "1",
    };

    public string ConnectionString(string database = "postgres") =>
        $"Host=127.0.0.1;Port={Port};Username=postgres;Password={Password};Database={database};Maximum Pool Size=30;Timeout=15";

    /// <summary>A new empty database, so a test class starts from nothing.</summary>
    public Task<string> CreateDatabaseAsync(string prefix = "test") => CreateDatabaseAsync(ConnectionString(), prefix);

    /// <summary>A new empty database on the server <paramref name="superuser"/> logs in to (this one, or the running system's); its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string superuser, string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 33, 63)];
        await using var connection = new NpgsqlConnection(superuser);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return new NpgsqlConnectionStringBuilder(superuser) { Database = name }.ConnectionString;
    }

    /// <summary>The password of every service's login role on this throw-away server.</summary>
    public const string ServicePassword = "test-service";

    private readonly SemaphoreSlim _provisioning = new(1, 1);

    /// <summary>
    /// A new database for <paramref name="service"/>, provisioned exactly as the AppHost provisions production
    /// (<see cref="PostgresProvisioning"/>): the returned connection string logs in as the service's own
    /// role (not a superuser, no BYPASSRLS), so row-level security holds in tests as it does in production.
    /// </summary>
    public async Task<string> CreateServiceDatabaseAsync(string service)
    {
        var connectionString = await CreateDatabaseAsync(service);
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        // Roles are server-wide: provision them one database at a time (concurrent ALTER ROLE would conflict).
        await _provisioning.WaitAsync();
        try
        {
            await ExecuteAsync(ConnectionString(), PostgresProvisioning.DatabaseSql(database));
            await ExecuteAsync(ConnectionString(), PostgresProvisioning.ServerSql(service, ServicePassword, database));
            await ExecuteAsync(connectionString, PostgresProvisioning.PublicSchemaSql);
            await ExecuteAsync(connectionString, PostgresProvisioning.SchemaSql(service));
        }
        finally
        {
            _provisioning.Release();
        }

        return new NpgsqlConnectionStringBuilder(connectionString) { Username = service, Password = ServicePassword }.ConnectionString;
    }

    private static async Task ExecuteAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    protected override async Task<bool> IsReadyAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var connection = new NpgsqlConnection(ConnectionString() + ";Pooling=false;Timeout=2");
            await connection.OpenAsync(cancellationToken);
            await using var command = new NpgsqlCommand("SELECT 1", connection);
            await command.ExecuteScalarAsync(cancellationToken);
            return true;
        }
        catch (Exception ex) when (ex is NpgsqlException or TimeoutException or OperationCanceledException or IOException)
        {
            return false;
        }
    }
}
