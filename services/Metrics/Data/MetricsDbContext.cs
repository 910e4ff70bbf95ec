using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Model;

namespace SafeNotify.Crm.Metrics.Data;

public sealed class MetricsDbContext(DbContextOptions<MetricsDbContext> options) : MessagingDbContext(options, Schema)
{
    public const string Schema = "metrics";

    public DbSet<TenantClock> Tenants => Set<TenantClock>();
    public DbSet<TenantAgent> Agents => Set<TenantAgent>();
    public DbSet<MetricFact> Facts => Set<MetricFact>();
    public DbSet<ConversationFacts> Conversations => Set<ConversationFacts>();
    public DbSet<LeadFacts> Leads => Set<LeadFacts>();
    public DbSet<DailyRollup> Rollups => Set<DailyRollup>();
    public DbSet<UnroutedFact> Unrouted => Set<UnroutedFact>();
    public DbSet<TenantNumber> Numbers => Set<TenantNumber>();
    public DbSet<RemovedTenant> RemovedTenants => Set<RemovedTenant>();

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TenantClock>(tenant =>
        {
            tenant.ToTable("tenant_clocks");
            tenant.HasKey(t => t.TenantId);
        });

        modelBuilder.Entity<TenantAgent>(agent =>
        {
            agent.ToTable("tenant_agents");
            agent.HasKey(a => new { a.TenantId, a.AgentId });
        });

        modelBuilder.Entity<MetricFact>(fact =>
        {
            fact.ToTable("metric_facts");
            fact.HasKey(f => f.Id);
            fact.Property(f => f.Id).UseIdentityAlwaysColumn();
            fact.HasIndex(f => new { f.TenantId, f.Kind, f.Key }).IsUnique();
            fact.HasIndex(f => new { f.TenantId, f.ConversationId });
            fact.Property(f => f.Kind).HasConversion<string>().HasMaxLength(30);
            fact.Property(f => f.Cost).HasPrecision(18, 6);
        });

        modelBuilder.Entity<ConversationFacts>(conversation =>
        {
            conversation.ToTable("conversation_facts");
            conversation.HasKey(c => new { c.TenantId, c.ConversationId });
            conversation.Property(c => c.ConversionValue).HasPrecision(18, 2);
        });

        modelBuilder.Entity<LeadFacts>(lead =>
        {
            lead.ToTable("lead_facts");
            lead.HasKey(l => new { l.TenantId, l.LeadId });
            lead.Ignore(l => l.CreatedSeen);
        });

        modelBuilder.Entity<UnroutedFact>(unrouted =>
        {
            unrouted.ToTable("unrouted_facts");
            unrouted.HasKey(u => u.InboundMessageId);
            unrouted.HasIndex(u => u.Day);
            unrouted.HasIndex(u => u.TenantId);
        });

        modelBuilder.Entity<TenantNumber>(number =>
        {
            number.ToTable("tenant_numbers");
            number.HasKey(n => new { n.TenantId, n.NumberId });
        });

        modelBuilder.Entity<RemovedTenant>(removed =>
        {
            removed.ToTable("removed_tenants");
            removed.HasKey(r => r.TenantId);
        });

        modelBuilder.Entity<DailyRollup>(rollup =>
        {
            rollup.ToTable("daily_rollups");
            rollup.HasKey(r => new { r.TenantId, r.DimensionKind, r.DimensionId, r.Day });
            rollup.Property(r => r.DimensionKind).HasConversion<string>().HasMaxLength(10);
            rollup.Property(r => r.EstimatedAiCost).HasPrecision(18, 6);
            rollup.Property(r => r.Revenue).HasPrecision(18, 2);
            rollup.Property(r => r.AiHandledRevenue).HasPrecision(18, 2);
            rollup.Ignore(r => r.IsZero);
        });
    }
}
