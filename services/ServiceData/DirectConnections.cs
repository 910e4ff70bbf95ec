using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace SafeNotify.Crm.ServiceData;

/// <summary>
/// Plain Npgsql connections to the database of <typeparamref name="TDbContext"/>, for the few hot paths that write with
/// one set-based statement instead of EF: the webhook store and the outbox dispatcher's pass. At hundreds of messages
/// a second, EF's unit of work (a context, change tracking, a statement per row, the tenant setting on every open)
/// cost more than the work itself.
/// <para>
/// These connections carry no tenant and their users never change a session's state (settings only with
/// <c>SET LOCAL</c>, inside a transaction), so the pool hands them out as they are, without Npgsql's reset (as the
/// DbContext's pool does too, see <see cref="ServiceHostingExtensions"/>). Their pool is separate from the DbContext's,
/// so a connection with a tenant's setting is never one of these. Their statements are planned once per connection
/// (a generic plan), so each must be one whose plan does not depend on its parameters' values. Only tables outside
/// row-level security (the outbox, and tables listed as exempt in the isolation probe) may be written through them:
/// a tenant table shows them nothing and refuses their rows.
/// </para>
/// </summary>
public sealed class DirectConnections<TDbContext>(NpgsqlDataSource dataSource, string schema) : IAsyncDisposable
    where TDbContext : DbContext
{
    /// <summary>Connections one service instance may hold here: a few writers and the outbox dispatcher.</summary>
    public const int MaxConnections = 8;

    public NpgsqlDataSource DataSource { get; } = dataSource;

    /// <summary>The service's schema, where its tables (and its outbox) live.</summary>
    public string Schema { get; } = schema;

    public static DirectConnections<TDbContext> Create(string connectionString, string schema)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.ConnectionStringBuilder.MaxPoolSize = MaxConnections;
        builder.ConnectionStringBuilder.MinPoolSize = 0;
        // Their statements are prepared (auto-prepare), but Postgres still planned each execution afresh: a custom plan
        // for the arrays they carry, judged better than the generic one. Planning was over half of these sessions' CPU
        // at 500 webhooks/s, for the same plan every time (index lookups whatever the arrays hold). Set when the
        // connection starts, never changed after.
        builder.ConnectionStringBuilder.Options = $"{builder.ConnectionStringBuilder.Options} -c plan_cache_mode=force_generic_plan".Trim();
        return new DirectConnections<TDbContext>(builder.Build(), schema);
    }

    public ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => DataSource.OpenConnectionAsync(cancellationToken);

    public ValueTask DisposeAsync() => DataSource.DisposeAsync();
}
