using MassTransit;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Consumers;

public sealed class ConversationIdleCheckDueConsumer(LeadDbContext db, TimeProvider time)
    : TransactionalConsumer<ConversationIdleCheckDue, LeadDbContext>(db)
{
    protected override async ValueTask<string?> LockKeyAsync(ConversationIdleCheckDue message, CancellationToken cancellationToken) =>
        await Db.ConversationKeyAsync(message.TenantId, message.ConversationId, cancellationToken);

    protected override async Task HandleAsync(ConversationIdleCheckDue message, ConsumeContext<ConversationIdleCheckDue> context, CancellationToken cancellationToken)
    {
        if (await Db.ConversationAsync(message.TenantId, message.ConversationId, cancellationToken) is { } conversation)
        {
            await conversation.CheckIdleAsync(Db, time.GetUtcNow(), cancellationToken);
        }
    }
}

public sealed class HumanIdleReleaseDueConsumer(LeadDbContext db, TimeProvider time)
    : TransactionalConsumer<HumanIdleReleaseDue, LeadDbContext>(db)
{
    protected override async ValueTask<string?> LockKeyAsync(HumanIdleReleaseDue message, CancellationToken cancellationToken) =>
        await Db.ConversationKeyAsync(message.TenantId, message.ConversationId, cancellationToken);

    protected override async Task HandleAsync(HumanIdleReleaseDue message, ConsumeContext<HumanIdleReleaseDue> context, CancellationToken cancellationToken)
    {
        if (await Db.ConversationAsync(message.TenantId, message.ConversationId, cancellationToken) is { } conversation)
        {
            await conversation.CheckHumanIdleAsync(message.OwnershipVersion, Db, time.GetUtcNow(), cancellationToken);
        }
    }
}

public sealed class BurstWindowElapsedConsumer(LeadDbContext db, TimeProvider time)
    : TransactionalConsumer<BurstWindowElapsed, LeadDbContext>(db)
{
    protected override async ValueTask<string?> LockKeyAsync(BurstWindowElapsed message, CancellationToken cancellationToken) =>
        await Db.ConversationKeyAsync(message.TenantId, message.ConversationId, cancellationToken);

    protected override async Task HandleAsync(BurstWindowElapsed message, ConsumeContext<BurstWindowElapsed> context, CancellationToken cancellationToken)
    {
        if (await Db.ConversationAsync(message.TenantId, message.ConversationId, cancellationToken) is { } conversation)
        {
            await conversation.BurstWindowElapsedAsync(Db, time.GetUtcNow(), cancellationToken);
        }
    }
}
