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

        var delta = new DailyMetrics { TenantId = tenantId, Day = day };
        foreach (var (kind, amount) in facts)
        {
            db.Facts.Add(new MetricFact { TenantId = tenantId, Kind = kind, OccurredAt = occurredAt, Day = day, Amount = amount });
            delta.Apply(kind, amount);
        }

        await db.SaveChangesAsync(cancellationToken);

        // Consumers run concurrently and fold facts into the same row: one atomic upsert adds this delta to
        // whatever the others committed (no lost increments, no race to create the day's row), and comes last in
        // the transaction so the row stays locked only until the commit right after it.
        await db.Database.ExecuteSqlAsync($"""
            INSERT INTO metrics.daily_metrics (tenant_id, day, new_conversations, new_leads, total_messages, customer_messages,
                ai_messages, human_messages, handoffs, total_tokens_used, estimated_ai_cost)
            VALUES ({tenantId}, {day}, {delta.NewConversations}, {delta.NewLeads}, {delta.TotalMessages}, {delta.CustomerMessages},
                {delta.AiMessages}, {delta.HumanMessages}, {delta.Handoffs}, {delta.TotalTokensUsed}, {delta.EstimatedAiCost})
            ON CONFLICT (tenant_id, day) DO UPDATE SET
                new_conversations = daily_metrics.new_conversations + excluded.new_conversations,
                new_leads = daily_metrics.new_leads + excluded.new_leads,
                total_messages = daily_metrics.total_messages + excluded.total_messages,
                customer_messages = daily_metrics.customer_messages + excluded.customer_messages,
                ai_messages = daily_metrics.ai_messages + excluded.ai_messages,
                human_messages = daily_metrics.human_messages + excluded.human_messages,
                handoffs = daily_metrics.handoffs + excluded.handoffs,
                total_tokens_used = daily_metrics.total_tokens_used + excluded.total_tokens_used,
                estimated_ai_cost = daily_metrics.estimated_ai_cost + excluded.estimated_ai_cost
            """, cancellationToken);
    }
}
