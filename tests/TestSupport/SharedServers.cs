namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// One PostgreSQL server and one RabbitMQ node per test process, started on first use. Test classes
/// isolate themselves with their own database and their own data, not their own servers.
/// </summary>
public static class SharedServers
{
    private static readonly Lazy<Task<PostgresServer>> SharedPostgres = new(async () =>
    {
        var server = new PostgresServer();
        await server.StartAsync();
        return server;
    });

    private static readonly Lazy<Task<RabbitMqServer>> SharedRabbitMq = new(async () =>
    {
        var server = new RabbitMqServer();
        await server.StartAsync();
        return server;
    });

    public static Task<PostgresServer> PostgresAsync() => SharedPostgres.Value;

    public static Task<RabbitMqServer> RabbitMqAsync() => SharedRabbitMq.Value;
}
