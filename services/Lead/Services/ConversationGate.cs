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
/// the message in order, score it, and ask for a reply only if the bot owns the conversation and no reply is
/// already being written (the next reply then covers every message that arrived meanwhile). On a written
/// reply: send it only if the bot still owns the conversation, owned it when the reply was asked for, and it
/// answers the newest customer message; a stale reply is dropped and a fresh one covering everything is requested.
/// Ownership (bot, human, paused) has a version: every change bumps it and voids the replies asked for before.
/// </summary>
public sealed class ConversationGate(LeadDbContext db, TimeProvider time)
{
    /// <summary>How many recent messages the agent sees.</summary>
    public const int RecentTurns = 20;

    public const string FallbackText =
        "Gracias por tu mensaje. Una persona de nuestro equipo te responderá en breve. / Thanks for your message; a person from our team will reply shortly.";

    public const string HandoffNoticeText =
        "Con gusto, te comunico con una persona de nuestro equipo. / Sure, a person from our team will take it from here.";

    /// <summary>What a customer writes to ask for a person (whole words, any accents or case, Spanish and English).</summary>
    public static readonly IReadOnlyList<string> HumanRequestPhrases =
    [
        "hablar con una persona", "hablar con alguien", "persona real", "con un humano", "humano", "humana",
        "asesor", "asesora", "agente humano", "agente real",
        "human", "real person", "talk to a person", "speak to a person", "talk to someone", "speak to someone", "live agent",
    ];

    /// <summary>Words that raise a conversation's priority to high, and those that make it urgent.</summary>
    public static readonly IReadOnlyList<string> HighPriorityWords =
        ["urgente", "urgencia", "dolor", "lo antes posible", "cuanto antes", "urgent", "asap", "as soon as possible", "pain"];

    public static readonly IReadOnlyList<string> UrgentPriorityWords =
        ["emergencia", "dolor fuerte", "sangrado", "accidente", "emergency", "severe pain", "bleeding", "accident"];

    public static class Triggers
    {
        public const string CustomerRequest = "customer_request";
        public const string AgentNeedsHuman = "agent_needs_human";
        public const string AgentFailed = "agent_failed";
        public const string EmployeeHandoff = "employee_handoff";
        public const string EmployeeReply = "employee_reply";
        public const string EmployeePause = "employee_pause";
        public const string EmployeeRelease = "employee_release";
        public const string HumanIdle = "human_idle";
    }

    public async Task OnCustomerMessageAsync(InboundMessageRouted message, CancellationToken cancellationToken)
    {
        if (await db.Messages.AnyAsync(m => m.InboundMessageId == message.InboundMessageId, cancellationToken))
        {
            return; // already appended (a republished copy under another message id)
        }

        var now = time.GetUtcNow();
        var settings = await db.SettingsForAsync(message.TenantId, cancellationToken);
        var lead = await FindOrCreateLeadAsync(message, settings, now, cancellationToken);
        // The open statuses written as the one-open-conversation index's own filter (status IN (...)), so that index
        // answers: with an OR the planner cannot use it and reads every conversation of the tenant instead.
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.TenantId == message.TenantId
            && c.WhatsappNumberId == message.NumberId && c.CustomerId == message.CustomerId
            && new[] { ConversationStatus.Active, ConversationStatus.WaitingHuman }.Contains(c.Status), cancellationToken);
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
            ScheduleIdleCheck(conversation, now + TimeSpan.FromSeconds(settings.ConversationIdleSeconds));
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

        if (message.InsideBusinessHours)
        {
            // The business was open: the next closed period is a new one, whose first message gets the out-of-hours text again.
            conversation.OutOfHoursNoticeSent = false;
        }

        if (conversation.ReplyInFlightUpTo is not null)
        {
            conversation.CustomerWroteDuringReply = true;
        }

        var words = TextMatch.Words(message.Text);
        RaisePriority(conversation, words);
        lead.ScoreMessage(message.Text, conversation.Id, await db.SignalsScoredAsync(lead.Id, conversation.Id, cancellationToken), settings, now);

        // Sticky agent: an open conversation keeps its agent unless another agent's keyword matched. When Routing
        // proposes nobody (autoReply off, the out-of-hours text, no agent on duty), its reason is why nobody answers;
        // the conversation's agent stays for when an agent answers again.
        if (message.ProposedAgentId is null || message.ProposedAgentId == conversation.CurrentAgentId)
        {
            conversation.AgentReason = message.ProposalReason;
        }
        else if (conversation.CurrentAgentId is null || message.MatchedKeyword)
        {
            conversation.CurrentAgentId = message.ProposedAgentId;
            conversation.AgentReason = message.ProposalReason;
        }
        else
        {
            conversation.AgentReason = $"kept the conversation's agent ({message.ProposalReason} was proposed)";
        }

        if (conversation.Owner != ConversationOwner.Bot)
        {
            // A human owns it, or it is paused: the bot stays silent and the team sees the customer waits.
            conversation.RequiresAttention = true;
            if (conversation.Owner == ConversationOwner.Human)
            {
                conversation.Status = ConversationStatus.WaitingHuman;
            }

            return;
        }

        if (TextMatch.FirstMatch(words, HumanRequestPhrases) is not null)
        {
            // The customer asked for a person: the bot says so once and stops; the request in flight is void. The trail
            // keeps no quote of the customer.
            HandOffAutomatically(conversation, Triggers.CustomerRequest, $"the customer asked for a person: '{TextMatch.Quote(message.Text!)}'",
                settings, now, auditDetail: "the customer asked for a person");
            if (message.Reply != ReplyPolicy.None)
            {
                Send(conversation, lead, HandoffNoticeText, MessageAuthor.System, agentId: null, now, conversation.LastCustomerSequence);
            }

            return;
        }

        switch (message.Reply)
        {
            case ReplyPolicy.Agent when conversation.CurrentAgentId is not null && conversation.ReplyInFlightUpTo is null && settings.BurstWindowSeconds > 0:
                // The tenant waits a moment so that a burst of messages gets one reply.
                if (!conversation.ReplyDue)
                {
                    conversation.ReplyDue = true;
                    db.Publish(new BurstWindowElapsed(conversation.TenantId, conversation.Id), TimerKey(), now + TimeSpan.FromSeconds(settings.BurstWindowSeconds));
                }

                break;
            case ReplyPolicy.Agent when conversation.CurrentAgentId is not null && conversation.ReplyInFlightUpTo is null:
                await RequestReplyAsync(conversation, lead, now, cancellationToken);
                break;
            case ReplyPolicy.OutOfHoursText when !conversation.OutOfHoursNoticeSent && message.OutOfHoursText is not null:
                conversation.OutOfHoursNoticeSent = true;
                Send(conversation, lead, message.OutOfHoursText, MessageAuthor.System, agentId: null, now);
                break;
        }
    }

    public async Task OnReplyWrittenAsync(AgentReplyGenerated reply, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == reply.ConversationId && c.TenantId == reply.TenantId, cancellationToken);
        if (conversation is null)
        {
            return;
        }

        if (AnswersAnEarlierRequest(conversation, reply.RequestOwnershipVersion))
        {
            return; // written before a human took over and gave back: the request made since then gets its own reply
        }

        var wroteMeanwhile = conversation.CustomerWroteDuringReply && conversation.ReplyInFlightUpTo == reply.BasedOnSequence;
        var askedUnderThisOwner = conversation.ReplyInFlightUpTo == reply.BasedOnSequence && conversation.ReplyInFlightVersion == conversation.OwnershipVersion;
        if (!ReleaseReplyInFlight(conversation, reply.BasedOnSequence))
        {
            return; // this reply (or a newer one) went out already
        }

        if (conversation.Owner != ConversationOwner.Bot || !conversation.IsOpen)
        {
            return; // a human took over while the reply was being written, or the conversation closed: drop it
        }

        if (reply.BasedOnSequence <= conversation.VoidRepliesUpTo && !askedUnderThisOwner)
        {
            return; // asked for before the last change of owner (a human may have answered meanwhile): drop it
        }

        var now = time.GetUtcNow();
        var lead = await db.Leads.FirstAsync(l => l.Id == conversation.CustomerLeadId, cancellationToken);
        if (reply.BasedOnSequence < conversation.LastCustomerSequence || wroteMeanwhile)
        {
            // The customer wrote again meanwhile: this reply is stale. One new reply covers everything.
            if (conversation.ReplyInFlightUpTo is null)
            {
                await RequestReplyAsync(conversation, lead, now, cancellationToken);
            }

            return;
        }

        Send(conversation, lead, reply.Text, MessageAuthor.AiAgent, reply.AgentId, now, reply.BasedOnSequence);
        if (reply.NeedsHuman)
        {
            // A fallback reason means the model failed (the text is Agent's fallback): not the agent's judgement that a
            // person should help, and the team should see which it was.
            var settings = await db.SettingsForAsync(conversation.TenantId, cancellationToken);
            if (reply.FallbackReason is { } failure)
            {
                HandOffAutomatically(conversation, Triggers.AgentFailed, AgentFailedReason(failure), settings, now);
            }
            else
            {
                HandOffAutomatically(conversation, Triggers.AgentNeedsHuman, "the agent asked for a human", settings, now);
            }
        }
    }

    /// <summary>
    /// The answer names the ownership version of its request, and the request in flight was made under another
    /// one: it answers a request superseded by a change of owner (a human took over, then gave back).
    /// </summary>
    private static bool AnswersAnEarlierRequest(Conversation conversation, long? requestOwnershipVersion) =>
        requestOwnershipVersion is { } asked && asked != conversation.ReplyInFlightVersion;

    public async Task OnReplyFailedAsync(AgentReplyFailed failure, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == failure.ConversationId && c.TenantId == failure.TenantId, cancellationToken);
        if (conversation is null || AnswersAnEarlierRequest(conversation, failure.RequestOwnershipVersion)
            || !ReleaseReplyInFlight(conversation, failure.BasedOnSequence))
        {
            return;
        }

        if (conversation.Owner != ConversationOwner.Bot || !conversation.IsOpen)
        {
            return;
        }

        // Never silence, never an error text: a short fallback, and a person is asked to take over.
        var now = time.GetUtcNow();
        var lead = await db.Leads.FirstAsync(l => l.Id == conversation.CustomerLeadId, cancellationToken);
        var settings = await db.SettingsForAsync(conversation.TenantId, cancellationToken);
        Send(conversation, lead, FallbackText, MessageAuthor.System, failure.AgentId, now, conversation.LastCustomerSequence);
        HandOffAutomatically(conversation, Triggers.AgentFailed, AgentFailedReason(failure.Reason), settings, now);
    }

    /// <summary>Agent's reasons name the failure (a timeout, an HTTP status, an open circuit), never the customer's words.</summary>
    private static string AgentFailedReason(string failure) => $"the agent could not answer: {failure}";

    /// <summary>An employee takes the conversation from the bot (or from another employee).</summary>
    public async Task TakeOverAsync(Conversation conversation, string employee, string? reason, CancellationToken cancellationToken)
    {
        var settings = await db.SettingsForAsync(conversation.TenantId, cancellationToken);
        HandOff(conversation, Triggers.EmployeeHandoff, reason ?? $"taken over by {employee}", employee, settings, time.GetUtcNow());
    }

    /// <summary>An employee silences the bot without taking the conversation: nobody answers until it is released or taken.</summary>
    public void Pause(Conversation conversation, string employee, string? reason)
    {
        if (conversation.Owner == ConversationOwner.Paused)
        {
            return;
        }

        var now = time.GetUtcNow();
        conversation.Owner = ConversationOwner.Paused;
        NewOwner(conversation, now);
        conversation.Status = ConversationStatus.Active;
        conversation.AssignedToUser = employee;
        conversation.HandoffReason = reason ?? $"paused by {employee}";
        conversation.ReleaseDueAt = null;
        db.Publish(new ConversationHandedOff(conversation.TenantId, conversation.Id, employee, conversation.HandoffReason, now)
            { Trigger = Triggers.EmployeePause, OwnershipVersion = conversation.OwnershipVersion, NumberId = conversation.WhatsappNumberId, AgentId = conversation.CurrentAgentId },
            Key(conversation));
    }

    /// <summary>
    /// An employee's reply (free text inside the 24-hour window, or a template): the employee takes the conversation,
    /// the bot's reply in flight is void, and the message goes out through Ingress like the bot's. Says whether the
    /// reply took the conversation (from the bot, a pause, or another employee), which the caller audits.
    /// </summary>
    public async Task<(ConversationMessage Message, bool TookOver)> SendHumanReplyAsync(Conversation conversation, string employee, string? body,
        string? contentSid, string? contentVariables, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var settings = await db.SettingsForAsync(conversation.TenantId, cancellationToken);
        var tookOver = HandOff(conversation, Triggers.EmployeeReply, $"{employee} replied", employee, settings, now);
        conversation.Status = ConversationStatus.Active; // a person is on it
        conversation.RequiresAttention = false;
        var lead = await db.Leads.FirstAsync(l => l.Id == conversation.CustomerLeadId, cancellationToken);
        return (Send(conversation, lead, body, MessageAuthor.Human, agentId: null, now, conversation.LastCustomerSequence, employee, contentSid, contentVariables),
            tookOver);
    }

    /// <summary>Gives the conversation back to the bot, which answers what the customer wrote meanwhile, if nobody did.</summary>
    public async Task ReleaseAsync(Conversation conversation, string trigger, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        conversation.Owner = ConversationOwner.Bot;
        NewOwner(conversation, now);
        conversation.Status = ConversationStatus.Active;
        conversation.RequiresAttention = false;
        conversation.AssignedToUser = null;
        conversation.HandoffReason = null;
        conversation.ReleaseDueAt = null;
        db.Publish(new ConversationReleased(conversation.TenantId, conversation.Id, reason, now)
            { Trigger = trigger, OwnershipVersion = conversation.OwnershipVersion }, Key(conversation));

        if (conversation.LastCustomerSequence > conversation.LastRepliedSequence && conversation.CurrentAgentId is not null)
        {
            var lead = await db.Leads.FirstAsync(l => l.Id == conversation.CustomerLeadId, cancellationToken);
            await RequestReplyAsync(conversation, lead, now, cancellationToken);
        }
    }

    /// <summary>The idle timer fired: close the conversation if nothing happened for the tenant's idle time, else wait on.</summary>
    public async Task OnIdleCheckAsync(ConversationIdleCheckDue due, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == due.ConversationId && c.TenantId == due.TenantId, cancellationToken);
        if (conversation is null || !conversation.IsOpen)
        {
            return;
        }

        var now = time.GetUtcNow();
        var settings = await db.SettingsForAsync(conversation.TenantId, cancellationToken);
        var closesAt = conversation.LastMessageAt + TimeSpan.FromSeconds(settings.ConversationIdleSeconds);
        if (closesAt > now)
        {
            ScheduleIdleCheck(conversation, closesAt);
            return;
        }

        Close(conversation, ConversationStatus.Closed, "idle", now);
    }

    /// <summary>The human-idle timer fired: give the conversation back to the bot if its owner has been idle long enough.</summary>
    public async Task OnHumanIdleAsync(HumanIdleReleaseDue due, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == due.ConversationId && c.TenantId == due.TenantId, cancellationToken);
        if (conversation is null || !conversation.IsOpen || conversation.Owner != ConversationOwner.Human || conversation.OwnershipVersion != due.OwnershipVersion)
        {
            return; // closed, released, or taken again since: that takeover has its own timer
        }

        var now = time.GetUtcNow();
        var settings = await db.SettingsForAsync(conversation.TenantId, cancellationToken);
        var releaseAt = (conversation.HumanLastActiveAt ?? conversation.OwnerSince ?? now) + TimeSpan.FromSeconds(settings.HumanIdleReleaseSeconds);
        if (releaseAt > now)
        {
            ScheduleRelease(conversation, releaseAt);
            return;
        }

        var reason = $"no one from the team acted for {settings.HumanIdleReleaseSeconds} s";
        await ReleaseAsync(conversation, Triggers.HumanIdle, reason, cancellationToken);
        db.Audit(conversation.TenantId, AuditActions.ConversationReleased, "conversation", conversation.Id, $"given back to the bot: {reason}", now);
    }

    /// <summary>The burst window ended: one reply covers every message of the burst, if the bot still owns the conversation.</summary>
    public async Task OnBurstWindowElapsedAsync(BurstWindowElapsed due, CancellationToken cancellationToken)
    {
        var conversation = await db.Conversations.FirstOrDefaultAsync(c => c.Id == due.ConversationId && c.TenantId == due.TenantId, cancellationToken);
        if (conversation is null || !conversation.ReplyDue)
        {
            return;
        }

        conversation.ReplyDue = false;
        if (conversation.IsOpen && conversation.Owner == ConversationOwner.Bot && conversation.ReplyInFlightUpTo is null
            && conversation.CurrentAgentId is not null && conversation.LastCustomerSequence > conversation.LastRepliedSequence)
        {
            var lead = await db.Leads.FirstAsync(l => l.Id == conversation.CustomerLeadId, cancellationToken);
            await RequestReplyAsync(conversation, lead, time.GetUtcNow(), cancellationToken);
        }
    }

    /// <summary>Resolves or closes a conversation: no reply goes out any more, and the next message opens a new one.</summary>
    public void Close(Conversation conversation, ConversationStatus status, string reason, DateTimeOffset now)
    {
        conversation.Status = status;
        conversation.ClosedAt = now;
        conversation.ReplyInFlightUpTo = null;
        conversation.ReplyDue = false;
        conversation.RequiresAttention = false;
        conversation.IdleCloseDueAt = null;
        conversation.ReleaseDueAt = null;
        db.Publish(new ConversationClosed(conversation.TenantId, conversation.Id, reason, now)
        {
            LeadId = conversation.CustomerLeadId,
            NumberId = conversation.WhatsappNumberId,
            AgentId = conversation.CurrentAgentId,
            MessageCount = conversation.MessageCount,
            FirstResponseSeconds = conversation.FirstResponseTime,
            AvgResponseSeconds = conversation.AvgResponseTime,
            HumanInvolved = conversation.HumanInvolved,
            Outcome = conversation.Outcome,
            OpenedAt = conversation.OpenedAt,
        }, Key(conversation));
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

    private async Task<CustomerLead> FindOrCreateLeadAsync(InboundMessageRouted message, LeadSettings settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lead = await db.Leads.FirstOrDefaultAsync(l => l.TenantId == message.TenantId && l.CustomerId == message.CustomerId, cancellationToken)
            // A lead entered by hand with this phone becomes the customer's lead on first contact.
            ?? (message.CustomerPhone is null ? null : await db.Leads.FirstOrDefaultAsync(
                l => l.TenantId == message.TenantId && l.CustomerId == null && l.Phone == message.CustomerPhone, cancellationToken));
        if (lead is not null)
        {
            lead.CustomerWrote(message.CustomerId, PhoneOf(message), message.ProfileName, now);
            return lead;
        }

        lead = CustomerLead.FirstContact(message.TenantId, message.CustomerId, PhoneOf(message), message.ProfileName, message.NumberId, settings, now);
        db.Leads.Add(lead);
        return lead;
    }

    /// <summary>The customer's phone in E.164, or none (a WhatsApp username id has no phone).</summary>
    private static string? PhoneOf(InboundMessageRouted message) => Validators.IsE164(message.CustomerPhone) ? message.CustomerPhone : null;

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
        conversation.ReplyInFlightVersion = conversation.OwnershipVersion;
        conversation.CustomerWroteDuringReply = false;
        conversation.ReplyDue = false;
        var preferences = lead.Preferences?.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "");
        db.Publish(new ReplyRequested(conversation.TenantId, conversation.Id, conversation.CurrentAgentId!, conversation.WhatsappNumberId,
            conversation.LastCustomerSequence, turns, new CustomerContext(lead.Id, lead.Name, lead.CustomerType, lead.Tags, preferences), now)
            { OwnershipVersion = conversation.OwnershipVersion },
            Key(conversation));
    }

    private ConversationMessage Send(Conversation conversation, CustomerLead lead, string? text, MessageAuthor author, string? agentId, DateTimeOffset now,
        long? answers = null, string? employeeId = null, string? contentSid = null, string? contentVariables = null)
    {
        var outbound = new ConversationMessage
        {
            Id = Ids.New("msg"),
            ConversationId = conversation.Id,
            TenantId = conversation.TenantId,
            Author = author,
            AgentId = agentId,
            EmployeeId = employeeId,
            Body = text,
            ContentSid = contentSid,
            ContentVariables = contentVariables,
            AnswersSequence = answers,
            DeliveryStatus = DeliveryStatuses.Sending,
            CreatedAt = now,
        };
        db.Messages.Add(outbound);
        conversation.MessageCount++;
        conversation.LastMessageAt = now;
        if (answers is { } answered && answered > conversation.LastRepliedSequence)
        {
            conversation.LastRepliedSequence = answered;
            RecordResponseTime(conversation, now);
        }

        lead.Contacted(now);

        db.Publish(new SendWhatsAppMessage(outbound.Id, conversation.TenantId, conversation.Id, conversation.AccountSid,
                conversation.NumberPhone, conversation.CustomerId, text, author, now)
            { AgentId = agentId, EmployeeId = employeeId, ContentSid = contentSid, ContentVariables = contentVariables },
            Key(conversation));
        return outbound;
    }

    /// <summary>Response times count each customer turn once: from its newest message to the first reply that covers it.</summary>
    private static void RecordResponseTime(Conversation conversation, DateTimeOffset now)
    {
        if (conversation.LastCustomerMessageAt is not { } asked)
        {
            return;
        }

        var seconds = Math.Max(0, (now - asked).TotalSeconds);
        conversation.FirstResponseTime ??= (int)Math.Round(Math.Max(0, (now - (conversation.FirstCustomerMessageAt ?? asked)).TotalSeconds));
        conversation.AvgResponseTime = ((conversation.AvgResponseTime ?? 0) * conversation.RepliesSent + seconds) / (conversation.RepliesSent + 1);
        conversation.RepliesSent++;
    }

    /// <summary>
    /// The conversation goes to a person without anyone asking through the API (the customer, the agent, a model
    /// failure): the trail records it as the system's, with <paramref name="auditDetail"/> (the reason when none is
    /// given; never the customer's words).
    /// </summary>
    private void HandOffAutomatically(Conversation conversation, string trigger, string reason, LeadSettings settings, DateTimeOffset now,
        string? auditDetail = null)
    {
        if (HandOff(conversation, trigger, reason, null, settings, now))
        {
            db.Audit(conversation.TenantId, AuditActions.ConversationHandedOff, "conversation", conversation.Id,
                $"handed to a person ({trigger}): {auditDetail ?? reason}", now);
        }
    }

    /// <summary>
    /// A human takes the conversation. A change of owner bumps the version and voids the reply in flight; an
    /// employee taking a conversation a human already owns only becomes its assignee. Says whether anything changed
    /// (a <see cref="ConversationHandedOff"/> was published).
    /// </summary>
    private bool HandOff(Conversation conversation, string trigger, string reason, string? employee, LeadSettings settings, DateTimeOffset now)
    {
        conversation.HumanInvolved = true;
        conversation.HumanLastActiveAt = now;
        if (conversation.Owner == ConversationOwner.Human)
        {
            if (employee is not null && conversation.AssignedToUser != employee)
            {
                conversation.AssignedToUser = employee;
                conversation.HandoffReason = reason;
                db.Publish(new ConversationHandedOff(conversation.TenantId, conversation.Id, employee, reason, now)
                    { Trigger = trigger, OwnershipVersion = conversation.OwnershipVersion, NumberId = conversation.WhatsappNumberId, AgentId = conversation.CurrentAgentId },
                    Key(conversation));
                return true;
            }

            return false;
        }

        conversation.Owner = ConversationOwner.Human;
        NewOwner(conversation, now);
        conversation.AssignedToUser = employee;
        conversation.HandoffReason = reason;
        conversation.Status = ConversationStatus.WaitingHuman;
        conversation.RequiresAttention = true;
        db.Publish(new ConversationHandedOff(conversation.TenantId, conversation.Id, employee, reason, now)
            { Trigger = trigger, OwnershipVersion = conversation.OwnershipVersion, NumberId = conversation.WhatsappNumberId, AgentId = conversation.CurrentAgentId },
            Key(conversation));
        ScheduleRelease(conversation, now + TimeSpan.FromSeconds(settings.HumanIdleReleaseSeconds));
        return true;
    }

    /// <summary>A new owner: the version moves on and every reply asked for so far is void.</summary>
    private static void NewOwner(Conversation conversation, DateTimeOffset now)
    {
        conversation.OwnershipVersion++;
        conversation.OwnerSince = now;
        conversation.VoidRepliesUpTo = conversation.LastCustomerSequence;
        conversation.ReplyInFlightUpTo = null;
        conversation.ReplyInFlightVersion = null;
        conversation.CustomerWroteDuringReply = false;
        conversation.ReplyDue = false;
    }

    private static void RaisePriority(Conversation conversation, string words)
    {
        if (TextMatch.FirstMatch(words, UrgentPriorityWords) is not null)
        {
            conversation.Priority = ConversationPriority.Urgent;
        }
        else if (TextMatch.FirstMatch(words, HighPriorityWords) is not null && conversation.Priority < ConversationPriority.High)
        {
            conversation.Priority = ConversationPriority.High;
        }
    }

    private void ScheduleIdleCheck(Conversation conversation, DateTimeOffset at)
    {
        conversation.IdleCloseDueAt = at;
        db.Publish(new ConversationIdleCheckDue(conversation.TenantId, conversation.Id), TimerKey(), at);
    }

    private void ScheduleRelease(Conversation conversation, DateTimeOffset at)
    {
        conversation.ReleaseDueAt = at;
        db.Publish(new HumanIdleReleaseDue(conversation.TenantId, conversation.Id, conversation.OwnershipVersion), TimerKey(), at);
    }

    /// <summary>Timers go out on keys of their own: a pending timer must never hold back the conversation's messages.</summary>
    private static string TimerKey() => Ids.New("due");

    private static string Key(Conversation conversation) =>
        OrderingKeys.Conversation(conversation.TenantId, conversation.WhatsappNumberId, conversation.CustomerId);
}
