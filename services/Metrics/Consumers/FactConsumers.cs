using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.Metrics.Services;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Metrics.Consumers;

/// <summary>A consumer of events that count in the figures: what its unit of work adds to the rollups is written once, at its end.</summary>
public abstract class FactConsumer<TMessage>(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<TMessage, MetricsDbContext>(db)
    where TMessage : class
{
    protected FactRecorder Facts { get; } = facts;

    protected override void Restart() => Facts.Restart();

    protected override Task CompleteAsync(CancellationToken cancellationToken) => Facts.WriteRollupsAsync(cancellationToken);
}

// Message facts: keyed by the message's own id, so a copy published again under a new message id counts once.

public sealed class InboundMessageRoutedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<InboundMessageRouted>(db, facts)
{
    protected override Task HandleAsync(InboundMessageRouted message, ConsumeContext<InboundMessageRouted> context, CancellationToken cancellationToken) =>
        Facts.RecordAsync(new MetricFact
        {
            TenantId = message.TenantId,
            Kind = FactKind.CustomerMessage,
            Key = message.InboundMessageId,
            OccurredAt = message.ReceivedAt,
            NumberId = message.NumberId,
            AgentId = message.Reply == ReplyPolicy.Agent ? message.ProposedAgentId : null,
        }, cancellationToken);
}

public sealed class OutboundMessageSentConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<OutboundMessageSent>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(OutboundMessageSent message) =>
        message.Author is MessageAuthor.AiAgent or MessageAuthor.Human ? [FactRecorder.ConversationRow(message.TenantId, message.ConversationId)] : [];

    protected override Task HandleAsync(OutboundMessageSent message, ConsumeContext<OutboundMessageSent> context, CancellationToken cancellationToken) =>
        message.Author is MessageAuthor.AiAgent or MessageAuthor.Human
            ? Facts.RecordAsync(new MetricFact
            {
                TenantId = message.TenantId,
                Kind = message.Author == MessageAuthor.AiAgent ? FactKind.AiMessage : FactKind.HumanMessage,
                Key = message.OutboundId,
                OccurredAt = message.SentAt,
                ConversationId = message.ConversationId,
            }, cancellationToken)
            : Task.CompletedTask;
}

public sealed class AgentReplyGeneratedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<AgentReplyGenerated>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(AgentReplyGenerated message) =>
        [FactRecorder.ConversationRow(message.TenantId, message.ConversationId)];

    protected override Task HandleAsync(AgentReplyGenerated message, ConsumeContext<AgentReplyGenerated> context, CancellationToken cancellationToken) =>
        Facts.RecordAsync(new MetricFact
        {
            TenantId = message.TenantId,
            Kind = FactKind.AiReply,
            // One model call: a retried call for the same customer message is another call, made at another instant.
            Key = $"{message.ConversationId}:{message.BasedOnSequence}:{message.GeneratedAt.UtcTicks}",
            OccurredAt = message.GeneratedAt,
            ConversationId = message.ConversationId,
            AgentId = message.AgentId,
            Tokens = message.PromptTokens + message.CompletionTokens,
            Cost = message.EstimatedCost,
        }, cancellationToken);
}

/// <summary>A message no tenant answered still counts as processed by SafeNotify (operators' figures only).</summary>
public sealed class InboundMessageUnroutedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<InboundMessageUnrouted>(db, facts)
{
    protected override Task HandleAsync(InboundMessageUnrouted message, ConsumeContext<InboundMessageUnrouted> context, CancellationToken cancellationToken) =>
        Facts.RecordUnroutedAsync(message, cancellationToken);
}

// Conversations and leads: each event merges into the conversation's or lead's facts, commutatively.

public sealed class ConversationOpenedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<ConversationOpened>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(ConversationOpened message) =>
        string.IsNullOrEmpty(message.LeadId)
            ? [FactRecorder.ConversationRow(message.TenantId, message.ConversationId)]
            : [FactRecorder.ConversationRow(message.TenantId, message.ConversationId), FactRecorder.LeadRow(message.TenantId, message.LeadId)];

    protected override Task HandleAsync(ConversationOpened message, ConsumeContext<ConversationOpened> context, CancellationToken cancellationToken) =>
        Facts.OpenConversationAsync(message, cancellationToken);
}

public sealed class ConversationClosedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<ConversationClosed>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(ConversationClosed message) =>
        [FactRecorder.ConversationRow(message.TenantId, message.ConversationId)];

    protected override Task HandleAsync(ConversationClosed message, ConsumeContext<ConversationClosed> context, CancellationToken cancellationToken) =>
        Facts.MergeConversationAsync(message.TenantId, message.ConversationId,
            conversation => conversation.Closed(message.OccurredAt), cancellationToken);
}

public sealed class ConversationHandedOffConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<ConversationHandedOff>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(ConversationHandedOff message) =>
        [FactRecorder.ConversationRow(message.TenantId, message.ConversationId)];

    protected override Task HandleAsync(ConversationHandedOff message, ConsumeContext<ConversationHandedOff> context, CancellationToken cancellationToken) =>
        Facts.MergeConversationAsync(message.TenantId, message.ConversationId,
            conversation => conversation.HandedOff(message.OccurredAt), cancellationToken);
}

public sealed class ConversationOutcomeRecordedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<ConversationOutcomeRecorded>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(ConversationOutcomeRecorded message) =>
        [FactRecorder.ConversationRow(message.TenantId, message.ConversationId)];

    protected override Task HandleAsync(ConversationOutcomeRecorded message, ConsumeContext<ConversationOutcomeRecorded> context, CancellationToken cancellationToken) =>
        Facts.MergeConversationAsync(message.TenantId, message.ConversationId,
            conversation => conversation.OutcomeRecorded(message.Outcome, message.SatisfactionRating, message.ConversionValue, message.OccurredAt),
            cancellationToken);
}

public sealed class LeadCreatedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<LeadCreated>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(LeadCreated message) =>
        [FactRecorder.LeadRow(message.TenantId, message.LeadId)];

    protected override Task HandleAsync(LeadCreated message, ConsumeContext<LeadCreated> context, CancellationToken cancellationToken) =>
        Facts.MergeLeadAsync(message.TenantId, message.LeadId, lead => lead.Created(message.NumberId, message.OccurredAt), cancellationToken);
}

public sealed class LeadStatusChangedConsumer(MetricsDbContext db, FactRecorder facts) : FactConsumer<LeadStatusChanged>(db, facts)
{
    protected override IEnumerable<string> LockedRowKeys(LeadStatusChanged message) =>
        [FactRecorder.LeadRow(message.TenantId, message.LeadId)];

    protected override Task HandleAsync(LeadStatusChanged message, ConsumeContext<LeadStatusChanged> context, CancellationToken cancellationToken) =>
        Facts.MergeLeadAsync(message.TenantId, message.LeadId, lead => lead.StatusChanged(message.ToStatus, message.OccurredAt), cancellationToken);
}

// What Routing and Agent say about tenants and agents.

public sealed class TenantProvisionedConsumer(MetricsDbContext db) : TransactionalConsumer<TenantProvisioned, MetricsDbContext>(db)
{
    protected override Task HandleAsync(TenantProvisioned message, ConsumeContext<TenantProvisioned> context, CancellationToken cancellationToken) =>
        TenantClocks.ApplyAsync(Db, message.TenantId, message.Timezone, message.CrmEnabled, message.OccurredAt, cancellationToken);
}

public sealed class TenantPlanChangedConsumer(MetricsDbContext db) : TransactionalConsumer<TenantPlanChanged, MetricsDbContext>(db)
{
    protected override Task HandleAsync(TenantPlanChanged message, ConsumeContext<TenantPlanChanged> context, CancellationToken cancellationToken) =>
        TenantClocks.ApplyAsync(Db, message.TenantId, message.Timezone, message.CrmEnabled, message.OccurredAt, cancellationToken);
}

/// <summary>
/// Agent created, changed or removed an agent; the latest revision wins. An agent of a removed tenant (a migrated
/// "Asistente" whose news arrives after the rollback) is not kept.
/// </summary>
public sealed class AgentChangedConsumer(MetricsDbContext db) : TransactionalConsumer<AgentChanged, MetricsDbContext>(db)
{
    protected override async Task HandleAsync(AgentChanged message, ConsumeContext<AgentChanged> context, CancellationToken cancellationToken)
    {
        if (await RemovedTenants.IsRemovedAsync(Db, message.TenantId, cancellationToken))
        {
            return;
        }

        await Db.UpsertLatestAsync(new TenantAgent
        {
            TenantId = message.TenantId, AgentId = message.AgentId, IsActive = message.IsActive, Deleted = message.Deleted, Revision = message.Revision,
        }, a => a.Revision, cancellationToken);
    }
}

/// <summary>
/// Routing created, changed or removed a WhatsApp number: its figures exist (zero) from now on, not from its first
/// conversation. The latest description wins whatever order the events arrive in; a number of a removed tenant
/// is not kept (its removal and its numbers' news share an ordering key, but may still be handled side by side).
/// </summary>
public sealed class NumberChangedConsumer(MetricsDbContext db) : TransactionalConsumer<NumberChanged, MetricsDbContext>(db)
{
    protected override async Task HandleAsync(NumberChanged message, ConsumeContext<NumberChanged> context, CancellationToken cancellationToken)
    {
        if (await RemovedTenants.IsRemovedAsync(Db, message.TenantId, cancellationToken))
        {
            return;
        }

        await Db.UpsertLatestAsync(new TenantNumber
        {
            TenantId = message.TenantId, NumberId = message.NumberId, IsActive = message.IsActive, Deleted = message.Deleted, UpdatedAt = message.OccurredAt,
        }, n => n.UpdatedAt, cancellationToken);
    }
}

internal static class TenantClocks
{
    /// <summary>Keeps the tenant's latest clock; a removed tenant gets none back (it would count among the operators' tenants).</summary>
    public static async Task ApplyAsync(MetricsDbContext db, string tenantId, string timezone, bool crmEnabled, DateTimeOffset at, CancellationToken cancellationToken)
    {
        if (await RemovedTenants.IsRemovedAsync(db, tenantId, cancellationToken))
        {
            return;
        }

        await db.UpsertLatestAsync(new TenantClock { TenantId = tenantId, Timezone = timezone, CrmEnabled = crmEnabled, UpdatedAt = at },
            c => c.UpdatedAt, cancellationToken);
    }
}
