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

        // Consumers run concurrently and fold facts into the same row: lock it, so each adds to the counts the
        // previous one committed (a plain read-modify-write loses increments). Two consumers creating the day's
        // row at once collide on its key, and the retry finds the row.
        var locked = await db.Daily
            .FromSql($"SELECT * FROM metrics.daily_metrics WHERE tenant_id = {tenantId} AND day = {day} FOR UPDATE")
            .ToListAsync(cancellationToken);
        var daily = locked.SingleOrDefault();
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
