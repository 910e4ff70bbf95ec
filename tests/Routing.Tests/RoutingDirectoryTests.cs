using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// The directory's edges: a change heard while a snapshot is being read must not leave that (stale) snapshot
/// cached, and while changes cannot be heard nothing is cached at all.
/// </summary>
[Collection(RoutingCollection.Name)]
public sealed class RoutingDirectoryTests(RoutingService routing)
{
    [Fact]
    public async Task A_change_heard_between_reading_a_snapshot_and_keeping_it_leaves_nothing_cached()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var (_, phone) = await routing.CreateNumberAsync(tenantId);
        var directory = new RoutingDirectory { Enabled = true };
        var whileReading = new AfterReading("known_agents");
        await using var scope = routing.Services.CreateAsyncScope();
        await using var db = ContextWith(scope, whileReading);
        await db.ForTenant(tenantId);

        // The tenant's change is announced after its numbers were read, before the snapshot is kept.
        whileReading.Then = () => directory.Invalidate(tenantId);
        var loaded = await directory.LoadAsync(tenantId, db, CancellationToken.None);
        Assert.NotNull(loaded);           // the caller still gets what was read
        Assert.False(directory.IsCached(tenantId));
        Assert.False(directory.TryFind(phone, out _, out _));

        // The listener reconnecting (every snapshot dropped) at that moment is the same.
        whileReading.Then = () => { directory.Enabled = false; directory.Enabled = true; };
        await directory.LoadAsync(tenantId, db, CancellationToken.None);
        Assert.False(directory.IsCached(tenantId));

        // With nothing heard meanwhile, the snapshot is kept and answers from memory.
        whileReading.Then = null;
        await directory.LoadAsync(tenantId, db, CancellationToken.None);
        Assert.True(directory.IsCached(tenantId));
        Assert.True(directory.TryFind(phone, out var cached, out var number));
        Assert.Equal((tenantId, phone), (cached!.Tenant.Id, number!.PhoneNumber));
    }

    [Fact]
    public async Task While_changes_cannot_be_heard_nothing_is_cached_and_every_lookup_reads_the_database()
    {
        var (tenantId, _) = await routing.CreateTenantAsync();
        var (_, phone) = await routing.CreateNumberAsync(tenantId);
        var directory = new RoutingDirectory(); // as before the listener connects
        await using var scope = routing.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RoutingDbContext>();

        var (found, number) = await directory.FindByPhoneAsync(phone, db, CancellationToken.None);
        Assert.Equal((tenantId, phone), (found!.Tenant.Id, number!.PhoneNumber)); // answered from the database
        Assert.False(directory.IsCached(tenantId));
        Assert.False(directory.TryFind(phone, out _, out _));

        // Once changes are heard it is cached; when the listener drops, the cached snapshot goes at once.
        directory.Enabled = true;
        await directory.FindByPhoneAsync(phone, db, CancellationToken.None);
        Assert.True(directory.TryFind(phone, out _, out _));
        directory.Enabled = false;
        Assert.False(directory.IsCached(tenantId));
        Assert.False(directory.TryFind(phone, out _, out _));
        Assert.NotNull((await directory.FindByPhoneAsync(phone, db, CancellationToken.None)).Number);
        Assert.False(directory.IsCached(tenantId));
    }

    /// <summary>The service's own DbContext configuration, plus <paramref name="interceptor"/>.</summary>
    private static RoutingDbContext ContextWith(AsyncServiceScope scope, IInterceptor interceptor) =>
        new(new DbContextOptionsBuilder<RoutingDbContext>(scope.ServiceProvider.GetRequiredService<DbContextOptions<RoutingDbContext>>())
            .AddInterceptors(interceptor).Options);

    /// <summary>Runs <see cref="Then"/> once a query of <paramref name="table"/> has returned: a change arriving mid-read.</summary>
    private sealed class AfterReading(string table) : DbCommandInterceptor
    {
        public Action? Then { get; set; }

        public override ValueTask<DbDataReader> ReaderExecutedAsync(DbCommand command, CommandExecutedEventData eventData, DbDataReader result, CancellationToken cancellationToken = default)
        {
            if (command.CommandText.Contains(table, StringComparison.Ordinal))
            {
                Then?.Invoke();
            }

            return ValueTask.FromResult(result);
        }
    }
}
