using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;

namespace SafeNotify.Crm.Metrics.Services;

/// <summary>Stores facts and folds them into the tenant's day, in the consumer's transaction.</summary>
public sealed class FactRecorder(MetricsDbContext db)
{
    public const string DefaultTimezone = "America/Bogota";

    public async Task RecordAsync(string tenantId, DateTimeOffset occurredAt, CancellationToken cancellationToken, params (FactKind Kind, decimal Amount)[] facts)
    {
        var clock = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.TenantId == tenantId, cancellationToken);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(clock?.Timezone ?? DefaultTimezone);
        var day = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(occurredAt, zone).DateTime);

        var daily = await db.Daily.FirstOrDefaultAsync(d => d.TenantId == tenantId && d.Day == day, cancellationToken);
        if (daily is null)
        {
            daily = new DailyMetrics { TenantId = tenantId, Day = day };
            db.Daily.Add(daily);
        }

        foreach (var (kind, amount) in facts)
        {
            db.Facts.Add(new MetricFact { TenantId = tenantId, Kind = kind, OccurredAt = occurredAt, Day = day, Amount = amount });
            daily.Apply(kind, amount);
        }
    }
}
