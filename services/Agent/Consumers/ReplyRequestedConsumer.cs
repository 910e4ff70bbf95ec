using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Apis;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>
/// Writes the reply Lead asked for. The model is called outside any transaction (it can take seconds); then, in one
/// transaction with the inbox record: the reply (or the fallback), the agent's usage and conversation totals, the
/// anonymised questions it handled and, every few customer messages, a new prompt version. A redelivery after a crash
/// calls the model again but publishes at most one reply: the inbox decides.
/// </summary>
public sealed class ReplyRequestedConsumer(AgentDbContext db, ReplyWriter writer, PromptVersions versions, TimeProvider time)
    : IConsumer<ReplyRequested>
{
    public async Task Consume(ConsumeContext<ReplyRequested> context)
    {
        var request = context.Message;
        var messageId = context.MessageId ?? throw new InvalidOperationException("ReplyRequested arrived without a message id.");
        var cancellationToken = context.CancellationToken;
        var consumer = nameof(ReplyRequestedConsumer);
        await db.ForTenant(request.TenantId, cancellationToken); // row-level security: this tenant's rows only
        if (await db.InboxMessages.AnyAsync(m => m.MessageId == messageId && m.Consumer == consumer, cancellationToken))
        {
            return;
        }

        var agent = await db.Agents.AsNoTracking().FirstOrDefaultAsync(a => a.Id == request.AgentId && a.TenantId == request.TenantId, cancellationToken);
        var prompt = agent is null ? null : await db.Prompts.AsNoTracking().FirstOrDefaultAsync(p => p.AgentId == agent.Id && p.IsActive, cancellationToken);
        var reply = agent is { IsActive: true } && prompt is not null ? await writer.WriteAsync(agent, prompt, request, cancellationToken) : null;

        var now = time.GetUtcNow();
        await db.RunAsync(async ct =>
        {
            if (!await db.TryRecordAsync(messageId, consumer, ct))
            {
                return;
            }

            var key = OrderingKeys.Conversation(request.TenantId, request.NumberId, request.ConversationId);
            // Locked: counters, samples and version numbers of one agent change one reply at a time.
            var locked = reply is null ? null : await db.LockAgentAsync(request.AgentId, request.TenantId, ct);
            if (reply is null || locked is null)
            {
                // Lead answers the customer with its own fallback and asks a person to take over.
                db.Publish(new AgentReplyFailed(request.TenantId, request.ConversationId, request.AgentId, request.UpToSequence,
                    "The agent is missing or inactive.", now) { RequestOwnershipVersion = request.OwnershipVersion }, key);
            }
            else
            {
                await RecordUsageAsync(locked, prompt!.Version, request, reply, now, ct);
                db.Publish(new AgentReplyGenerated(request.TenantId, request.ConversationId, request.AgentId, request.UpToSequence, reply.Text,
                    prompt!.Version, reply.Model, reply.PromptTokens, reply.CompletionTokens, reply.Cost, reply.LatencyMs, reply.NeedsHuman, now)
                {
                    FallbackReason = reply.FallbackReason,
                    RequestOwnershipVersion = request.OwnershipVersion,
                }, key);
            }
        }, cancellationToken);
    }

    private async Task RecordUsageAsync(AiAgent agent, int promptVersion, ReplyRequested request, WrittenReply reply, DateTimeOffset now, CancellationToken cancellationToken)
    {
        // The model answered, so its tokens were billed even when the reply was unusable (empty): count them.
        var tokens = reply.PromptTokens + reply.CompletionTokens;
        agent.TotalTokensUsed += tokens;
        agent.EstimatedCost += reply.Cost;
        if (tokens > 0)
        {
            await db.Prompts.Where(p => p.AgentId == agent.Id && p.Version == promptVersion)
                .ExecuteUpdateAsync(p => p.SetProperty(x => x.TokensUsed, x => (x.TokensUsed ?? 0) + tokens), cancellationToken);
        }

        if (reply.FallbackReason is null)
        {
            agent.AvgResponseTime = (agent.AvgResponseTime * agent.RepliesWritten + reply.LatencyMs) / (agent.RepliesWritten + 1);
            agent.RepliesWritten++;
        }

        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.AgentId == agent.Id && c.ConversationId == request.ConversationId, cancellationToken);
        if (conversation is null)
        {
            conversation = new AgentConversation { AgentId = agent.Id, ConversationId = request.ConversationId, TenantId = agent.TenantId, FirstSeenAt = now };
            db.Conversations.Add(conversation);
            agent.TotalConversations++;
        }

        // Customer messages this reply handles for the first time: those since the last reply (a burst covers several),
        // not already handled by this agent (a repeated request covers none; an agent taking over a conversation
        // mid-way counts only what it answers).
        var unanswered = request.RecentTurns.Reverse().TakeWhile(t => t.Author == MessageAuthor.Customer).ToList();
        var handled = (int)Math.Clamp(request.UpToSequence - conversation.LastSequence, 0, unanswered.Count);
        conversation.LastSequence = Math.Max(conversation.LastSequence, request.UpToSequence);
        conversation.PromptVersion = promptVersion;
        // A fallback says nothing of what customers ask or of which answers work (the model was down): its messages are
        // covered (the sequence above moves on) but are neither sampled nor counted towards the next evolution.
        if (handled == 0 || reply.FallbackReason is not null)
        {
            return;
        }

        var knownNames = new[] { request.Customer.Name };
        var newest = unanswered.Take(handled).Reverse();
        foreach (var turn in newest)
        {
            // Scrubbed before it is stored: no customer's personal data is kept for (or shown in) a prompt used for others.
            var text = PersonalData.Scrub(turn.Text, knownNames).Trim();
            var topics = ContextSummary.TopicsOf(turn.Text);
            if (text.Length > 0 && topics.Count > 0)
            {
                db.QuestionSamples.Add(new QuestionSample
                {
                    AgentId = agent.Id, TenantId = agent.TenantId, Text = text.Length > 500 ? text[..500] : text,
                    Topics = [.. topics], NeededHuman = reply.NeedsHuman, At = turn.At, ConversationId = request.ConversationId,
                });
            }
        }

        agent.MessagesSinceEvolution += handled;
        var options = versions.Options;
        // Replies written side by side take their time before waiting for the agent's lock, so a later one may
        // carry an earlier time than the evolution just made: with no minimum interval, time plays no part.
        var due = agent.MessagesSinceEvolution >= options.EvolveEveryMessages
            && (options.MinEvolutionInterval <= TimeSpan.Zero || agent.LastEvolvedAt is null || now - agent.LastEvolvedAt >= options.MinEvolutionInterval);
        if (due)
        {
            await db.SaveChangesAsync(cancellationToken); // this reply's samples count in the summary
            await EvolveAsync(agent, knownNames, now, cancellationToken);
        }
    }

    /// <summary>Seed "Auto-evolución": a new version with an updated summary of what customers ask and which answers worked.</summary>
    private async Task EvolveAsync(AiAgent agent, IEnumerable<string?> knownNames, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var options = versions.Options;
        var samples = await db.QuestionSamples.AsNoTracking().Where(s => s.AgentId == agent.Id)
            .OrderByDescending(s => s.Id).Take(options.SamplesKept).ToListAsync(cancellationToken);
        if (samples.Count == options.SamplesKept)
        {
            var oldestKept = samples[^1].Id;
            await db.QuestionSamples.Where(s => s.AgentId == agent.Id && s.Id < oldestKept).ExecuteDeleteAsync(cancellationToken);
        }

        var conversationIds = samples.Select(s => s.ConversationId).OfType<string>().Distinct().ToList();
        var ratings = await db.Conversations.AsNoTracking()
            .Where(c => c.AgentId == agent.Id && conversationIds.Contains(c.ConversationId) && c.SatisfactionRating != null)
            .ToDictionaryAsync(c => c.ConversationId, c => c.SatisfactionRating!.Value, cancellationToken);
        var summary = ContextSummary.Build(samples, options.SummaryMaxLength, ratings);
        var prompt = await versions.AddAsync(agent, TriggerReasons.ConversationUpdate, summary, knownNames, now, cancellationToken);
        if (prompt.IsActive)
        {
            // A version that goes live on its own changes what every customer is answered with: audited like a manual activation.
            db.Audit(agent.TenantId, AuditActions.PromptActivated, "agent", agent.Id,
                $"{AgentAudit.Label(agent.Name)}: prompt version {prompt.Version} evolved from conversations and activated", now);
        }
        agent.MessagesSinceEvolution = 0;
        agent.LastEvolvedAt = agent.LastEvolvedAt > now ? agent.LastEvolvedAt : now;
    }
}
