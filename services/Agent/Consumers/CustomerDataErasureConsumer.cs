using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>
/// A tenant erased one of its customers (Lead's <see cref="CustomerDataErasureRequested"/>): the questions Agent kept from
/// the customer's conversations (scrubbed, but still the customer's words) and the published copies of the replies it
/// wrote there (left in the outbox for its retention) are deleted. The agents' totals and the conversations' ratings stay:
/// they hold no personal data.
/// </summary>
public sealed class CustomerDataErasureConsumer(AgentDbContext db)
    : TransactionalConsumer<CustomerDataErasureRequested, AgentDbContext>(db)
{
    protected override async Task HandleAsync(CustomerDataErasureRequested message, ConsumeContext<CustomerDataErasureRequested> context, CancellationToken cancellationToken)
    {
        var conversationIds = message.ConversationIds ?? [];
        if (conversationIds.Count == 0)
        {
            return;
        }

        await Db.QuestionSamples.Where(s => s.TenantId == message.TenantId && s.ConversationId != null && conversationIds.Contains(s.ConversationId))
            .ExecuteDeleteAsync(cancellationToken);

        // Agent's messages are keyed OrderingKeys.Conversation(tenant, number, conversation). It keeps no number, but
        // conversation ids are random, so the tenant's prefix and the conversation's id as the last part find the keys.
        var prefix = OrderingKeys.ConversationPrefix(message.TenantId);
        foreach (var conversationId in conversationIds)
        {
            var suffix = ":" + conversationId;
            await Db.OutboxMessages
                .Where(o => o.DispatchedAt != null && o.OrderingKey.StartsWith(prefix) && o.OrderingKey.EndsWith(suffix))
                .ExecuteDeleteAsync(cancellationToken);
        }
    }
}
