using MassTransit;
using Npgsql;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace SafeNotify.Crm.Messaging;

public static class ServiceHostingExtensions
{
    /// <summary>The connection string name of the broker, shared by the AppHost and every service.</summary>
    public const string BrokerConnectionName = "messaging";

    /// <summary>
    /// The service's own DbContext in its own schema (with its own migrations-history table there),
    /// traced and health-checked by Aspire's Npgsql integration, migrated at start, with the outbox's
    /// commit signal attached.
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TDbContext>(this IHostApplicationBuilder builder, string connectionName, string schema)
        where TDbContext : DbContext, IMessagingDbContext
    {
        var connectionString = ServiceConnectionString(builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{connectionName} is not configured."));

        builder.Services.AddHttpContextAccessor(); // the caller's tenant, for row-level security (TenantIsolation)
        builder.Services.AddSingleton<OutboxSignal<TDbContext>>();
        builder.Services.AddSingleton<OutboxCommitInterceptor<TDbContext>>();
        builder.Services.AddDbContext<TDbContext>((services, options) => options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema))
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(services.GetRequiredService<OutboxCommitInterceptor<TDbContext>>()));
        // Retries belong to the message pipeline (MassTransit retries a whole consumer in a fresh scope);
        // EF's retrying strategy would refuse our explicit transactions.
        builder.EnrichNpgsqlDbContext<TDbContext>(settings => settings.DisableRetry = true);
        builder.Services.AddSingleton(_ => DirectConnections<TDbContext>.Create(connectionString, schema));

        builder.Services.AddHostedService<DatabaseMigrator<TDbContext>>();
        builder.Services.AddExceptionHandler<DatabaseExceptionHandler>();
        return builder;
    }

    /// <summary>
    /// The service's connection settings. A service runs a few dozen statement shapes over and over (the outbox's claim,
    /// the inbox's insert, its own queries): Npgsql prepares each on a connection once it has been used twice there, so
    /// Postgres parses and plans it once instead of on every call. Measured on this project's webhook store, that is about
    /// 40 % less database CPU per statement; the database is the largest consumer of CPU per message. An explicit
    /// setting is kept.
    /// <para>
    /// A pooled connection is handed out without Npgsql's reset (<c>No Reset On Close</c>): seven statements
    /// (<c>RESET ALL</c>, <c>SET SESSION AUTHORIZATION DEFAULT</c>, <c>DISCARD TEMP</c>, ...) before every use, that is,
    /// for every message a consumer handles and every API call. The only session state a service leaves on a connection
    /// is its tenant and role, and the DbContext sets both on every open (<see cref="TenantIsolation"/>), so a connection
    /// back from the pool never lends its previous tenant to the next context (tested). Advisory locks are taken per
    /// transaction, and the one <c>LISTEN</c> (Routing's) has a connection outside the pool.
    /// </para>
    /// </summary>
    private static string ServiceConnectionString(string connectionString)
    {
        var settings = new NpgsqlConnectionStringBuilder(connectionString);
        if (settings.MaxAutoPrepare == 0)
        {
            settings.MaxAutoPrepare = 64;
            settings.AutoPrepareMinUsages = 2;
        }

        settings.NoResetOnClose = true;
        return settings.ConnectionString;
    }

    /// <summary>
    /// MassTransit over RabbitMQ, with queues named after the service ("routing-whats-app-message-received"),
    /// retries for transient failures, and the outbox dispatcher of <typeparamref name="TDbContext"/>.
    /// </summary>
    public static IHostApplicationBuilder AddServiceMessaging<TDbContext>(
        this IHostApplicationBuilder builder,
        string serviceName,
        Action<IBusRegistrationConfigurator> configureConsumers)
        where TDbContext : DbContext, IMessagingDbContext
    {
        var brokerUri = new Uri(builder.Configuration.GetConnectionString(BrokerConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{BrokerConnectionName} is not configured."));

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddOptions<OutboxOptions>().BindConfiguration("Outbox");
        builder.Services.AddHostedService<OutboxDispatcher<TDbContext>>();
        builder.Services.AddHealthChecks().AddCheck<OutboxHealthCheck<TDbContext>>("outbox", tags: ["ready"]);

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(serviceName, includeNamespace: false));
            configureConsumers(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(brokerUri, host =>
                {
                    var userInfo = Uri.UnescapeDataString(brokerUri.UserInfo).Split(':', 2);
                    if (userInfo.Length == 2)
                    {
                        host.Username(userInfo[0]);
                        host.Password(userInfo[1]);
                    }
                });
                rabbit.PrefetchCount = 32;
                // Transient failures (a unique-key race, a lost connection) get a fresh scope and another go;
                // what still fails lands in the endpoint's _error queue for operators.
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Ignore<PredecessorPendingException>();
                    retry.Exponential(6, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
                });
                // A message of a conversation that overtook its predecessor (another instance, or another
                // concurrent delivery, still handles it) waits in short steps, then goes ahead: see ConversationOrder.
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Handle<PredecessorPendingException>();
                    retry.Interval(ConversationOrder.MaxWaits, ConversationOrder.RetryInterval);
                });
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
