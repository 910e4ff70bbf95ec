using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Npgsql;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Metrics.Data;

/// <summary>What recording facts reads, locks and writes in Metrics' schema.</summary>
public static class FactStore
{
    /// <summary>The tenant's time zone (null: not known yet) and whether it was removed, in one round trip.</summary>
    public static Task<TenantState> TenantStateAsync(this MetricsDbContext db, string tenantId, CancellationToken cancellationToken)
    {
        // The table and column names come from the EF model, never from input; the value is a parameter.
        var sql = $$"""
            SELECT (SELECT {{db.ColumnOf<TenantClock>(t => t.Timezone)}} FROM {{db.TableOf<TenantClock>()}} WHERE {{db.ColumnOf<TenantClock>(t => t.TenantId)}} = {0}) AS timezone,
                   EXISTS (SELECT 1 FROM {{db.TableOf<RemovedTenant>()}} WHERE {{db.ColumnOf<RemovedTenant>(r => r.TenantId)}} = {0}) AS removed
            """;
        return db.Database.SqlQueryRaw<TenantState>(sql, tenantId).SingleAsync(cancellationToken);
    }

    /// <summary>The conversation's facts, created empty if Metrics knew nothing of it, locked until the transaction ends.</summary>
    public static async Task<ConversationFacts> LockConversationFactsAsync(this MetricsDbContext db, string tenantId, string conversationId,
        CancellationToken cancellationToken)
    {
        await db.InsertIfAbsentAsync(ConversationFacts.Unknown(tenantId, conversationId), cancellationToken);
        var sql = $"SELECT * FROM {db.TableOf<ConversationFacts>()} WHERE {db.ColumnOf<ConversationFacts>(c => c.TenantId)} = {{0}} "
            + $"AND {db.ColumnOf<ConversationFacts>(c => c.ConversationId)} = {{1}} FOR UPDATE";
        return await db.Conversations.FromSqlRaw(sql, tenantId, conversationId).SingleAsync(cancellationToken);
    }

    /// <summary>The lead's facts, created empty if Metrics knew nothing of it, locked until the transaction ends.</summary>
    public static async Task<LeadFacts> LockLeadFactsAsync(this MetricsDbContext db, string tenantId, string leadId, CancellationToken cancellationToken)
    {
        await db.InsertIfAbsentAsync(LeadFacts.Unknown(tenantId, leadId), cancellationToken);
        var sql = $"SELECT * FROM {db.TableOf<LeadFacts>()} WHERE {db.ColumnOf<LeadFacts>(l => l.TenantId)} = {{0}} "
            + $"AND {db.ColumnOf<LeadFacts>(l => l.LeadId)} = {{1}} FOR UPDATE";
        return await db.Leads.FromSqlRaw(sql, tenantId, leadId).SingleAsync(cancellationToken);
    }

    /// <summary>
    /// Adds <paramref name="rows"/> to the tenant's daily rollups in one upsert: consumers run concurrently and add to the
    /// same rows, so each delta is added to whatever the others committed (no lost increments, no race to create a row).
    /// The caller gives the rows in key order, so two transactions lock them in the same order.
    /// </summary>
    public static Task AddToRollupsAsync(this MetricsDbContext db, string tenantId, IReadOnlyList<KeyValuePair<RollupKey, Tally>> rows,
        CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return Task.CompletedTask;
        }

        var figures = Figures(db);
        var histogram = db.ColumnOf<DailyRollup>(r => r.FirstResponseHistogram);
        var parameters = new List<DbParameter>();
        string P(object value)
        {
            parameters.Add(new NpgsqlParameter($"p{parameters.Count}", value));
            return "@" + parameters[^1].ParameterName;
        }

        var values = rows.Select(row => "(" + string.Join(", ",
            new[] { P(tenantId), P(row.Key.Day), P(row.Key.Kind.ToString()), P(row.Key.Id) }
                .Concat(figures.Select(f => P(f.Value(row.Value))))
                .Append(P(row.Value.FirstResponseHistogram))) + ")");
        var sql = $"""
            INSERT INTO {db.TableOf<DailyRollup>()} AS stored ({db.ColumnOf<DailyRollup>(r => r.TenantId)}, {db.ColumnOf<DailyRollup>(r => r.Day)},
                {db.ColumnOf<DailyRollup>(r => r.DimensionKind)}, {db.ColumnOf<DailyRollup>(r => r.DimensionId)}, {string.Join(", ", figures.Select(f => f.Column))}, {histogram})
            VALUES {string.Join(", ", values)}
            ON CONFLICT ({db.ColumnOf<DailyRollup>(r => r.TenantId)}, {db.ColumnOf<DailyRollup>(r => r.DimensionKind)}, {db.ColumnOf<DailyRollup>(r => r.DimensionId)}, {db.ColumnOf<DailyRollup>(r => r.Day)})
            DO UPDATE SET {string.Join(", ", figures.Select(f => $"{f.Column} = stored.{f.Column} + excluded.{f.Column}"))},
                {histogram} = ARRAY(
                    SELECT coalesce(a, 0) + coalesce(b, 0)
                    FROM unnest(stored.{histogram}, excluded.{histogram}) WITH ORDINALITY AS h(a, b, i)
                    ORDER BY i)
            """;
        return db.Database.ExecuteSqlRawAsync(sql, parameters, cancellationToken);
    }

    /// <summary>Locks the rollups against every consumer's addition until the transaction ends (a rebuild reads, then replaces).</summary>
    public static Task LockRollupsAsync(this MetricsDbContext db, CancellationToken cancellationToken)
    {
        var sql = "LOCK TABLE " + db.TableOf<DailyRollup>() + " IN EXCLUSIVE MODE"; // the name comes from the EF model
        return db.Database.ExecuteSqlRawAsync(sql, cancellationToken);
    }

    /// <summary>The additive figures of a rollup (every <see cref="Tally"/> count and sum but the histogram), with their columns.</summary>
    private static List<(string Column, Func<Tally, object> Value)> Figures(MetricsDbContext db) => _figures ??= FiguresOf(db);

    private static List<(string Column, Func<Tally, object> Value)>? _figures;

    private static List<(string Column, Func<Tally, object> Value)> FiguresOf(MetricsDbContext db)
    {
        var type = db.Model.FindEntityType(typeof(DailyRollup))!;
        var table = Microsoft.EntityFrameworkCore.Metadata.StoreObjectIdentifier.Table(type.GetTableName()!, type.GetSchema());
        return type.GetProperties()
            .Where(p => p.PropertyInfo?.DeclaringType == typeof(Tally) && p.Name != nameof(Tally.FirstResponseHistogram))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => ($"\"{p.GetColumnName(table)}\"", (Func<Tally, object>)(t => p.PropertyInfo!.GetValue(t)!)))
            .ToList();
    }
}

/// <summary>What Metrics knows of a tenant before it records news of it.</summary>
public sealed record TenantState(string? Timezone, bool Removed);
