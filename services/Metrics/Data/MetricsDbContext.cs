using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Model;

namespace SafeNotify.Crm.Metrics.Data;

public sealed class MetricsDbContext(DbContextOptions<MetricsDbContext> options) : ServiceDbContext(options, Schema)
{
    public const string Schema = "metrics";

    public DbSet<TenantClock> Tenants => Set<TenantClock>();
    public DbSet<MetricFact> Facts => Set<MetricFact>();
    public DbSet<DailyMetrics> Daily => Set<DailyMetrics>();

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<TenantClock>(tenant =>
        {
            tenant.ToTable("tenant_clocks");
            tenant.HasKey(t => t.TenantId);
        });

        modelBuilder.Entity<MetricFact>(fact =>
        {
            fact.ToTable("metric_facts");
            fact.HasKey(f => f.Id);
            fact.Property(f => f.Id).UseIdentityAlwaysColumn();
            fact.HasIndex(f => new { f.TenantId, f.Day });
            fact.Property(f => f.Kind).HasConversion<string>().HasMaxLength(30);
            fact.Property(f => f.Amount).HasPrecision(18, 6);
        });

        modelBuilder.Entity<DailyMetrics>(daily =>
        {
            daily.ToTable("daily_metrics");
            daily.HasKey(d => new { d.TenantId, d.Day });
            daily.Property(d => d.EstimatedAiCost).HasPrecision(18, 6);
        });
    }
}
