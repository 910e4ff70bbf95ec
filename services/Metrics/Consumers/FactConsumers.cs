using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Model;
using SafeNotify.Crm.Metrics.Services;

namespace SafeNotify.Crm.Metrics.Consumers;

public sealed class InboundMessageRoutedConsumer(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<InboundMessageRouted, MetricsDbContext>(db)
{
    protected override Task HandleAsync(InboundMessageRouted message, ConsumeContext<InboundMessageRouted> context, CancellationToken cancellationToken) =>
        facts.RecordAsync(message.TenantId, message.ReceivedAt, cancellationToken, (FactKind.CustomerMessage, 1));
}

public sealed class OutboundMessageSentConsumer(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<OutboundMessageSent, MetricsDbContext>(db)
{
    protected override Task HandleAsync(OutboundMessageSent message, ConsumeContext<OutboundMessageSent> context, CancellationToken cancellationToken) =>
        message.Author switch
        {
            MessageAuthor.AiAgent => facts.RecordAsync(message.TenantId, message.SentAt, cancellationToken, (FactKind.AiMessage, 1)),
            MessageAuthor.Human => facts.RecordAsync(message.TenantId, message.SentAt, cancellationToken, (FactKind.HumanMessage, 1)),
            _ => Task.CompletedTask,
        };
}

public sealed class LeadCreatedConsumer(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<LeadCreated, MetricsDbContext>(db)
{
    protected override Task HandleAsync(LeadCreated message, ConsumeContext<LeadCreated> context, CancellationToken cancellationToken) =>
        facts.RecordAsync(message.TenantId, message.OccurredAt, cancellationToken, (FactKind.NewLead, 1));
}

public sealed class ConversationOpenedConsumer(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<ConversationOpened, MetricsDbContext>(db)
{
    protected override Task HandleAsync(ConversationOpened message, ConsumeContext<ConversationOpened> context, CancellationToken cancellationToken) =>
        facts.RecordAsync(message.TenantId, message.OccurredAt, cancellationToken, (FactKind.NewConversation, 1));
}

public sealed class ConversationHandedOffConsumer(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<ConversationHandedOff, MetricsDbContext>(db)
{
    protected override Task HandleAsync(ConversationHandedOff message, ConsumeContext<ConversationHandedOff> context, CancellationToken cancellationToken) =>
        facts.RecordAsync(message.TenantId, message.OccurredAt, cancellationToken, (FactKind.Handoff, 1));
}

public sealed class AgentReplyGeneratedConsumer(MetricsDbContext db, FactRecorder facts) : TransactionalConsumer<AgentReplyGenerated, MetricsDbContext>(db)
{
    protected override Task HandleAsync(AgentReplyGenerated message, ConsumeContext<AgentReplyGenerated> context, CancellationToken cancellationToken) =>
        facts.RecordAsync(message.TenantId, message.GeneratedAt, cancellationToken,
            (FactKind.AiTokens, message.PromptTokens + message.CompletionTokens), (FactKind.AiCost, message.EstimatedCost));
}

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

internal static class TenantClocks
{
    public static async Task ApplyAsync(MetricsDbContext db, string tenantId, string timezone, bool crmEnabled, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var clock = await db.Tenants.FirstOrDefaultAsync(t => t.TenantId == tenantId, cancellationToken);
        if (clock is null)
        {
            db.Tenants.Add(new TenantClock { TenantId = tenantId, Timezone = timezone, CrmEnabled = crmEnabled, UpdatedAt = at });
        }
        else if (clock.UpdatedAt <= at)
        {
            clock.Timezone = timezone;
            clock.CrmEnabled = crmEnabled;
            clock.UpdatedAt = at;
        }
    }
}
