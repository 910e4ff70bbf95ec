using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Routing.Data;

public sealed class RoutingDbContext(DbContextOptions<RoutingDbContext> options) : MessagingDbContext(options, Schema)
{
    public const string Schema = "routing";

    public DbSet<Tenant> Tenants => Set<Tenant>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<WhatsAppNumber> Numbers => Set<WhatsAppNumber>();
    public DbSet<KnownAgent> Agents => Set<KnownAgent>();
    public DbSet<UnroutedMessage> UnroutedMessages => Set<UnroutedMessage>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<Tenant>(tenant =>
        {
            tenant.HasKey(t => t.Id);
            tenant.HasIndex(t => t.SafeNotifyUserId).IsUnique();
            tenant.Property(t => t.CrmPlan).HasMaxLength(20);
            tenant.Property(t => t.Timezone).HasMaxLength(64);
            tenant.Property(t => t.MigrationRunId).HasMaxLength(40);
            tenant.Property(t => t.LegacyPlanType).HasMaxLength(100);
            tenant.HasIndex(t => t.MigrationRunId).HasFilter("migration_run_id IS NOT NULL");
        });

        modelBuilder.Entity<ApiKey>(key =>
        {
            key.HasKey(k => k.Id);
            key.HasIndex(k => k.Hash).IsUnique();
            key.HasIndex(k => k.TenantId);
            key.Property(k => k.Hash).HasMaxLength(64);
            key.Property(k => k.Prefix).HasMaxLength(16);
            key.Property(k => k.ReplacedByKeyId).HasMaxLength(40);
        });

        modelBuilder.Entity<AuditEntry>(entry =>
        {
            entry.ToTable("audit_entries");
            entry.HasKey(e => e.Id);
            entry.HasIndex(e => new { e.OccurredAt, e.Id });
            entry.HasIndex(e => new { e.TenantId, e.OccurredAt }); // an operator looking at one tenant's trail
            entry.HasIndex(e => new { e.Action, e.OccurredAt });
            entry.Property(e => e.Action).HasMaxLength(64);
            entry.Property(e => e.TargetType).HasMaxLength(40);
            entry.Property(e => e.TargetId).HasMaxLength(100);
            entry.Property(e => e.Detail).HasMaxLength(500);
            entry.Property(e => e.ActorRole).HasMaxLength(20);
            entry.Property(e => e.ActorStaffId).HasMaxLength(40);
            entry.Property(e => e.ActorStaffName).HasMaxLength(100);
            entry.Property(e => e.Service).HasMaxLength(20);
        });

        modelBuilder.Entity<WhatsAppNumber>(number =>
        {
            number.ToTable("whatsapp_numbers");
            number.HasKey(n => n.Id);
            number.HasIndex(n => n.PhoneNumber).IsUnique();
            number.HasIndex(n => n.TenantId);
            // At most one primary number per tenant, whatever races the API loses.
            number.HasIndex(n => n.TenantId).IsUnique().HasFilter("is_primary").HasDatabaseName("ix_whatsapp_numbers_one_primary");
            number.Property(n => n.PhoneNumber).HasMaxLength(20);
            number.Property(n => n.BusinessHours).HasJsonColumn();
        });

        modelBuilder.Entity<KnownAgent>(agent =>
        {
            agent.ToTable("known_agents");
            agent.HasKey(a => a.AgentId);
            agent.HasIndex(a => a.TenantId);
            agent.Property(a => a.ActiveHours).HasJsonColumn();
        });

        modelBuilder.Entity<UnroutedMessage>(message =>
        {
            message.HasKey(m => m.Id);
            message.HasIndex(m => m.ReceivedAt);
            message.HasIndex(m => new { m.TenantId, m.ReceivedAt }); // an operator looking at one tenant's silent messages
        });
    }
}

public static class RoutingDbContextExtensions
{
    /// <summary>Adds to numbers' totals, each for its own tenant, in the order given.</summary>
    public static async Task AddToNumberTotalsAsync(this RoutingDbContext db, IReadOnlyList<NumberTotalsAddition> additions, CancellationToken cancellationToken)
    {
        foreach (var addition in additions)
        {
            await db.WorkForAsync(addition.TenantId, cancellationToken);
            await db.Numbers.Where(n => n.Id == addition.NumberId && n.TenantId == addition.TenantId)
                .ExecuteUpdateAsync(n => n
                    .SetProperty(x => x.TotalMessages, x => x.TotalMessages + addition.Messages)
                    .SetProperty(x => x.TotalLeads, x => x.TotalLeads + addition.Leads), cancellationToken);
        }
    }

    /// <summary>Sends <paramref name="payload"/> on Postgres' <paramref name="channel"/> when (and only if) the caller's transaction commits.</summary>
    public static Task NotifyAsync(this RoutingDbContext db, string channel, string payload, CancellationToken cancellationToken) =>
        db.Database.ExecuteSqlAsync($"SELECT pg_notify({channel}, {payload})", cancellationToken);

    /// <summary>
    /// Reads the tenant and locks its row until the transaction ends, so limit checks of concurrent
    /// requests for the same tenant run one after another (count, then insert) and cannot both pass.
    /// </summary>
    public static async Task<Tenant?> LockTenantAsync(this RoutingDbContext db, string tenantId, CancellationToken cancellationToken)
    {
        // Not composed (no LIMIT wrapped around it): the statement stays exactly as written. Names from the EF model; the value is a parameter.
        var sql = $"SELECT * FROM {db.TableOf<Tenant>()} WHERE {db.ColumnOf<Tenant>(t => t.Id)} = {{0}} FOR UPDATE";
        return (await db.Tenants.FromSqlRaw(sql, tenantId).ToListAsync(cancellationToken)).SingleOrDefault();
    }
}
