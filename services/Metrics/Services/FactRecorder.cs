using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Metrics.Services;

/// <summary>
/// Stores facts and merges conversation and lead events, in the consumer's transaction, and adds the difference
/// they make to the daily rollups. A fact is keyed by its event's natural key and a conversation or lead merges
/// commutatively, so a repeated or reordered event changes the figures once.
/// </summary>
public sealed class FactRecorder(MetricsDbContext db)
{
    public const string DefaultTimezone = "America/Bogota";

    public static TimeZoneInfo Zone(string? timezone) =>
        timezone is not null && TimeZoneInfo.TryFindSystemTimeZoneById(timezone, out var zone) ? zone
        : TimeZoneInfo.FindSystemTimeZoneById(DefaultTimezone);

    /// <summary>
    /// The time zone of the tenant's days (the default until the tenant's clock is known), or null when the tenant was
    /// removed: news of it that arrives afterwards adds no figures back, and news being recorded when the removal comes
    /// is removed with the rest (<see cref="RemovedTenants"/>).
    /// </summary>
    private async Task<TimeZoneInfo?> ZoneOfLiveTenantAsync(string tenantId, CancellationToken cancellationToken)
    {
        await RemovedTenants.HoldAgainstRemovalAsync(db, tenantId, cancellationToken);
        var tenant = await db.Database.SqlQuery<TenantZone>($"""
            SELECT (SELECT timezone FROM metrics.tenant_clocks WHERE tenant_id = {tenantId}) AS timezone,
                   EXISTS (SELECT 1 FROM metrics.removed_tenants WHERE tenant_id = {tenantId}) AS removed
            """).SingleAsync(cancellationToken);
        return tenant.Removed ? null : Zone(tenant.Timezone);
    }

    private sealed class TenantZone
    {
        public string? Timezone { get; init; }
        public bool Removed { get; init; }
    }

    /// <summary>Stores a message fact once; an AI or human message may also be the conversation's first reply.</summary>
    public async Task RecordAsync(MetricFact fact, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(fact.TenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = new Contributions(zone);
        // The conversation is locked first, so its number and agent cannot change between reading them here and a
        // concurrent "conversation opened" re-attributing the conversation's facts (which then sees this one).
        var conversation = fact.ConversationId is null ? null : await LockConversationAsync(fact.TenantId, fact.ConversationId, cancellationToken);

        var inserted = await db.Database.ExecuteSqlAsync($"""
            INSERT INTO metrics.metric_facts (tenant_id, kind, key, occurred_at, conversation_id, number_id, agent_id, tokens, cost)
            VALUES ({fact.TenantId}, {fact.Kind.ToString()}, {fact.Key}, {fact.OccurredAt.ToUniversalTime()}, {fact.ConversationId},
                {fact.NumberId}, {fact.AgentId}, {fact.Tokens}, {fact.Cost})
            ON CONFLICT (tenant_id, kind, key) DO NOTHING
            """, cancellationToken);
        if (inserted == 0)
        {
            return; // the same message, published again under another message id
        }

        contributions.AddFact(fact, conversation);
        if (conversation is not null && fact.Kind is FactKind.AiMessage or FactKind.HumanMessage
            && (conversation.FirstResponseAt is null || fact.OccurredAt < conversation.FirstResponseAt))
        {
            contributions.AddConversation(conversation, -1);
            conversation.FirstResponseAt = fact.OccurredAt;
            contributions.AddConversation(conversation);
        }

        await db.SaveChangesAsync(cancellationToken);
        await RollupWriter.AddAsync(db, fact.TenantId, contributions, cancellationToken);
    }

    /// <summary>Merges what an event says about a conversation and adds the difference it makes.</summary>
    public async Task MergeConversationAsync(string tenantId, string conversationId, Action<ConversationFacts> merge, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(tenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = new Contributions(zone);
        await MergeConversationAsync(tenantId, conversationId, merge, contributions, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await RollupWriter.AddAsync(db, tenantId, contributions, cancellationToken);
    }

    /// <summary>
    /// A conversation opened: merges it, and merges it into its lead, whose figures then count for the agent of the
    /// lead's first conversation. One transaction, one rollup write at the end; the conversation is locked before the
    /// lead (no other path locks a lead and then a conversation, so the two cannot deadlock).
    /// </summary>
    public async Task OpenConversationAsync(ConversationOpened opened, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(opened.TenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = new Contributions(zone);
        await MergeConversationAsync(opened.TenantId, opened.ConversationId, conversation =>
        {
            conversation.NumberId = opened.NumberId;
            conversation.AgentId = opened.AgentId;
            conversation.OpenedAt = FactRecorder.Earliest(conversation.OpenedAt, opened.OccurredAt);
        }, contributions, cancellationToken);
        if (!string.IsNullOrEmpty(opened.LeadId))
        {
            await MergeLeadAsync(opened.TenantId, opened.LeadId,
                lead => lead.MergeConversation(opened.ConversationId, opened.NumberId, opened.AgentId, opened.OccurredAt), contributions, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await RollupWriter.AddAsync(db, opened.TenantId, contributions, cancellationToken);
    }

    /// <summary>
    /// Stores a message nobody answered once (by its inbound message id), on the tenant's day when the number is a
    /// tenant's, else on SafeNotify's default zone's day. Only operators' figures count it.
    /// </summary>
    public async Task RecordUnroutedAsync(InboundMessageUnrouted message, CancellationToken cancellationToken)
    {
        var tenantId = string.IsNullOrEmpty(message.TenantId) ? null : message.TenantId;
        var zone = tenantId is null ? Zone(null) : await ZoneOfLiveTenantAsync(tenantId, cancellationToken);
        if (zone is null)
        {
            return; // a removed tenant's
        }

        var day = new Contributions(zone).DayOf(message.ReceivedAt);
        var insert = () => db.Database.ExecuteSqlAsync($"""
            INSERT INTO metrics.unrouted_facts (inbound_message_id, tenant_id, reason, received_at, day)
            VALUES ({message.InboundMessageId}, {tenantId}, {message.Reason}, {message.ReceivedAt.ToUniversalTime()}, {day})
            ON CONFLICT (inbound_message_id) DO NOTHING
            """, cancellationToken);
        // A message to a number of no tenant belongs to no tenant: written across tenants, as Routing keeps it.
        _ = tenantId is null ? await db.AcrossTenantsAsync(insert, cancellationToken) : await insert();
    }

    private async Task MergeConversationAsync(string tenantId, string conversationId, Action<ConversationFacts> merge, Contributions contributions, CancellationToken cancellationToken)
    {
        var conversation = await LockConversationAsync(tenantId, conversationId, cancellationToken);
        var before = conversation.Copy();
        merge(conversation);

        contributions.AddConversation(before, -1);
        contributions.AddConversation(conversation);
        if (before.NumberId != conversation.NumberId || before.AgentId != conversation.AgentId)
        {
            // Messages counted before the conversation's number or agent was known move to them now.
            var facts = await db.Facts.AsNoTracking().Where(f => f.TenantId == tenantId && f.ConversationId == conversationId).ToListAsync(cancellationToken);
            foreach (var fact in facts)
            {
                contributions.AddFact(fact, before, -1);
                contributions.AddFact(fact, conversation);
            }
        }
    }

    /// <summary>Merges what an event says about a lead and adds the difference it makes.</summary>
    public async Task MergeLeadAsync(string tenantId, string leadId, Action<LeadFacts> merge, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(tenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = new Contributions(zone);
        await MergeLeadAsync(tenantId, leadId, merge, contributions, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
        await RollupWriter.AddAsync(db, tenantId, contributions, cancellationToken);
    }

    private async Task MergeLeadAsync(string tenantId, string leadId, Action<LeadFacts> merge, Contributions contributions, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO metrics.lead_facts (tenant_id, lead_id) VALUES ({tenantId}, {leadId}) ON CONFLICT DO NOTHING", cancellationToken);
        var lead = await db.Leads.FromSql($"SELECT * FROM metrics.lead_facts WHERE tenant_id = {tenantId} AND lead_id = {leadId} FOR UPDATE")
            .SingleAsync(cancellationToken);
        var before = lead.Copy();
        merge(lead);
        contributions.AddLead(before, -1);
        contributions.AddLead(lead);
    }

    private async Task<ConversationFacts> LockConversationAsync(string tenantId, string conversationId, CancellationToken cancellationToken)
    {
        await db.Database.ExecuteSqlAsync(
            $"INSERT INTO metrics.conversation_facts (tenant_id, conversation_id) VALUES ({tenantId}, {conversationId}) ON CONFLICT DO NOTHING",
            cancellationToken);
        return await db.Conversations
            .FromSql($"SELECT * FROM metrics.conversation_facts WHERE tenant_id = {tenantId} AND conversation_id = {conversationId} FOR UPDATE")
            .SingleAsync(cancellationToken);
    }

    /// <summary>The earlier of two instants, either possibly unknown.</summary>
    public static DateTimeOffset? Earliest(DateTimeOffset? current, DateTimeOffset candidate) =>
        current is null || candidate < current ? candidate : current;
}

/// <summary>Adds contributions to the daily rollup rows with one atomic upsert.</summary>
public static class RollupWriter
{
    private static readonly string[] Columns =
    [
        "new_conversations", "completed_conversations", "handed_off_conversations", "ai_resolved_conversations", "new_leads",
        "qualified_leads", "converted_leads", "customer_messages", "ai_messages", "human_messages", "total_tokens_used",
        "estimated_ai_cost", "first_responses", "first_response_ms_sum", "conversions", "revenue", "ai_handled_revenue",
        "satisfaction_ratings", "satisfaction_sum",
    ];

    /// <summary>
    /// Consumers run concurrently and add to the same rows: one upsert adds each delta to whatever the others
    /// committed (no lost increments, no race to create a row). Rows go in key order so two transactions lock them in
    /// the same order, and the upsert comes last in the transaction so rows stay locked only until the commit.
    /// </summary>
    public static Task AddAsync(MetricsDbContext db, string tenantId, Contributions contributions, CancellationToken cancellationToken) =>
        AddAsync(db, tenantId, contributions.NonZero.ToList(), cancellationToken);

    public static async Task AddAsync(MetricsDbContext db, string tenantId, IReadOnlyList<KeyValuePair<RollupKey, Tally>> rows, CancellationToken cancellationToken)
    {
        if (rows.Count == 0)
        {
            return;
        }

        var parameters = new List<object>();
        string P(object value)
        {
            parameters.Add(value);
            return "{" + (parameters.Count - 1).ToString(CultureInfo.InvariantCulture) + "}";
        }

        var sql = new StringBuilder("INSERT INTO metrics.daily_rollups (tenant_id, day, dimension_kind, dimension_id, ")
            .Append(string.Join(", ", Columns)).Append(", first_response_histogram) VALUES ");
        for (var i = 0; i < rows.Count; i++)
        {
            var (key, t) = (rows[i].Key, rows[i].Value);
            sql.Append(i == 0 ? "(" : ", (")
                .Append(string.Join(", ", P(tenantId), P(key.Day), P(key.Kind.ToString()), P(key.Id),
                    P(t.NewConversations), P(t.CompletedConversations), P(t.HandedOffConversations), P(t.AiResolvedConversations), P(t.NewLeads),
                    P(t.QualifiedLeads), P(t.ConvertedLeads), P(t.CustomerMessages), P(t.AiMessages), P(t.HumanMessages), P(t.TotalTokensUsed),
                    P(t.EstimatedAiCost), P(t.FirstResponses), P(t.FirstResponseMsSum), P(t.Conversions), P(t.Revenue), P(t.AiHandledRevenue),
                    P(t.SatisfactionRatings), P(t.SatisfactionSum), P(t.FirstResponseHistogram)))
                .Append(')');
        }

        sql.Append(" ON CONFLICT (tenant_id, day, dimension_kind, dimension_id) DO UPDATE SET ")
            .Append(string.Join(", ", Columns.Select(c => $"{c} = daily_rollups.{c} + excluded.{c}")))
            .Append("""
                , first_response_histogram = ARRAY(
                    SELECT coalesce(a, 0) + coalesce(b, 0)
                    FROM unnest(daily_rollups.first_response_histogram, excluded.first_response_histogram) WITH ORDINALITY AS h(a, b, i)
                    ORDER BY i)
                """);
        await db.Database.ExecuteSqlRawAsync(sql.ToString(), parameters, cancellationToken);
    }
}
