using MassTransit;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Lead.Services;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Consumers;

public sealed class ConversationIdleCheckDueConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<ConversationIdleCheckDue, LeadDbContext>(db)
{
    protected override Task HandleAsync(ConversationIdleCheckDue message, ConsumeContext<ConversationIdleCheckDue> context, CancellationToken cancellationToken) =>
        gate.OnIdleCheckAsync(message, cancellationToken);
}

public sealed class HumanIdleReleaseDueConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<HumanIdleReleaseDue, LeadDbContext>(db)
{
    protected override Task HandleAsync(HumanIdleReleaseDue message, ConsumeContext<HumanIdleReleaseDue> context, CancellationToken cancellationToken) =>
        gate.OnHumanIdleAsync(message, cancellationToken);
}

public sealed class BurstWindowElapsedConsumer(LeadDbContext db, ConversationGate gate)
    : TransactionalConsumer<BurstWindowElapsed, LeadDbContext>(db)
{
    protected override Task HandleAsync(BurstWindowElapsed message, ConsumeContext<BurstWindowElapsed> context, CancellationToken cancellationToken) =>
        gate.OnBurstWindowElapsedAsync(message, cancellationToken);
}
