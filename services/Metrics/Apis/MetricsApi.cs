using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.Metrics.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Metrics.Apis;

public enum MetricsPeriod
{
    Daily,
    Weekly,
    Monthly,
}

/// <summary>
/// One period's figures (seed "CRMMetrics") plus what shows the AI's worth. Times are in seconds; a ratio, average or
/// percentile with nothing to divide by is null.
/// </summary>
public sealed record MetricsRow(
    MetricsPeriod Period,
    DateTimeOffset PeriodStart,
    DateTimeOffset PeriodEnd,
    int TotalConversations,
    int ActiveConversations,
    int NewConversations,
    int CompletedConversations,
    int TotalLeads,
    int NewLeads,
    int QualifiedLeads,
    int ConvertedLeads,
    int TotalMessages,
    int CustomerMessages,
    int AiMessages,
    int HumanMessages,
    double? AvgResponseTime,
    decimal TotalRevenue,
    decimal? AvgConversionValue,
    double? SatisfactionAvg,
    long TotalTokensUsed,
    decimal EstimatedAiCost,
    int Handoffs,
    int AiResolvedConversations,
    double? AiResolutionRate,
    double? HandoffRate,
    double? FirstResponseTimeP50,
    double? FirstResponseTimeP90,
    decimal? AiCostPerConversation,
    decimal? AiCostPerConvertedLead,
    decimal AiHandledRevenue,
    int Conversions,
    int SatisfactionRatings);

/// <summary>
/// SafeNotify-wide figures. Tenants, CRM adoption and agents are as they are now; every other figure sums the days
/// from-to (each tenant's own days; no bounds: all time). <see cref="MessagesProcessed"/> is every message SafeNotify
/// handled: customers' messages routed to a tenant, the AI's and employees' replies, and the
/// <see cref="UnroutedMessages"/> no tenant answered (unknown number, number over its plan or inactive, CRM off).
/// With a period, <see cref="Periods"/> holds the same sums per day, ISO week or month that has any.
/// </summary>
public sealed record GlobalMetrics(
    int Tenants,
    int TenantsWithCrm,
    double? CrmAdoption,
    int Agents,
    double? AgentsPerTenant,
    long TotalMessages,
    long CustomerMessages,
    long AiMessages,
    long HumanMessages,
    long Conversations,
    long TotalTokensUsed,
    decimal EstimatedAiCost,
    decimal TotalRevenue,
    decimal AiHandledRevenue,
    double? SatisfactionAvg,
    long SatisfactionRatings)
{
    public long UnroutedMessages { get; init; }
    public long MessagesProcessed { get; init; }

    /// <summary>The first and last day counted (null: unbounded), and the grouping asked for (null: none).</summary>
    public DateOnly? From { get; init; }

    public DateOnly? To { get; init; }
    public MetricsPeriod? Period { get; init; }
    public IReadOnlyList<GlobalPeriodRow> Periods { get; init; } = [];
}

/// <summary>SafeNotify-wide sums of one day, ISO week or month (<see cref="PeriodEnd"/> is the next period's first day).</summary>
public sealed record GlobalPeriodRow(
    MetricsPeriod Period,
    DateOnly PeriodStart,
    DateOnly PeriodEnd,
    long MessagesProcessed,
    long TotalMessages,
    long CustomerMessages,
    long AiMessages,
    long HumanMessages,
    long UnroutedMessages,
    long Conversations,
    long TotalTokensUsed,
    decimal EstimatedAiCost,
    decimal TotalRevenue,
    decimal AiHandledRevenue,
    double? SatisfactionAvg,
    long SatisfactionRatings);

public sealed record RebuildResult(int Tenants, int Rows);

/// <summary>The tenant's figures by day, ISO week or month, in its own time zone; SafeNotify-wide figures for operators.</summary>
public static class MetricsApi
{
    public static WebApplication MapMetricsApi(this WebApplication app)
    {
        app.MapGet("/api/metrics", (HttpContext context, MetricsDbContext db, TimeProvider time, string? period, string? from, string? to, CancellationToken cancellationToken) =>
                Get(context, db, time, DimensionKind.Tenant, "", period, from, to, cancellationToken))
            .WithTags("Metrics").RequireTenant(TenantRole.Admin)
            .WithName("GetMetrics").WithSummary("The tenant's CRM metrics per whole period overlapping from-to (default: daily, the last 30 days)");
        app.MapGet("/api/metrics/numbers/{numberId}", (HttpContext context, MetricsDbContext db, TimeProvider time, string numberId, string? period, string? from, string? to, CancellationToken cancellationToken) =>
                Get(context, db, time, DimensionKind.Number, numberId, period, from, to, cancellationToken))
            .WithTags("Metrics").RequireTenant(TenantRole.Admin)
            .WithName("GetNumberMetrics").WithSummary("The same figures for one of the tenant's WhatsApp numbers");
        app.MapGet("/api/metrics/agents/{agentId}", (HttpContext context, MetricsDbContext db, TimeProvider time, string agentId, string? period, string? from, string? to, CancellationToken cancellationToken) =>
                Get(context, db, time, DimensionKind.Agent, agentId, period, from, to, cancellationToken))
            .WithTags("Metrics").RequireTenant(TenantRole.Admin)
            .WithName("GetAgentMetrics").WithSummary("The same figures for one of the tenant's AI agents (the conversations it opened with)");
        app.MapGet("/api/admin/metrics", GetGlobal).WithTags("Admin").RequireOperator()
            .WithName("GetGlobalMetrics").WithSummary("SafeNotify-wide figures over from-to (default: all time), per period when one is asked for");
        app.MapPost("/api/admin/metrics/rebuild", Rebuild).WithTags("Admin").RequireOperator()
            .WithName("RebuildMetrics").WithSummary("Rebuilds one tenant's (tenantId=...) or every tenant's rollups from the stored facts");
        return app;
    }

    private static async Task<Results<Ok<PagedList<MetricsRow>>, ValidationProblem, ProblemHttpResult>> Get(
        HttpContext context, MetricsDbContext db, TimeProvider time, DimensionKind kind, string dimensionId,
        string? period, string? from, string? to, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        // Another tenant's number or agent (or an id nobody has) is a 404, never an empty 200 that would tell the two apart.
        if (kind != DimensionKind.Tenant && !await IsTenantsAsync(db, tenantId, kind, dimensionId, cancellationToken))
        {
            return Problems.NotFound(kind == DimensionKind.Number ? "Number" : "Agent");
        }

        var timezone = await db.Tenants.AsNoTracking().Where(t => t.TenantId == tenantId).Select(t => t.Timezone).FirstOrDefaultAsync(cancellationToken);
        var zone = FactRecorder.Zone(timezone);
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
        var dimension = db.Rollups.AsNoTracking().Where(r => r.TenantId == tenantId && r.DimensionKind == kind && r.DimensionId == dimensionId);
        var days = await dimension.Where(r => r.Day >= firstDay && r.Day <= lastDay).ToListAsync(cancellationToken);
        if (days.Count == 0)
        {
            return TypedResults.Ok(new PagedList<MetricsRow>([], 1, 0, 0));
        }

        // Stock figures (open conversations, leads so far) continue from everything before the first day.
        var before = await db.StockBeforeAsync(tenantId, kind, dimensionId, firstDay, cancellationToken);
        var open = before.Opened - before.Completed;
        var leads = before.Leads;

        var rows = new List<MetricsRow>();
        foreach (var group in days.GroupBy(d => PeriodStart(d.Day, grouping)).OrderBy(g => g.Key))
        {
            var sum = new Tally();
            foreach (var day in group)
            {
                sum.Add(day);
            }

            var openAtStart = open;
            open += sum.NewConversations - sum.CompletedConversations;
            leads += sum.NewLeads;
            rows.Add(Row(grouping, Local(group.Key, zone), Local(PeriodEnd(group.Key, grouping), zone), sum, openAtStart, open, leads));
        }

        return TypedResults.Ok(new PagedList<MetricsRow>(rows, 1, rows.Count, rows.Count));
    }

    /// <summary>
    /// Whether Metrics knows the number or agent as one of the tenant's: an agent from Agent's events, a number from
    /// Routing's (until it is deleted), either from the figures recorded for it (a deleted one keeps its history).
    /// </summary>
    private static async Task<bool> IsTenantsAsync(MetricsDbContext db, string tenantId, DimensionKind kind, string dimensionId, CancellationToken cancellationToken) =>
        (kind == DimensionKind.Agent && await db.Agents.AnyAsync(a => a.TenantId == tenantId && a.AgentId == dimensionId, cancellationToken))
        || (kind == DimensionKind.Number && await db.Numbers.AnyAsync(n => n.TenantId == tenantId && n.NumberId == dimensionId && !n.Deleted, cancellationToken))
        || await db.Rollups.AnyAsync(r => r.TenantId == tenantId && r.DimensionKind == kind && r.DimensionId == dimensionId, cancellationToken);

    private static MetricsRow Row(MetricsPeriod period, DateTimeOffset start, DateTimeOffset end, Tally t, int openAtStart, int openAtEnd, int leads) => new(
        period, start, end,
        TotalConversations: openAtStart + t.NewConversations,
        ActiveConversations: Math.Max(openAtEnd, 0),
        t.NewConversations, t.CompletedConversations,
        TotalLeads: leads, t.NewLeads, t.QualifiedLeads, t.ConvertedLeads,
        TotalMessages: t.CustomerMessages + t.AiMessages + t.HumanMessages, t.CustomerMessages, t.AiMessages, t.HumanMessages,
        AvgResponseTime: t.FirstResponses == 0 ? null : Math.Round(t.FirstResponseMsSum / 1000.0 / t.FirstResponses, 3),
        TotalRevenue: t.Revenue,
        AvgConversionValue: t.Conversions == 0 ? null : Math.Round(t.Revenue / t.Conversions, 2),
        SatisfactionAvg: t.SatisfactionRatings == 0 ? null : Math.Round((double)t.SatisfactionSum / t.SatisfactionRatings, 3),
        t.TotalTokensUsed, t.EstimatedAiCost,
        Handoffs: t.HandedOffConversations,
        t.AiResolvedConversations,
        AiResolutionRate: t.CompletedConversations == 0 ? null : Math.Round((double)t.AiResolvedConversations / t.CompletedConversations, 4),
        HandoffRate: t.NewConversations == 0 ? null : Math.Round((double)t.HandedOffConversations / t.NewConversations, 4),
        FirstResponseTimeP50: ResponseHistogram.Percentile(t.FirstResponseHistogram, 0.5),
        FirstResponseTimeP90: ResponseHistogram.Percentile(t.FirstResponseHistogram, 0.9),
        AiCostPerConversation: t.NewConversations == 0 ? null : Math.Round(t.EstimatedAiCost / t.NewConversations, 6),
        AiCostPerConvertedLead: t.ConvertedLeads == 0 ? null : Math.Round(t.EstimatedAiCost / t.ConvertedLeads, 6),
        t.AiHandledRevenue, t.Conversions, t.SatisfactionRatings);

    private static async Task<Results<Ok<GlobalMetrics>, ValidationProblem>> GetGlobal(
        MetricsDbContext db, string? period, string? from, string? to, CancellationToken cancellationToken)
    {
        // The same checks as the tenant's figures; no bound given means all time, as before periods existed.
        var errors = new ValidationErrors();
        var grouping = MetricsPeriod.Daily;
        errors.Check(period is null || TryParsePeriod(period, out grouping), "period", "DAILY, WEEKLY or MONTHLY.");
        var first = from is null ? null : ParseDate(from, default, "from", errors);
        var last = to is null ? null : ParseDate(to, default, "to", errors);
        if (first is not null && last is not null)
        {
            errors.Check(first <= last && last.Value.DayNumber - first.Value.DayNumber <= 3660, "to", "On or after 'from', at most ten years later.");
        }

        if (errors.Any || (from is not null && first is null) || (to is not null && last is null))
        {
            return errors.ToProblem();
        }

        MetricsPeriod? grouped = period is null ? null : grouping;
        if (grouped is { } whole) // every row a whole week or month, as for tenants
        {
            first = first is { } f ? PeriodStart(f, whole) : null;
            last = last is { } l ? PeriodEnd(PeriodStart(l, whole), whole).AddDays(-1) : null;
        }

        // SafeNotify-wide figures sum every tenant's rows: the one read of this API that crosses tenants.
        return TypedResults.Ok(await db.AcrossTenantsAsync(() => GlobalAsync(db, first, last, grouped, cancellationToken), cancellationToken));
    }

    private static async Task<GlobalMetrics> GlobalAsync(MetricsDbContext db, DateOnly? first, DateOnly? last, MetricsPeriod? grouping, CancellationToken cancellationToken)
    {
        var tenants = await db.Tenants.CountAsync(cancellationToken);
        var withCrm = await db.Tenants.CountAsync(t => t.CrmEnabled, cancellationToken);
        var agents = await db.Agents.CountAsync(a => !a.Deleted, cancellationToken);
        var low = first ?? new DateOnly(1900, 1, 1);
        var high = last ?? new DateOnly(9999, 1, 1);
        var days = await db.TenantDaysAsync(low, high, cancellationToken);
        var unrouted = await db.UnroutedDaysAsync(low, high, cancellationToken);

        var byDay = days.ToDictionary(d => d.Day);
        var unroutedByDay = unrouted.ToDictionary(u => u.Day, u => u.Messages);
        GlobalPeriodRow Sum(MetricsPeriod period, DateOnly start, DateOnly end, IEnumerable<DateOnly> keys)
        {
            var list = keys.ToList();
            var d = list.Select(k => byDay.GetValueOrDefault(k)).OfType<GlobalDay>().ToList();
            var (customer, ai, human) = (d.Sum(x => x.Customer), d.Sum(x => x.Ai), d.Sum(x => x.Human));
            var unanswered = list.Sum(k => unroutedByDay.GetValueOrDefault(k));
            var ratings = d.Sum(x => x.Ratings);
            return new GlobalPeriodRow(period, start, end,
                MessagesProcessed: customer + ai + human + unanswered,
                TotalMessages: customer + ai + human, customer, ai, human, unanswered,
                d.Sum(x => x.Conversations), d.Sum(x => x.Tokens), d.Sum(x => x.Cost), d.Sum(x => x.Revenue), d.Sum(x => x.AiRevenue),
                SatisfactionAvg: ratings == 0 ? null : Math.Round((double)d.Sum(x => x.Satisfaction) / ratings, 3),
                ratings);
        }

        var allDays = byDay.Keys.Union(unroutedByDay.Keys).ToList();
        var total = Sum(MetricsPeriod.Daily, default, default, allDays);
        var periods = grouping is { } g
            ? allDays.GroupBy(day => PeriodStart(day, g)).OrderBy(p => p.Key).Select(p => Sum(g, p.Key, PeriodEnd(p.Key, g), p)).ToList()
            : [];
        return new GlobalMetrics(
            tenants, withCrm,
            CrmAdoption: tenants == 0 ? null : Math.Round((double)withCrm / tenants, 4),
            agents,
            AgentsPerTenant: tenants == 0 ? null : Math.Round((double)agents / tenants, 3),
            total.TotalMessages, total.CustomerMessages, total.AiMessages, total.HumanMessages, total.Conversations, total.TotalTokensUsed,
            total.EstimatedAiCost, total.TotalRevenue, total.AiHandledRevenue, total.SatisfactionAvg, total.SatisfactionRatings)
        {
            UnroutedMessages = total.UnroutedMessages,
            MessagesProcessed = total.MessagesProcessed,
            From = first,
            To = last,
            Period = grouping,
            Periods = periods,
        };
    }

    private static async Task<Results<Ok<RebuildResult>, ProblemHttpResult>> Rebuild(
        RollupRebuilder rebuilder, string? tenantId, CancellationToken cancellationToken)
    {
        var tenants = await rebuilder.TenantsAsync(cancellationToken);
        if (tenantId is not null && !tenants.Contains(tenantId))
        {
            return Problems.NotFound("Tenant");
        }

        var rows = 0;
        foreach (var tenant in tenantId is null ? tenants : [tenantId])
        {
            rows += await rebuilder.RebuildAsync(tenant, cancellationToken);
        }

        return TypedResults.Ok(new RebuildResult(tenantId is null ? tenants.Count : 1, rows));
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

    public static DateOnly PeriodStart(DateOnly day, MetricsPeriod period) => period switch
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
