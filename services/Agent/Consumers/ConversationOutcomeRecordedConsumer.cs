using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>
/// A conversation's satisfaction rating (Lead) counts for every agent that answered in it; an agent's
/// <c>satisfactionRating</c> is the average over its rated conversations, recomputed so a changed rating replaces the old one.
/// </summary>
public sealed class ConversationOutcomeRecordedConsumer(AgentDbContext db)
    : TransactionalConsumer<ConversationOutcomeRecorded, AgentDbContext>(db)
{
    protected override async Task HandleAsync(ConversationOutcomeRecorded message, ConsumeContext<ConversationOutcomeRecorded> context, CancellationToken cancellationToken)
    {
        if (message.SatisfactionRating is not { } rating)
        {
            return;
        }

        var agentIds = await Db.Conversations
            .Where(c => c.TenantId == message.TenantId && c.ConversationId == message.ConversationId)
            .Select(c => c.AgentId).OrderBy(id => id).ToListAsync(cancellationToken);
        foreach (var agentId in agentIds)
        {
            // Locked: two ratings of one agent's conversations must not both average without the other.
            var agent = await Db.LockAgentAsync(agentId, message.TenantId, cancellationToken);
            if (agent is null)
            {
                continue;
            }

            await Db.Conversations.Where(c => c.AgentId == agentId && c.ConversationId == message.ConversationId)
                .ExecuteUpdateAsync(c => c.SetProperty(x => x.SatisfactionRating, rating), cancellationToken);
            agent.SatisfactionRating = Math.Round(await Db.Conversations
                .Where(c => c.AgentId == agentId && c.SatisfactionRating != null)
                .AverageAsync(c => (double)c.SatisfactionRating!.Value, cancellationToken), 2);

            // The seed's responseQuality of a prompt version: the average rating of the conversations it answered last.
            var version = await Db.Conversations.Where(c => c.AgentId == agentId && c.ConversationId == message.ConversationId)
                .Select(c => c.PromptVersion).FirstOrDefaultAsync(cancellationToken);
            if (version is not null)
            {
                var quality = Math.Round(await Db.Conversations
                    .Where(c => c.AgentId == agentId && c.PromptVersion == version && c.SatisfactionRating != null)
                    .AverageAsync(c => (double)c.SatisfactionRating!.Value, cancellationToken), 2);
                await Db.Prompts.Where(p => p.AgentId == agentId && p.Version == version)
                    .ExecuteUpdateAsync(p => p.SetProperty(x => x.ResponseQuality, quality), cancellationToken);
            }
        }
    }
}
