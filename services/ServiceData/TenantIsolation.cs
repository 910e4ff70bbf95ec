using System.Data.Common;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.ServiceData;

/// <summary>
/// Isolation in depth: besides the <c>tenant_id</c> filters in code, every tenant table is protected by Postgres
/// row-level security (enabled and forced; see <see cref="TenantIsolationMigrations"/>) keyed on the setting
/// <c>app.tenant_id</c>. A <see cref="ServiceDbContext"/> applies that setting on every connection it opens:
/// <list type="bullet">
/// <item>the tenant of the signed caller for an API request (<see cref="CallerIdentity"/>);</item>
/// <item>the tenant of the message a consumer handles (<see cref="WorkFor"/>);</item>
/// <item>one set explicitly with <see cref="ForTenant"/> (a consumer that finds the tenant from a phone number);</item>
/// <item>none at all otherwise: then tenant tables show nothing and accept nothing.</item>
/// </list>
/// Work that truly crosses tenants (operator figures, the gateway's key lookup, retention) says so with
/// <see cref="AcrossTenantsAsync{T}"/>, which enters the service's NOLOGIN role <c>&lt;schema&gt;_all_tenants</c>.
/// </summary>
public static class TenantIsolation
{
    /// <summary>The Postgres setting the policies read.</summary>
    public const string Setting = "app.tenant_id";

    /// <summary>The suffix of the role a service enters for cross-tenant work (provisioned with the service's role).</summary>
    public const string AllTenantsSuffix = "_all_tenants";

    /// <summary>
    /// From now on this context works for <paramref name="tenantId"/> only (until another call), on the open
    /// connection too. Use it when the tenant is known only after a lookup.
    /// </summary>
    public static async Task ForTenant(this ServiceDbContext db, string tenantId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(tenantId);
        db.Access = TenantAccess.For(tenantId);
        await db.ApplyIfOpenAsync(cancellationToken);
    }

    /// <summary>
    /// This context works for <paramref name="tenantId"/>, or for no tenant when there is none (a message that names no
    /// tenant): set before its connection opens, as a consumer does for the message it handles.
    /// </summary>
    public static void WorkFor(this ServiceDbContext db, string? tenantId) =>
        db.Access = tenantId is { Length: > 0 } ? TenantAccess.For(tenantId) : TenantAccess.None;

    /// <summary>
    /// <see cref="WorkFor"/> on a context whose connection may be open already (the next event of a batch): the
    /// connection's setting changes only when the tenant does.
    /// </summary>
    public static async Task WorkForAsync(this ServiceDbContext db, string? tenantId, CancellationToken cancellationToken)
    {
        var tenant = tenantId is { Length: > 0 } ? tenantId : null;
        if (db.Access.IsExactly(tenant))
        {
            return;
        }

        db.WorkFor(tenant);
        await db.ApplyIfOpenAsync(cancellationToken);
    }

    /// <summary>
    /// Runs <paramref name="work"/> with every tenant's rows visible and writable, then restores the previous
    /// isolation. Inside a transaction the role change is part of it. Keep the work small and obvious: this is
    /// where isolation is lifted on purpose.
    /// </summary>
    public static async Task<T> AcrossTenantsAsync<T>(this ServiceDbContext db, Func<Task<T>> work, CancellationToken cancellationToken = default)
    {
        var previous = db.Access;
        db.Access = TenantAccess.AllTenants;
        var completed = false;
        try
        {
            await db.ApplyIfOpenAsync(cancellationToken);
            var result = await work();
            completed = true;
            return result;
        }
        finally
        {
            db.Access = previous;
            try
            {
                await db.ApplyIfOpenAsync(CancellationToken.None);
            }
            catch (Exception ex) when (!completed && ex is NpgsqlException or InvalidOperationException)
            {
                // The transaction failed already; its rollback undoes the role change with everything else.
            }
        }
    }

    /// <inheritdoc cref="AcrossTenantsAsync{T}(ServiceDbContext, Func{Task{T}}, CancellationToken)"/>
    public static Task AcrossTenantsAsync(this ServiceDbContext db, Func<Task> work, CancellationToken cancellationToken = default) =>
        db.AcrossTenantsAsync(async () =>
        {
            await work();
            return true;
        }, cancellationToken);

    private static async Task ApplyIfOpenAsync(this ServiceDbContext db, CancellationToken cancellationToken)
    {
        var connection = db.Database.GetDbConnection();
        if (connection.State == System.Data.ConnectionState.Open)
        {
            await using var command = db.CreateApplyCommand(connection);
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }

    /// <summary>The one statement that sets a connection's tenant and role: cheap, and the same for every open.</summary>
    internal static DbCommand CreateApplyCommand(this ServiceDbContext db, DbConnection connection)
    {
        var access = db.Access.Resolve();
        var command = connection.CreateCommand();
        command.CommandText = "SELECT set_config('app.tenant_id', @tenant, false), set_config('role', @role, false)";
        var tenant = command.CreateParameter();
        tenant.ParameterName = "tenant";
        tenant.Value = access.TenantId ?? "";
        var role = command.CreateParameter();
        role.ParameterName = "role";
        role.Value = access.IsAllTenants ? db.SchemaName + AllTenantsSuffix : "none";
        command.Parameters.Add(tenant);
        command.Parameters.Add(role);
        return command;
    }
}

/// <summary>Which rows of tenant tables a <see cref="ServiceDbContext"/> may see.</summary>
public sealed class TenantAccess
{
    private TenantAccess(string? tenantId, bool allTenants, bool fromCaller)
    {
        TenantId = tenantId;
        IsAllTenants = allTenants;
        _fromCaller = fromCaller;
    }

    private readonly bool _fromCaller;

    /// <summary>No tenant: tenant tables show nothing.</summary>
    public static TenantAccess None { get; } = new(null, false, false);

    /// <summary>The tenant of the caller of the current API request, if any (the default).</summary>
    public static TenantAccess Caller { get; } = new(null, false, true);

    /// <summary>Every tenant (the service's <c>_all_tenants</c> role).</summary>
    public static TenantAccess AllTenants { get; } = new(null, true, false);

    public static TenantAccess For(string tenantId) => new(tenantId, false, false);

    public string? TenantId { get; }

    public bool IsAllTenants { get; }

    /// <summary>True when this is the access of exactly <paramref name="tenantId"/> (or of no tenant, for null).</summary>
    internal bool IsExactly(string? tenantId) => !_fromCaller && !IsAllTenants && TenantId == tenantId;

    internal TenantAccess Resolve() => _fromCaller
        ? CallerTenant() is { } tenant ? For(tenant) : None
        : this;

    private static readonly HttpContextAccessor Http = new();

    private static string? CallerTenant() => Http.HttpContext is { } context ? CallerIdentity.From(context)?.TenantId : null;

    public override string ToString() => IsAllTenants ? "all tenants" : TenantId ?? (_fromCaller ? "the caller's tenant" : "no tenant");
}

/// <summary>Applies the context's <see cref="TenantAccess"/> to every connection it opens (pooled connections included).</summary>
internal sealed class TenantConnectionInterceptor : DbConnectionInterceptor
{
    public static TenantConnectionInterceptor Instance { get; } = new();

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        if (eventData.Context is ServiceDbContext db)
        {
            using var command = db.CreateApplyCommand(connection);
            command.ExecuteNonQuery();
        }
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        if (eventData.Context is ServiceDbContext db)
        {
            await using var command = db.CreateApplyCommand(connection);
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
