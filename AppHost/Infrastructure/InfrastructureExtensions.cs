using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>A server the services wait for, and how they reach it.</summary>
internal sealed record Server(IResourceBuilder<IResource> Resource, ReferenceExpression Host, ReferenceExpression Port);

/// <summary>
/// Postgres and RabbitMQ, as containers where an engine runs and otherwise as Debian's own servers
/// started from <c>AppHost/infra/*.sh</c> as executable resources. Both paths get health checks that
/// speak the protocol, and the same connection strings.
/// </summary>
internal static class InfrastructureExtensions
{
    private const int PoolSizePerService = 20;

    public static Server AddCrmPostgres(this IDistributedApplicationBuilder builder, StateFolder state, bool containers, IReadOnlyDictionary<string, string> servicePasswords,
        IEnumerable<string> belowNormalRoles)
    {
        var superuserPassword = builder.AddParameter("postgres-password", state.Secret("postgres-password"), secret: true);
        const string checkName = "postgres-ready";

        if (containers)
        {
            var container = builder.AddPostgres(ResourceNames.Postgres, password: superuserPassword)
                .WithArgs("-c", "max_connections=500")
                // Vacuum the outbox queues promptly, as infra/postgres.sh explains.
                .WithArgs("-c", "autovacuum_naptime=5s", "-c", "autovacuum_vacuum_cost_delay=0", "-c", "autovacuum_vacuum_scale_factor=0.02",
                    "-c", "autovacuum_vacuum_insert_scale_factor=0.02", "-c", "autovacuum_analyze_scale_factor=0.02")
                .WithHealthCheck(checkName);
            if (!IsThrowaway(builder))
            {
                container.WithDataVolume("safenotify-crm-postgres");
            }

            var endpoint = container.GetEndpoint("tcp");
            builder.Services.AddHealthChecks().Add(new(checkName, _ => new PostgresReadyCheck(
                async ct => $"Host={endpoint.Host};Port={endpoint.Port};Username=postgres;Password={await superuserPassword.Resource.GetValueAsync(ct)}",
                servicePasswords), failureStatus: null, tags: null));
            return new Server(container.AsResource(),
                ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.Host)}"),
                ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.Port)}"));
        }

        var port = FreePorts.Next();
        var executable = builder.AddExecutable(ResourceNames.Postgres, "bash", InfraDirectory(builder), "postgres.sh")
            .WithEnvironment("PG_STATE_DIR", state.Folder("postgres"))
            .WithEnvironment("PG_SUPERUSER_PASSWORD", superuserPassword)
            .WithEnvironment("PG_FAST", FastDatabase(builder) ? "1" : "0")
            .WithEnvironment("PG_BELOW_NORMAL_ROLES", string.Join(' ', belowNormalRoles))
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", env: "PGPORT", isProxied: false)
            .WithHealthCheck(checkName);
        builder.Services.AddHealthChecks().Add(new(checkName, _ => new PostgresReadyCheck(
            async ct => $"Host=127.0.0.1;Port={port};Username=postgres;Password={await superuserPassword.Resource.GetValueAsync(ct)}",
            servicePasswords), failureStatus: null, tags: null));
        return new Server(executable.AsResource(), ReferenceExpression.Create($"127.0.0.1"), ReferenceExpression.Create($"{port.ToString()}"));
    }

    public static Server AddCrmRabbitMq(this IDistributedApplicationBuilder builder, StateFolder state, bool containers, IResourceBuilder<ParameterResource> password)
    {
        const string checkName = "rabbitmq-ready";
        if (containers)
        {
            var user = builder.AddParameter("rabbitmq-user", "safenotify");
            var container = builder.AddRabbitMQ(ResourceNames.RabbitMq, user, password).WithHealthCheck(checkName);
            if (!IsThrowaway(builder))
            {
                container.WithDataVolume("safenotify-crm-rabbitmq");
            }

            var endpoint = container.GetEndpoint("tcp");
            builder.Services.AddHealthChecks().Add(new(checkName, _ => new AmqpReadyCheck(_ => ValueTask.FromResult((endpoint.Host, endpoint.Port))), null, null));
            return new Server(container.AsResource(),
                ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.Host)}"),
                ReferenceExpression.Create($"{endpoint.Property(EndpointProperty.Port)}"));
        }

        var port = FreePorts.Next();
        var executable = builder.AddExecutable(ResourceNames.RabbitMq, "bash", InfraDirectory(builder), "rabbitmq.sh")
            .WithEnvironment("RABBITMQ_STATE_DIR", state.Folder("rabbitmq"))
            .WithEnvironment("RABBITMQ_DIST_PORT", FreePorts.Next().ToString())
            .WithEnvironment("RABBITMQ_USER", "safenotify")
            .WithEnvironment("RABBITMQ_PASSWORD", password)
            .WithEndpoint(port: port, targetPort: port, scheme: "tcp", name: "tcp", env: "RABBITMQ_NODE_PORT", isProxied: false)
            .WithHealthCheck(checkName);
        builder.Services.AddHealthChecks().Add(new(checkName, _ => new AmqpReadyCheck(_ => ValueTask.FromResult(("127.0.0.1", port))), null, null));
        return new Server(executable.AsResource(), ReferenceExpression.Create($"127.0.0.1"), ReferenceExpression.Create($"{port.ToString()}"));
    }

    /// <summary>Connection string of one service: its own role, a bounded pool, the shared database.</summary>
    public static IResourceBuilder<ConnectionStringResource> AddServiceDatabase(
        this IDistributedApplicationBuilder builder, Server postgres, string service, IResourceBuilder<ParameterResource> password) =>
        builder.AddConnectionString(ResourceNames.Database(service), ReferenceExpression.Create(
                $"Host={postgres.Host};Port={postgres.Port};Database={PostgresReadyCheck.DatabaseName};Username={service};Password={password};Maximum Pool Size={PoolSizePerService.ToString()};Timeout=15"))
            .WaitFor(postgres.Resource);

    public static IResourceBuilder<ConnectionStringResource> AddBrokerConnection(
        this IDistributedApplicationBuilder builder, Server rabbit, IResourceBuilder<ParameterResource> password) =>
        builder.AddConnectionString(ResourceNames.Messaging, ReferenceExpression.Create(
                $"amqp://safenotify:{password}@{rabbit.Host}:{rabbit.Port}/"))
            .WaitFor(rabbit.Resource);

    /// <summary>Tests run against throw-away state: no volumes, no durability.</summary>
    public static bool IsThrowaway(IDistributedApplicationBuilder builder) => builder.Configuration.GetValue<bool>("Crm:Throwaway");

    /// <summary>
    /// Postgres without fsync (<c>Crm:FastDatabase</c>, by default for throw-away state: the tests). Benchmarks turn it
    /// off: an acknowledged webhook must be on disk, and that is part of what they measure.
    /// </summary>
    private static bool FastDatabase(IDistributedApplicationBuilder builder) =>
        builder.Configuration.GetValue("Crm:FastDatabase", IsThrowaway(builder));

    private static string InfraDirectory(IDistributedApplicationBuilder builder) => Path.Combine(builder.AppHostDirectory, "infra");

    private static IResourceBuilder<IResource> AsResource<T>(this IResourceBuilder<T> resource) where T : IResource =>
        (IResourceBuilder<IResource>)resource;

}

internal static class EndpointExtensions
{
    /// <summary>
    /// Callers reach the process itself, not the orchestrator's proxy in front of it: the proxy adds a hop to every
    /// request and becomes the bottleneck under load (measured: webhooks queued for seconds at 100/s).
    /// </summary>
    public static IResourceBuilder<ProjectResource> WithDirectEndpoint(this IResourceBuilder<ProjectResource> project, bool launchProfilePort = true) =>
        project.WithEndpoint("http", endpoint =>
        {
            endpoint.IsProxied = false;
            if (!launchProfilePort)
            {
                // A second instance of a project: the launch profile's port is the first one's; take a free one.
                endpoint.Port = null;
                endpoint.TargetPort = null;
            }
        });
}
