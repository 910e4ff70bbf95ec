using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Services;

/// <summary>
/// The gatekeeper of every conversation. On a customer message: find or create the lead and the open
/// conversation, keep the conversation's agent (sticky, unless another agent's keyword matched), append
/// the message in order, and ask for a reply only if the bot owns the conversation and no reply is
/// already being written (the next reply then covers every message that arrived meanwhile). On a written
/// reply: send it only if the bot still owns the conversation and it answers the newest customer message;
/// a stale reply is dropped and a fresh one covering everything is requested.
/// </summary>
public sealed class ConversationGate(LeadDbContext db, TimeProvider time)
{
    /// <summary>How many recent messages the agent sees.</summary>
    public const int RecentTurns = 20;

    public const string FallbackText =
        "Gracias por tu mensaje. Una persona de nuestro equipo te responderá en breve. / Thanks for your message; a person from our team will reply shortly.";

    public async Task OnCustomerMessageAsync(InboundMessageRouted message, CancellationToken cancellationToken)
    {
        if (await db.Messages.AnyAsync(m => m.InboundMessageId == message.InboundMessageId, cancellationToken))
        {
            return; // already appended (a republished copy under another message id)
        }

        var now = time.GetUtcNow();
        var lead = await FindOrCreateLeadAsync(message, now, cancellationToken);
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.TenantId == message.TenantId
            && c.WhatsappNumberId == message.NumberId && c.CustomerId == message.CustomerId
            && (c.Status == ConversationStatus.Active || c.Status == ConversationStatus.WaitingHuman), cancellationToken);
        if (conversation is null)
        {
            conversation = new Conversation
            {
                Id = Ids.New("conv"),
                TenantId = message.TenantId,
                CustomerLeadId = lead.Id,
                WhatsappNumberId = message.NumberId,
                NumberPhone = message.NumberPhone,
                AccountSid = message.AccountSid,
                CustomerId = message.CustomerId,
                CustomerPhone = message.CustomerPhone,
                SessionId = Ids.New("ses"),
                OpenedAt = now,
                LastMessageAt = now,
            };
            db.Conversations.Add(conversation);
            db.Publish(new ConversationOpened(message.TenantId, conversation.Id, lead.Id, message.NumberId, message.ProposedAgentId, now),
                Key(conversation));
        }

        db.Messages.Add(new ConversationMessage
        {
            Id = Ids.New("msg"),
            ConversationId = conversation.Id,
            TenantId = message.TenantId,
            Author = MessageAuthor.Customer,
            Body = message.Text,
            Media = message.Media.ToList(),
            InboundMessageId = message.InboundMessageId,
            Sequence = message.Sequence,
            DeliveryStatus = "received",
            CreatedAt = message.ReceivedAt,
        });
        conversation.MessageCount++;
        conversation.LastMessageAt = now;
        conversation.AccountSid = message.AccountSid;
        conversation.FirstCustomerMessageAt ??= message.ReceivedAt;
        if (message.Sequence > conversation.LastCustomerSequence)
        {
            conversation.LastCustomerSequence = message.Sequence;
            conversation.LastCustomerMessageAt = message.ReceivedAt;
        }

        lead.LastActivity = now;
        lead.UpdatedAt = now;
        if (conversation.ReplyInFlightUpTo is not null)
        {
            conversation.CustomerWroteDuringReply = true;
        }

        // Sticky agent: an open conversation keeps its agent unless another agent's keyword matched.
        if (message.ProposedAgentId is not null && (conversation.CurrentAgentId is null || message.MatchedKeyword))
        {
            conversation.CurrentAgentId = message.ProposedAgentId;
            conversation.AgentReason = message.ProposalReason;
        }
        else if (conversation.CurrentAgentId is not null)
        {
            conversation.AgentReason = $"kept the conversation's agent ({message.ProposalReason} was proposed)";
        }

        if (conversation.Owner != ConversationOwner.Bot)
        {
            conversation.RequiresAttention = true;
            return; // a human owns it, or it is paused: the bot stays silent
        }

        switch (message.Reply)
        {
            case ReplyPolicy.Agent when conversation.CurrentAgentId is not null && conversation.ReplyInFlightUpTo is null:
                await RequestReplyAsync(conversation, lead, now, cancellationToken);
                break;
            case ReplyPolicy.OutOfHoursText when !conversation.OutOfHoursNoticeSent && message.OutOfHoursText is not null:
                conversation.OutOfHoursNoticeSent = true;
                Send(conversation, message.OutOfHoursText, MessageAuthor.System, agentId: null, now);
                break;
        }
    }

    public async Task OnReplyWrittenAsync(AgentReplyGenerated reply, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == reply.ConversationId && c.TenantId == reply.TenantId, cancellationToken);
        var wroteMeanwhile = conversation?.CustomerWroteDuringReply == true && conversation.ReplyInFlightUpTo == reply.BasedOnSequence;
        if (conversation is null || !ReleaseReplyInFlight(conversation, reply.BasedOnSequence))
        {
            return; // unknown, or this reply (or a newer one) went out already
        }

        var now = time.GetUtcNow();

        if (conversation.Owner != ConversationOwner.Bot)
        {
            return; // a human took over while the reply was being written: drop it
        }

        if (reply.BasedOnSequence < conversation.LastCustomerSequence || wroteMeanwhile)
        {
            // The customer wrote again meanwhile: this reply is stale. One new reply covers everything.
            if (conversation.ReplyInFlightUpTo is null)
            {
                var lead = await db.Leads.FirstAsync(l => l.Id == conversation.CustomerLeadId, cancellationToken);
                await RequestReplyAsync(conversation, lead, now, cancellationToken);
            }

            return;
        }

        Send(conversation, reply.Text, MessageAuthor.AiAgent, reply.AgentId, now, reply.BasedOnSequence);
        if (reply.NeedsHuman)
        {
            HandOff(conversation, "the agent asked for a human", now);
        }
    }

    public async Task OnReplyFailedAsync(AgentReplyFailed failure, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == failure.ConversationId && c.TenantId == failure.TenantId, cancellationToken);
        if (conversation is null || !ReleaseReplyInFlight(conversation, failure.BasedOnSequence))
        {
            return;
        }

        if (conversation.Owner != ConversationOwner.Bot)
        {
            return;
        }

        // Never silence, never an error text: a short fallback, and a person is asked to take over.
        var now = time.GetUtcNow();
        Send(conversation, FallbackText, MessageAuthor.System, failure.AgentId, now, conversation.LastCustomerSequence);
        HandOff(conversation, $"the agent could not answer: {failure.Reason}", now);
    }

    /// <summary>Moves an outbound message's delivery status forward only (callbacks arrive out of order).</summary>
    public async Task OnDeliveryAsync(string outboundId, string? twilioSid, string status, string? errorCode, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var message = await db.Messages.FirstOrDefaultAsync(m => m.Id == outboundId, cancellationToken);
        if (message is null)
        {
            return;
        }

        if (!string.IsNullOrEmpty(twilioSid))
        {
            message.TwilioSid ??= twilioSid; // a "delivery unknown" report carries no SID
        }

        message.ErrorCode ??= errorCode;
        // "sending" is only our own mark until Ingress reports; its first report replaces it even when it ranks
        // lower in Twilio's order ("queued" on send, or "delivery_unknown" after a crash mid-send).
        if (message.DeliveryStatus == DeliveryStatuses.Sending || DeliveryStatuses.IsForward(message.DeliveryStatus, status))
        {
            message.DeliveryStatus = status;
        }

        if (message.SentAt is null && DeliveryStatuses.Rank(status) >= DeliveryStatuses.Rank("queued") && status != DeliveryStatuses.Failed)
        {
            message.SentAt = at;
        }
    }

    /// <summary>
    /// Ends the wait for the reply in flight if this answer covers it, and says whether the answer is still news:
    /// newer than the last reply sent, or the answer to the request in flight. The latter matters when a customer
    /// message overtaken on the broker arrives after a newer one was answered: it asks again up to the same
    /// sequence, and that answer must go out (and must not leave the conversation waiting for ever).
    /// </summary>
    private static bool ReleaseReplyInFlight(Conversation conversation, long basedOnSequence)
    {
        var answersRequestInFlight = conversation.ReplyInFlightUpTo == basedOnSequence;
        if (conversation.ReplyInFlightUpTo <= basedOnSequence)
        {
            conversation.ReplyInFlightUpTo = null;
        }

        return answersRequestInFlight || basedOnSequence > conversation.LastRepliedSequence;
    }

    private async Task<CustomerLead> FindOrCreateLeadAsync(InboundMessageRouted message, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lead = await db.Leads.FirstOrDefaultAsync(l => l.TenantId == message.TenantId && l.CustomerId == message.CustomerId, cancellationToken)
            // A lead entered by hand with this phone becomes the customer's lead on first contact.
            ?? (message.CustomerPhone is null ? null : await db.Leads.FirstOrDefaultAsync(
                l => l.TenantId == message.TenantId && l.CustomerId == null && l.Phone == message.CustomerPhone, cancellationToken));
        if (lead is not null)
        {
            lead.CustomerId ??= message.CustomerId;
            lead.Name ??= message.ProfileName;
            lead.Phone ??= message.CustomerPhone;
            return lead;
        }

        lead = new CustomerLead
        {
            Id = Ids.New("lead"),
            TenantId = message.TenantId,
            CustomerId = message.CustomerId,
            Phone = message.CustomerPhone,
            Name = message.ProfileName,
            Source = "whatsapp",
            LastActivity = now,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Leads.Add(lead);
        db.Publish(new LeadCreated(message.TenantId, lead.Id, message.NumberId, lead.Source, now), message.TenantId);
        return lead;
    }

    private async Task RequestReplyAsync(Conversation conversation, CustomerLead lead, DateTimeOffset now, CancellationToken cancellationToken)
    {
        await db.SaveChangesAsync(cancellationToken); // the new message is part of the turns
        var turns = await db.Messages.AsNoTracking()
            .Where(m => m.ConversationId == conversation.Id && m.Body != null)
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Sequence)
            .Take(RecentTurns)
            .Select(m => new ConversationTurn(m.Author, m.Body!, m.CreatedAt))
            .ToListAsync(cancellationToken);
        turns.Reverse();

        conversation.ReplyInFlightUpTo = conversation.LastCustomerSequence;
        conversation.CustomerWroteDuringReply = false;
        var preferences = lead.Preferences?.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "");
        db.Publish(new ReplyRequested(conversation.TenantId, conversation.Id, conversation.CurrentAgentId!, conversation.WhatsappNumberId,
            conversation.LastCustomerSequence, turns, new CustomerContext(lead.Id, lead.Name, lead.CustomerType, lead.Tags, preferences), now),
            Key(conversation));
    }

    private void Send(Conversation conversation, string text, MessageAuthor author, string? agentId, DateTimeOffset now, long? answers = null)
    {
        var outbound = new ConversationMessage
        {
            Id = Ids.New("msg"),
            ConversationId = conversation.Id,
            TenantId = conversation.TenantId,
            Author = author,
            AgentId = agentId,
            Body = text,
            AnswersSequence = answers,
            DeliveryStatus = DeliveryStatuses.Sending,
            CreatedAt = now,
        };
        db.Messages.Add(outbound);
        conversation.MessageCount++;
        conversation.LastMessageAt = now;
        if (answers is { } answered)
        {
            conversation.LastRepliedSequence = Math.Max(conversation.LastRepliedSequence, answered);
            RecordResponseTime(conversation, now);
        }

        db.Publish(new SendWhatsAppMessage(outbound.Id, conversation.TenantId, conversation.Id, conversation.AccountSid,
            conversation.NumberPhone, conversation.CustomerId, text, author, now) { AgentId = agentId }, Key(conversation));
    }

    private static void RecordResponseTime(Conversation conversation, DateTimeOffset now)
    {
        if (conversation.LastCustomerMessageAt is not { } asked)
        {
            return;
        }

        var seconds = Math.Max(0, (now - asked).TotalSeconds);
        conversation.FirstResponseTime ??= (int)Math.Round((now - (conversation.FirstCustomerMessageAt ?? asked)).TotalSeconds);
        conversation.AvgResponseTime = ((conversation.AvgResponseTime ?? 0) * conversation.RepliesSent + seconds) / (conversation.RepliesSent + 1);
        conversation.RepliesSent++;
    }

    private void HandOff(Conversation conversation, string reason, DateTimeOffset now)
    {
        conversation.Owner = ConversationOwner.Human;
        conversation.OwnershipVersion++;
        conversation.Status = ConversationStatus.WaitingHuman;
        conversation.RequiresAttention = true;
        db.Publish(new ConversationHandedOff(conversation.TenantId, conversation.Id, conversation.AssignedToUser, reason, now), Key(conversation));
    }

    private static string Key(Conversation conversation) =>
        OrderingKeys.Conversation(conversation.TenantId, conversation.WhatsappNumberId, conversation.CustomerId);
}
