using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>
/// Writes the reply Lead asked for. The model is called outside any transaction (it can take seconds);
/// the result, the inbox record and the usage totals then commit together. A redelivery after a crash
/// calls the model again but publishes at most one reply: the inbox decides.
/// </summary>
public sealed partial class ReplyRequestedConsumer(AgentDbContext db, ReplyWriter writer, TimeProvider time, ILogger<ReplyRequestedConsumer> logger)
    : IConsumer<ReplyRequested>
{
    public async Task Consume(ConsumeContext<ReplyRequested> context)
    {
        var request = context.Message;
        var messageId = context.MessageId ?? throw new InvalidOperationException("ReplyRequested arrived without a message id.");
        var cancellationToken = context.CancellationToken;
        var consumer = nameof(ReplyRequestedConsumer);
        if (await db.InboxMessages.AnyAsync(m => m.MessageId == messageId && m.Consumer == consumer, cancellationToken))
        {
            return;
        }

        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AgentId && a.TenantId == request.TenantId, cancellationToken);
        var prompt = agent is null ? null : await db.Prompts.AsNoTracking().FirstOrDefaultAsync(p => p.AgentId == agent.Id && p.IsActive, cancellationToken);

        WrittenReply? reply = null;
        string? failure = null;
        if (agent is null || !agent.IsActive || prompt is null)
        {
            failure = "The agent is missing or inactive.";
        }
        else
        {
            try
            {
                reply = await writer.WriteAsync(agent, prompt, request, cancellationToken);
                failure = string.IsNullOrWhiteSpace(reply.Text) ? "The model returned an empty reply." : null;
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
            {
                LogModelFailed(logger, ex, request.AgentId, request.ConversationId);
                failure = $"The model could not answer: {ex.GetType().Name}";
            }
        }

        var now = time.GetUtcNow();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await db.TryRecordAsync(messageId, consumer, cancellationToken))
        {
            return;
        }

        var key = OrderingKeys.Conversation(request.TenantId, request.NumberId, request.ConversationId);
        if (reply is not null)
        {
            // The model answered, so its tokens were billed even when the reply is unusable (empty): count them.
            await db.Agents.Where(a => a.Id == request.AgentId).ExecuteUpdateAsync(a => a
                .SetProperty(x => x.TotalTokensUsed, x => x.TotalTokensUsed + reply.PromptTokens + reply.CompletionTokens)
                .SetProperty(x => x.EstimatedCost, x => x.EstimatedCost + reply.Cost)
                .SetProperty(x => x.AvgResponseTime, x => (x.AvgResponseTime * x.RepliesWritten + reply.LatencyMs) / (x.RepliesWritten + 1))
                .SetProperty(x => x.RepliesWritten, x => x.RepliesWritten + 1), cancellationToken);
        }

        if (failure is not null || reply is null)
        {
            db.Publish(new AgentReplyFailed(request.TenantId, request.ConversationId, request.AgentId, request.UpToSequence, failure ?? "unknown", now), key);
        }
        else
        {
            db.Publish(new AgentReplyGenerated(request.TenantId, request.ConversationId, request.AgentId, request.UpToSequence, reply.Text,
                prompt!.Version, reply.Model, reply.PromptTokens, reply.CompletionTokens, reply.Cost, reply.LatencyMs, reply.NeedsHuman, now), key);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "The model failed for agent {AgentId} in conversation {ConversationId}")]
    private static partial void LogModelFailed(ILogger logger, Exception exception, string agentId, string conversationId);
}
