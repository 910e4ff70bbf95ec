using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace SafeNotify.Crm.ServiceData;

/// <summary>An EF Core interceptor another building block adds to every <typeparamref name="TDbContext"/> (the outbox's commit signal).</summary>
public sealed record ServiceDbContextInterceptor<TDbContext>(IInterceptor Interceptor) where TDbContext : ServiceDbContext;

public static class ServiceDatabaseExtensions
{
    /// <summary>
    /// The service's own DbContext in its own schema (with its own migrations-history table there),
    /// traced and health-checked by Aspire's Npgsql integration, migrated at start, with the interceptors other building
    /// blocks register for it (<see cref="ServiceDbContextInterceptor{TDbContext}"/>: the outbox's commit signal).
    /// </summary>
    public static IHostApplicationBuilder AddServiceDatabase<TDbContext>(this IHostApplicationBuilder builder, string connectionName, string schema)
        where TDbContext : ServiceDbContext
    {
        var connectionString = ServiceConnectionString(builder.Configuration.GetConnectionString(connectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{connectionName} is not configured."));

        builder.Services.AddHttpContextAccessor(); // the caller's tenant, for row-level security (TenantIsolation)
        builder.Services.AddDbContext<TDbContext>((services, options) => options
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__ef_migrations_history", schema))
            .UseSnakeCaseNamingConvention()
            .AddInterceptors(services.GetServices<ServiceDbContextInterceptor<TDbContext>>().Select(i => i.Interceptor)));
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
    /// noticeably less database CPU per statement; the database is the largest consumer of CPU per message. An explicit
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
}
