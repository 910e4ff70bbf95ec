using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.Metrics.Services;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Metrics.Apis;

public enum MetricsPeriod
{
    Daily,
    Weekly,
    Monthly,
}

public sealed record MetricsRow(
    MetricsPeriod Period, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, int NewConversations, int NewLeads,
    int TotalMessages, int CustomerMessages, int AiMessages, int HumanMessages, int Handoffs, long TotalTokensUsed, decimal EstimatedAiCost);

public sealed record GlobalMetrics(int Tenants, int TenantsWithCrm, int TotalMessages, int AiMessages, long TotalTokensUsed, decimal EstimatedAiCost);

/// <summary>The tenant's figures by day, ISO week or month, in its own time zone.</summary>
public static class MetricsApi
{
    public static WebApplication MapMetricsApi(this WebApplication app)
    {
        app.MapGet("/api/metrics", Get).WithTags("Metrics").RequireTenant()
            .WithName("GetMetrics").WithSummary("The tenant's CRM metrics per whole period overlapping from-to (default: daily, the last 30 days)");
        app.MapGet("/api/admin/metrics", GetGlobal).WithTags("Admin").RequireOperator()
            .WithName("GetGlobalMetrics").WithSummary("SafeNotify-wide figures");
        return app;
    }

    private static async Task<Results<Ok<PagedList<MetricsRow>>, ValidationProblem>> Get(
        HttpContext context, MetricsDbContext db, TimeProvider time, string? period, string? from, string? to, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var clock = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.TenantId == tenantId, cancellationToken);
        var zone = TimeZoneInfo.FindSystemTimeZoneById(clock?.Timezone ?? FactRecorder.DefaultTimezone);
        var today = DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(time.GetUtcNow(), zone).DateTime);

        var errors = new ValidationErrors();
        var grouping = MetricsPeriod.Daily;
        errors.Check(period is null || TryParsePeriod(period, out grouping), "period", "DAILY, WEEKLY or MONTHLY.");
        var first = ParseDate(from, today.AddDays(-29), "from", errors);
        var last = ParseDate(to, today, "to", errors);
        if (first is not null && last is not null) // a bad date is reported as itself, not as a bad range too
        {
            errors.Check(first <= last && last.Value.DayNumber - first.Value.DayNumber <= 3660, "to", "On or after 'from', at most ten years later.");
        }

        if (errors.Any || first is null || last is null)
        {
            return errors.ToProblem();
        }

        // Every row is a whole week or month: a row labelled with its period never holds only part of it.
        var firstDay = PeriodStart(first.Value, grouping);
        var lastDay = PeriodEnd(PeriodStart(last.Value, grouping), grouping).AddDays(-1);
        var days = await db.Daily.AsNoTracking().Where(d => d.TenantId == tenantId && d.Day >= firstDay && d.Day <= lastDay).ToListAsync(cancellationToken);
        var rows = days
            .GroupBy(d => PeriodStart(d.Day, grouping))
            .OrderBy(g => g.Key)
            .Select(g => new MetricsRow(grouping, Local(g.Key, zone), Local(PeriodEnd(g.Key, grouping), zone),
                g.Sum(d => d.NewConversations), g.Sum(d => d.NewLeads), g.Sum(d => d.TotalMessages), g.Sum(d => d.CustomerMessages),
                g.Sum(d => d.AiMessages), g.Sum(d => d.HumanMessages), g.Sum(d => d.Handoffs), g.Sum(d => d.TotalTokensUsed), g.Sum(d => d.EstimatedAiCost)))
            .ToList();
        return TypedResults.Ok(new PagedList<MetricsRow>(rows, 1, rows.Count, rows.Count));
    }

    private static async Task<Ok<GlobalMetrics>> GetGlobal(MetricsDbContext db, CancellationToken cancellationToken)
    {
        var tenants = await db.Tenants.CountAsync(cancellationToken);
        var withCrm = await db.Tenants.CountAsync(t => t.CrmEnabled, cancellationToken);
        var totals = await db.Daily.GroupBy(_ => 1).Select(g => new
        {
            Messages = g.Sum(d => d.TotalMessages),
            Ai = g.Sum(d => d.AiMessages),
            Tokens = g.Sum(d => d.TotalTokensUsed),
            Cost = g.Sum(d => d.EstimatedAiCost),
        }).FirstOrDefaultAsync(cancellationToken);
        return TypedResults.Ok(new GlobalMetrics(tenants, withCrm, totals?.Messages ?? 0, totals?.Ai ?? 0, totals?.Tokens ?? 0, totals?.Cost ?? 0));
    }

    /// <summary>The date given, or <paramref name="fallback"/> when none is; null (and an error) when it is not a date.</summary>
    private static DateOnly? ParseDate(string? text, DateOnly fallback, string field, ValidationErrors errors)
    {
        if (text is null)
        {
            return fallback;
        }

        var valid = DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date);
        errors.Check(valid, field, "A date like 2026-11-25.");
        return valid ? date : null;
    }

    /// <summary>A period's name in any case; unlike Enum.TryParse, not a number ("1") or a list ("DAILY,WEEKLY").</summary>
    private static bool TryParsePeriod(string text, out MetricsPeriod period)
    {
        foreach (var candidate in Enum.GetValues<MetricsPeriod>())
        {
            if (string.Equals(candidate.ToString(), text.Trim(), StringComparison.OrdinalIgnoreCase))
            {
                period = candidate;
                return true;
            }
        }

        period = MetricsPeriod.Daily;
        return false;
    }

    private static DateOnly PeriodStart(DateOnly day, MetricsPeriod period) => period switch
    {
        MetricsPeriod.Weekly => day.AddDays(-(((int)day.DayOfWeek + 6) % 7)), // ISO weeks start on Monday
        MetricsPeriod.Monthly => new DateOnly(day.Year, day.Month, 1),
        _ => day,
    };

    private static DateOnly PeriodEnd(DateOnly start, MetricsPeriod period) => period switch
    {
        MetricsPeriod.Weekly => start.AddDays(7),
        MetricsPeriod.Monthly => start.AddMonths(1),
        _ => start.AddDays(1),
    };

    /// <summary>Local midnight of <paramref name="day"/> in the tenant's zone, with its offset.</summary>
    private static DateTimeOffset Local(DateOnly day, TimeZoneInfo zone)
    {
        var midnight = day.ToDateTime(TimeOnly.MinValue);
        return new DateTimeOffset(midnight, zone.GetUtcOffset(midnight));
    }
}
