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
/// Stores facts and merges conversation and lead events, in the consumer's transaction, and adds up the difference
/// they make to the daily rollups, which <see cref="WriteRollupsAsync"/> writes once for the whole unit of work (a
/// tenant's rollup rows are the rows every event touches: written per event, they would hold every other event up). A
/// fact is keyed by its event's natural key and a conversation or lead merges commutatively, so a repeated or
/// reordered event changes the figures once.
/// </summary>
public sealed class FactRecorder(MetricsDbContext db)
{
    private readonly SortedDictionary<string, Contributions> _pending = new(StringComparer.Ordinal);

    public const string DefaultTimezone = "America/Bogota";

    /// <summary>The lock key of a conversation's facts row: every consumer that merges into the row names it (see <c>LockedRowKeys</c>).</summary>
    public static string ConversationRow(string tenantId, string conversationId) => $"metrics:conversation:{tenantId}:{conversationId}";

    /// <summary>The lock key of a lead's facts row.</summary>
    public static string LeadRow(string tenantId, string leadId) => $"metrics:lead:{tenantId}:{leadId}";

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
        var tenant = await db.TenantStateAsync(tenantId, cancellationToken);
        return tenant.Removed ? null : Zone(tenant.Timezone);
    }

    /// <summary>Stores a message fact once; an AI or human message may also be the conversation's first reply.</summary>
    public async Task RecordAsync(MetricFact fact, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(fact.TenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = PendingFor(fact.TenantId, zone);
        // The conversation is locked first, so its number and agent cannot change between reading them here and a
        // concurrent "conversation opened" re-attributing the conversation's facts (which then sees this one).
        var conversation = fact.ConversationId is null ? null : await LockConversationAsync(fact.TenantId, fact.ConversationId, cancellationToken);

        if (!await db.InsertIfAbsentAsync(fact, cancellationToken))
        {
            return; // the same message, published again under another message id
        }

        contributions.AddFact(fact, conversation);
        if (conversation is not null && fact.Kind is FactKind.AiMessage or FactKind.HumanMessage)
        {
            var before = conversation.Copy();
            if (conversation.Replied(fact.OccurredAt))
            {
                contributions.AddConversation(before, -1);
                contributions.AddConversation(conversation);
            }
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Merges what an event says about a conversation and adds the difference it makes.</summary>
    public async Task MergeConversationAsync(string tenantId, string conversationId, Action<ConversationFacts> merge, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(tenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = PendingFor(tenantId, zone);
        await MergeConversationAsync(tenantId, conversationId, merge, contributions, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>
    /// A conversation opened: merges it, and merges it into its lead, whose figures then count for the agent of the
    /// lead's first conversation. The conversation is locked before the
    /// lead (no other path locks a lead and then a conversation, so the two cannot deadlock).
    /// </summary>
    public async Task OpenConversationAsync(ConversationOpened opened, CancellationToken cancellationToken)
    {
        if (await ZoneOfLiveTenantAsync(opened.TenantId, cancellationToken) is not { } zone)
        {
            return;
        }

        var contributions = PendingFor(opened.TenantId, zone);
        await MergeConversationAsync(opened.TenantId, opened.ConversationId,
            conversation => conversation.Opened(opened.NumberId, opened.AgentId, opened.OccurredAt), contributions, cancellationToken);
        if (!string.IsNullOrEmpty(opened.LeadId))
        {
            await MergeLeadAsync(opened.TenantId, opened.LeadId,
                lead => lead.MergeConversation(opened.ConversationId, opened.NumberId, opened.AgentId, opened.OccurredAt), contributions, cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
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
        var fact = new UnroutedFact { InboundMessageId = message.InboundMessageId, TenantId = tenantId, Reason = message.Reason, ReceivedAt = message.ReceivedAt, Day = day };
        var insert = () => db.InsertIfAbsentAsync(fact, cancellationToken);
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

        var contributions = PendingFor(tenantId, zone);
        await MergeLeadAsync(tenantId, leadId, merge, contributions, cancellationToken);
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task MergeLeadAsync(string tenantId, string leadId, Action<LeadFacts> merge, Contributions contributions, CancellationToken cancellationToken)
    {
        var lead = await db.LockLeadFactsAsync(tenantId, leadId, cancellationToken);
        var before = lead.Copy();
        merge(lead);
        contributions.AddLead(before, -1);
        contributions.AddLead(lead);
    }

    /// <summary>Forgets the additions of a unit of work that rolled back.</summary>
    public void Restart() => _pending.Clear();

    /// <summary>
    /// Adds what the unit of work's events changed to the rollups: one statement per tenant, tenants and rows in key
    /// order, so two units of work never wait for each other in a circle.
    /// </summary>
    public async Task WriteRollupsAsync(CancellationToken cancellationToken)
    {
        foreach (var (tenantId, contributions) in _pending)
        {
            await db.WorkForAsync(tenantId, cancellationToken);
            await db.AddToRollupsAsync(tenantId, contributions.NonZero.ToList(), cancellationToken);
        }

        _pending.Clear();
    }

    private Contributions PendingFor(string tenantId, TimeZoneInfo zone)
    {
        if (!_pending.TryGetValue(tenantId, out var contributions))
        {
            contributions = new Contributions(zone);
            _pending.Add(tenantId, contributions);
        }

        return contributions;
    }

    private Task<ConversationFacts> LockConversationAsync(string tenantId, string conversationId, CancellationToken cancellationToken) =>
        db.LockConversationFactsAsync(tenantId, conversationId, cancellationToken);
}
