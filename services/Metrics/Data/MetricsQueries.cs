using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Metrics.Model;

namespace SafeNotify.Crm.Metrics.Data;

/// <summary>Sums over every tenant's rollups of one day.</summary>
public sealed record GlobalDay(DateOnly Day, long Customer, long Ai, long Human, long Conversations, long Tokens, decimal Cost, decimal Revenue,
    decimal AiRevenue, long Ratings, long Satisfaction);

/// <summary>Messages no tenant answered, on one day.</summary>
public sealed record UnroutedDay(DateOnly Day, long Messages);

/// <summary>The stock figures' totals before the first day asked for.</summary>
public sealed record StockBefore(int Opened, int Completed, int Leads);

/// <summary>The sums the metrics API reads from the rollups.</summary>
public static class MetricsQueries
{
    /// <summary>A dimension's conversations opened and completed and leads gained before <paramref name="firstDay"/>.</summary>
    public static async Task<StockBefore> StockBeforeAsync(this MetricsDbContext db, string tenantId, DimensionKind kind, string dimensionId,
        DateOnly firstDay, CancellationToken cancellationToken) =>
        await db.Rollups.AsNoTracking()
            .Where(r => r.TenantId == tenantId && r.DimensionKind == kind && r.DimensionId == dimensionId && r.Day < firstDay)
            .GroupBy(r => 1)
            .Select(g => new StockBefore(g.Sum(r => r.NewConversations), g.Sum(r => r.CompletedConversations), g.Sum(r => r.NewLeads)))
            .FirstOrDefaultAsync(cancellationToken)
        ?? new StockBefore(0, 0, 0);

    /// <summary>Every tenant's figures (as a whole) summed per day from <paramref name="low"/> to <paramref name="high"/>.</summary>
    public static Task<List<GlobalDay>> TenantDaysAsync(this MetricsDbContext db, DateOnly low, DateOnly high, CancellationToken cancellationToken) =>
        db.Rollups.AsNoTracking()
            .Where(r => r.DimensionKind == DimensionKind.Tenant && r.Day >= low && r.Day <= high)
            .GroupBy(r => r.Day)
            .Select(g => new GlobalDay(g.Key, g.Sum(r => (long)r.CustomerMessages), g.Sum(r => (long)r.AiMessages), g.Sum(r => (long)r.HumanMessages),
                g.Sum(r => (long)r.NewConversations), g.Sum(r => r.TotalTokensUsed), g.Sum(r => r.EstimatedAiCost), g.Sum(r => r.Revenue),
                g.Sum(r => r.AiHandledRevenue), g.Sum(r => (long)r.SatisfactionRatings), g.Sum(r => (long)r.SatisfactionSum)))
            .ToListAsync(cancellationToken);

    /// <summary>Messages no tenant answered, counted per day from <paramref name="low"/> to <paramref name="high"/>.</summary>
    public static Task<List<UnroutedDay>> UnroutedDaysAsync(this MetricsDbContext db, DateOnly low, DateOnly high, CancellationToken cancellationToken) =>
        db.Unrouted.AsNoTracking()
            .Where(u => u.Day >= low && u.Day <= high)
            .GroupBy(u => u.Day)
            .Select(g => new UnroutedDay(g.Key, g.LongCount()))
            .ToListAsync(cancellationToken);
}
