using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Lead.Model;

/// <summary>
/// A CRM conversation (seed "CRMConversation"): one open per tenant, number and customer, and the gatekeeper of its
/// replies. On a customer message it keeps its agent (sticky, unless another agent's keyword matched), appends the
/// message in order, scores it, and asks for a reply only if the bot owns it and no reply is already being written (the
/// next reply then covers every message that arrived meanwhile). A written reply goes out only if the bot still owns
/// the conversation, owned it when the reply was asked for, and the reply answers the newest customer message; a stale
/// reply is dropped and one covering everything is asked for. Ownership (bot, human, paused) has a version: every change
/// bumps it and voids the replies asked for before. Its timers (idle closing, the human's idle release, the burst
/// window) are messages due later; each re-checks the conversation when it fires.
/// </summary>
public sealed class Conversation : Aggregate
{
    /// <summary>How many recent messages the agent sees.</summary>
    public const int RecentTurns = 20;

    private List<ConversationMessage>? _appended;

    private Conversation()
    {
    }

    public required string Id { get; init; }
    public required string TenantId { get; init; }
    public required string CustomerLeadId { get; init; }
    public required string WhatsappNumberId { get; init; }
    public required string NumberPhone { get; init; }
    public string AccountSid { get; private set; } = "";
    public required string CustomerId { get; init; }
    public required string SessionId { get; init; }
    public string? CustomerPhone { get; private set; }

    public ConversationStatus Status { get; private set; } = ConversationStatus.Active;
    public string CurrentStep { get; private set; } = "greeting";
    public ConversationPriority Priority { get; private set; } = ConversationPriority.Normal;
    public string? CurrentAgentId { get; private set; }

    /// <summary>Why the current agent answers (Routing's proposal, or "sticky"), or, when Routing proposed nobody, why nobody does.</summary>
    public string? AgentReason { get; private set; }

    public int MessageCount { get; private set; }

    /// <summary>Seconds from the first customer message to the first reply.</summary>
    public int? FirstResponseTime { get; private set; }

    public double? AvgResponseTime { get; private set; }
    public DateTimeOffset LastMessageAt { get; private set; }
    public bool RequiresAttention { get; private set; }
    /// <summary>The person the conversation is assigned to, by name; <see cref="AssignedStaffId"/> when a staff member of the console.</summary>
    public string? AssignedToUser { get; private set; }

    public string? AssignedStaffId { get; private set; }
    public List<string> Tags { get; private set; } = [];
    public string? Category { get; private set; }
    public string? Intent { get; private set; }
    public int? SatisfactionRating { get; private set; }
    public string? Outcome { get; private set; }
    public decimal ConversionValue { get; private set; }
    public string? InternalNotes { get; private set; }

    public ConversationOwner Owner { get; private set; } = ConversationOwner.Bot;

    /// <summary>Bumped whenever ownership changes, so a reply written under an older owner is recognised.</summary>
    public int OwnershipVersion { get; private set; }

    /// <summary>The newest customer message (Ingress's sequence); only a reply to it may go out.</summary>
    public long LastCustomerSequence { get; private set; }

    public DateTimeOffset? LastCustomerMessageAt { get; private set; }
    public DateTimeOffset? FirstCustomerMessageAt { get; private set; }

    /// <summary>A reply is being written for messages up to this sequence; newer messages wait for it.</summary>
    public long? ReplyInFlightUpTo { get; private set; }

    /// <summary>
    /// A customer message arrived while the reply in flight was being written. Even one older than the request
    /// (overtaken on the broker) was not among the turns the agent saw, so that reply is stale: one covering
    /// everything is asked for instead.
    /// </summary>
    public bool CustomerWroteDuringReply { get; private set; }

    /// <summary>The newest customer message covered by a reply that went out.</summary>
    public long LastRepliedSequence { get; private set; }

    /// <summary>
    /// How many messages went to the customer from this number so far, across their conversations: each
    /// <see cref="SendWhatsAppMessage"/> carries its number in this count, so Ingress sends them in that order without
    /// waiting to see whether an earlier one is still on its way.
    /// </summary>
    public long SendSequence { get; private set; }

    public int RepliesSent { get; private set; }

    /// <summary>Why the conversation was last handed to a human (or paused), shown to the employees.</summary>
    public string? HandoffReason { get; private set; }

    public DateTimeOffset? OwnerSince { get; private set; }

    /// <summary>The last time the human owner acted (took over or wrote); the idle release counts from it.</summary>
    public DateTimeOffset? HumanLastActiveAt { get; private set; }

    /// <summary>Whether a human ever took part (owned it or wrote in it).</summary>
    public bool HumanInvolved { get; private set; }

    /// <summary>Replies written for customer messages up to this sequence were asked for before the last change of owner: dropped.</summary>
    public long VoidRepliesUpTo { get; private set; }

    /// <summary>The ownership version under which the reply in flight was asked for.</summary>
    public int? ReplyInFlightVersion { get; private set; }

    /// <summary>A reply is due once the tenant's burst window ends (a timer is pending).</summary>
    public bool ReplyDue { get; private set; }

    /// <summary>Pending timers (messages due later): at most one of each kind per conversation.</summary>
    public DateTimeOffset? IdleCloseDueAt { get; private set; }

    public DateTimeOffset? ReleaseDueAt { get; private set; }

    /// <summary>The out-of-hours text went out in the current closed period; a message inside business hours ends the period.</summary>
    public bool OutOfHoursNoticeSent { get; private set; }
    public DateTimeOffset OpenedAt { get; init; }
    public DateTimeOffset? ClosedAt { get; private set; }

    /// <summary>Postgres' row version: concurrent updates of one conversation retry instead of overwriting each other.</summary>
    public uint Version { get; private set; }

    public bool IsOpen => Status is ConversationStatus.Active or ConversationStatus.WaitingHuman;

    private string Key => OrderingKeys.Conversation(TenantId, WhatsappNumberId, CustomerId);

    /// <summary>A customer's first message since their last conversation ended opens a new one.</summary>
    /// <param name="sendsBefore">The <see cref="SendSequence"/> the customer's earlier conversations on the number reached.</param>
    public static Conversation Open(InboundMessageRouted message, CustomerLead lead, LeadSettings settings, long sendsBefore, DateTimeOffset now)
    {
        var conversation = new Conversation
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
            SendSequence = sendsBefore,
        };
        conversation.Raise(new ConversationOpened(message.TenantId, conversation.Id, lead.Id, message.NumberId, message.ProposedAgentId, now), conversation.Key);
        conversation.ScheduleIdleCheck(now + TimeSpan.FromSeconds(settings.ConversationIdleSeconds));
        return conversation;
    }

    /// <summary>The messages appended since the last save (customer messages and ours), handed over once.</summary>
    public IReadOnlyList<ConversationMessage> TakeAppended()
    {
        var appended = _appended ?? [];
        _appended = null;
        return appended;
    }

    /// <summary>
    /// The customer wrote (<paramref name="message"/>, not appended before): append it in order, score it, keep the agent,
    /// and ask for a reply, start the burst window, send the out-of-hours text or hand the conversation to a person.
    /// </summary>
    public async Task ReceiveAsync(InboundMessageRouted message, CustomerLead lead, LeadSettings settings, IConversationStore store, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        Append(new ConversationMessage
        {
            Id = Ids.New("msg"),
            ConversationId = Id,
            TenantId = TenantId,
            Author = MessageAuthor.Customer,
            Body = message.Text,
            Media = message.Media.ToList(),
            InboundMessageId = message.InboundMessageId,
            Sequence = message.Sequence,
            DeliveryStatus = "received",
            CreatedAt = message.ReceivedAt,
        }, now);
        AccountSid = message.AccountSid;
        FirstCustomerMessageAt ??= message.ReceivedAt;
        if (message.Sequence > LastCustomerSequence)
        {
            LastCustomerSequence = message.Sequence;
            LastCustomerMessageAt = message.ReceivedAt;
        }

        if (message.InsideBusinessHours)
        {
            // The business was open: the next closed period is a new one, whose first message gets the out-of-hours text again.
            OutOfHoursNoticeSent = false;
        }

        if (ReplyInFlightUpTo is not null)
        {
            CustomerWroteDuringReply = true;
        }

        var words = TextMatch.Words(message.Text);
        RaisePriority(words);
        lead.ScoreMessage(message.Text, Id, await store.SignalsScoredAsync(lead.Id, Id, cancellationToken), settings, now);
        KeepOrChangeAgent(message);

        if (Owner != ConversationOwner.Bot)
        {
            // A human owns it, or it is paused: the bot stays silent and the team sees the customer waits.
            RequiresAttention = true;
            if (Owner == ConversationOwner.Human)
            {
                Status = ConversationStatus.WaitingHuman;
            }

            return;
        }

        if (CustomerWords.AskForAPerson(words))
        {
            // The customer asked for a person: the bot says so once and stops; the request in flight is void. The trail
            // keeps no quote of the customer.
            HandOffAutomatically(HandoffTriggers.CustomerRequest, $"the customer asked for a person: '{TextMatch.Quote(message.Text!)}'", settings, now,
                auditDetail: "the customer asked for a person");
            if (message.Reply != ReplyPolicy.None)
            {
                Send(lead, SystemTexts.HandoffNotice, MessageAuthor.System, agentId: null, now, LastCustomerSequence);
            }

            return;
        }

        switch (message.Reply)
        {
            case ReplyPolicy.Agent when CurrentAgentId is not null && ReplyInFlightUpTo is null && settings.BurstWindowSeconds > 0:
                // The tenant waits a moment so that a burst of messages gets one reply.
                if (!ReplyDue)
                {
                    ReplyDue = true;
                    Raise(new BurstWindowElapsed(TenantId, Id), TimerKey(), now + TimeSpan.FromSeconds(settings.BurstWindowSeconds));
                }

                break;
            case ReplyPolicy.Agent when CurrentAgentId is not null && ReplyInFlightUpTo is null:
                await RequestReplyAsync(lead, store, now, cancellationToken);
                break;
            case ReplyPolicy.OutOfHoursText when !OutOfHoursNoticeSent && message.OutOfHoursText is not null:
                OutOfHoursNoticeSent = true;
                Send(lead, message.OutOfHoursText, MessageAuthor.System, agentId: null, now);
                break;
        }
    }

    /// <summary>The agent wrote a reply: send it if it may still go out, drop it if not, and ask again if it is stale.</summary>
    public async Task AcceptReplyAsync(AgentReplyGenerated reply, IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (AnswersAnEarlierRequest(reply.RequestOwnershipVersion))
        {
            return; // written before a human took over and gave back: the request made since then gets its own reply
        }

        var wroteMeanwhile = CustomerWroteDuringReply && ReplyInFlightUpTo == reply.BasedOnSequence;
        var askedUnderThisOwner = ReplyInFlightUpTo == reply.BasedOnSequence && ReplyInFlightVersion == OwnershipVersion;
        if (!ReleaseReplyInFlight(reply.BasedOnSequence))
        {
            return; // this reply (or a newer one) went out already
        }

        if (Owner != ConversationOwner.Bot || !IsOpen)
        {
            return; // a human took over while the reply was being written, or the conversation closed: drop it
        }

        if (reply.BasedOnSequence <= VoidRepliesUpTo && !askedUnderThisOwner)
        {
            return; // asked for before the last change of owner (a human may have answered meanwhile): drop it
        }

        var lead = await store.LeadAsync(TenantId, CustomerLeadId, cancellationToken);
        if (reply.BasedOnSequence < LastCustomerSequence || wroteMeanwhile)
        {
            // The customer wrote again meanwhile: this reply is stale. One new reply covers everything.
            if (ReplyInFlightUpTo is null)
            {
                await RequestReplyAsync(lead, store, now, cancellationToken);
            }

            return;
        }

        Send(lead, reply.Text, MessageAuthor.AiAgent, reply.AgentId, now, reply.BasedOnSequence);
        if (reply.NeedsHuman)
        {
            // A fallback reason means the model failed (the text is Agent's fallback): not the agent's judgement that a
            // person should help, and the team should see which it was.
            var settings = await store.SettingsForAsync(TenantId, cancellationToken);
            if (reply.FallbackReason is { } failure)
            {
                HandOffAutomatically(HandoffTriggers.AgentFailed, AgentFailedReason(failure), settings, now);
            }
            else
            {
                HandOffAutomatically(HandoffTriggers.AgentNeedsHuman, "the agent asked for a human", settings, now);
            }
        }
    }

    /// <summary>The agent could not write the reply: never silence, never an error text: a short fallback, and a person is asked to take over.</summary>
    public async Task ReplyFailedAsync(AgentReplyFailed failure, IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (AnswersAnEarlierRequest(failure.RequestOwnershipVersion) || !ReleaseReplyInFlight(failure.BasedOnSequence))
        {
            return;
        }

        if (Owner != ConversationOwner.Bot || !IsOpen)
        {
            return;
        }

        var lead = await store.LeadAsync(TenantId, CustomerLeadId, cancellationToken);
        var settings = await store.SettingsForAsync(TenantId, cancellationToken);
        Send(lead, SystemTexts.Fallback, MessageAuthor.System, failure.AgentId, now, LastCustomerSequence);
        HandOffAutomatically(HandoffTriggers.AgentFailed, AgentFailedReason(failure.Reason), settings, now);
    }

    /// <summary>An employee takes the conversation from the bot (or from another employee). Says whether anything changed.</summary>
    public async Task<bool> TakeOverAsync(Employee employee, string? reason, IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var settings = await store.SettingsForAsync(TenantId, cancellationToken);
        return HandOff(HandoffTriggers.EmployeeHandoff, reason ?? $"taken over by {employee.Name}", employee, settings, now);
    }

    /// <summary>An employee silences the bot without taking the conversation: nobody answers until it is released or taken.</summary>
    public void Pause(Employee employee, string? reason, DateTimeOffset now)
    {
        if (Owner == ConversationOwner.Paused)
        {
            return;
        }

        Owner = ConversationOwner.Paused;
        NewOwner(now);
        Status = ConversationStatus.Active;
        Assign(employee);
        HandoffReason = reason ?? $"paused by {employee.Name}";
        ReleaseDueAt = null;
        Raise(new ConversationHandedOff(TenantId, Id, employee.Name, HandoffReason, now)
            { AssignedStaffId = employee.StaffId, Trigger = HandoffTriggers.EmployeePause, OwnershipVersion = OwnershipVersion, NumberId = WhatsappNumberId, AgentId = CurrentAgentId }, Key);
        RaiseActivity(ConversationChange.OwnerChanged, now);
    }

    /// <summary>
    /// An employee's reply (free text inside the customer-service window, or a template): the employee takes the
    /// conversation, the bot's reply in flight is void, and the message goes out through Ingress like the bot's. Says
    /// whether the reply took the conversation (from the bot, a pause, or another employee); free text outside the
    /// window changes nothing and says so.
    /// </summary>
    public async Task<HumanReply> ReplyAsHumanAsync(Employee employee, string? body, string? contentSid, string? contentVariables,
        IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (contentSid is null
            && new CustomerServiceWindow(await store.LastCustomerMessageAtAsync(TenantId, WhatsappNumberId, CustomerId, cancellationToken)) is var window
            && !window.IsOpen(now))
        {
            return new HumanReply(null, false, window);
        }

        var settings = await store.SettingsForAsync(TenantId, cancellationToken);
        var tookOver = HandOff(HandoffTriggers.EmployeeReply, $"{employee.Name} replied", employee, settings, now);
        Status = ConversationStatus.Active; // a person is on it
        RequiresAttention = false;
        var lead = await store.LeadAsync(TenantId, CustomerLeadId, cancellationToken);
        return new HumanReply(Send(lead, body, MessageAuthor.Human, agentId: null, now, LastCustomerSequence, employee.Name, contentSid, contentVariables), tookOver, null);
    }

    /// <summary>Gives the conversation back to the bot, which answers what the customer wrote meanwhile, if nobody did.</summary>
    public async Task ReleaseAsync(string trigger, string reason, IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        Owner = ConversationOwner.Bot;
        NewOwner(now);
        Status = ConversationStatus.Active;
        RequiresAttention = false;
        Assign(null);
        HandoffReason = null;
        ReleaseDueAt = null;
        Raise(new ConversationReleased(TenantId, Id, reason, now) { Trigger = trigger, OwnershipVersion = OwnershipVersion }, Key);
        RaiseActivity(ConversationChange.OwnerChanged, now);

        if (LastCustomerSequence > LastRepliedSequence && CurrentAgentId is not null)
        {
            await RequestReplyAsync(await store.LeadAsync(TenantId, CustomerLeadId, cancellationToken), store, now, cancellationToken);
        }
    }

    /// <summary>The idle timer fired: close the conversation if nothing happened for the tenant's idle time, else wait on.</summary>
    public async Task CheckIdleAsync(IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!IsOpen)
        {
            return;
        }

        var settings = await store.SettingsForAsync(TenantId, cancellationToken);
        var closesAt = LastMessageAt + TimeSpan.FromSeconds(settings.ConversationIdleSeconds);
        if (closesAt > now)
        {
            ScheduleIdleCheck(closesAt);
            return;
        }

        Close(ConversationStatus.Closed, "idle", now);
    }

    /// <summary>
    /// The human-idle timer of the takeover <paramref name="ownershipVersion"/> fired: give the conversation back to the
    /// bot if its owner has been idle long enough (closed, released or taken again since, that takeover has its own timer).
    /// </summary>
    public async Task CheckHumanIdleAsync(int ownershipVersion, IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!IsOpen || Owner != ConversationOwner.Human || OwnershipVersion != ownershipVersion)
        {
            return;
        }

        var settings = await store.SettingsForAsync(TenantId, cancellationToken);
        var releaseAt = (HumanLastActiveAt ?? OwnerSince ?? now) + TimeSpan.FromSeconds(settings.HumanIdleReleaseSeconds);
        if (releaseAt > now)
        {
            ScheduleRelease(releaseAt);
            return;
        }

        var reason = $"no one from the team acted for {settings.HumanIdleReleaseSeconds} s";
        await ReleaseAsync(HandoffTriggers.HumanIdle, reason, store, now, cancellationToken);
        RaiseAudit(TenantId, AuditActions.ConversationReleased, "conversation", Id, $"given back to the bot: {reason}", now);
    }

    /// <summary>The burst window ended: one reply covers every message of the burst, if the bot still owns the conversation.</summary>
    public async Task BurstWindowElapsedAsync(IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!ReplyDue)
        {
            return;
        }

        ReplyDue = false;
        if (IsOpen && Owner == ConversationOwner.Bot && ReplyInFlightUpTo is null && CurrentAgentId is not null && LastCustomerSequence > LastRepliedSequence)
        {
            await RequestReplyAsync(await store.LeadAsync(TenantId, CustomerLeadId, cancellationToken), store, now, cancellationToken);
        }
    }

    /// <summary>Resolves or closes the conversation: no reply goes out any more, and the next message opens a new one.</summary>
    public void Close(ConversationStatus status, string reason, DateTimeOffset now)
    {
        Status = status;
        ClosedAt = now;
        ReplyInFlightUpTo = null;
        ReplyDue = false;
        RequiresAttention = false;
        IdleCloseDueAt = null;
        ReleaseDueAt = null;
        Raise(new ConversationClosed(TenantId, Id, reason, now)
        {
            LeadId = CustomerLeadId,
            NumberId = WhatsappNumberId,
            AgentId = CurrentAgentId,
            MessageCount = MessageCount,
            FirstResponseSeconds = FirstResponseTime,
            AvgResponseSeconds = AvgResponseTime,
            HumanInvolved = HumanInvolved,
            Outcome = Outcome,
            OpenedAt = OpenedAt,
        }, Key);
        RaiseActivity(ConversationChange.StatusChanged, now);
    }

    /// <summary>An employee's edit of how the conversation is filed; a field left null keeps its value.</summary>
    public void Edit(ConversationPriority? priority, IReadOnlyList<string>? tags, string? category, string? intent, string? currentStep, string? internalNotes)
    {
        if (priority is { } p) Priority = p;
        if (tags is not null) Tags = tags.Select(t => t.Trim()).Distinct(StringComparer.OrdinalIgnoreCase).ToList();
        if (category is not null) Category = category.Trim();
        if (intent is not null) Intent = intent.Trim();
        if (currentStep is not null) CurrentStep = currentStep.Trim();
        if (internalNotes is not null) InternalNotes = internalNotes;
    }

    /// <summary>
    /// The business's outcome of the conversation: an outcome, the customer's satisfaction, and what was bought. A
    /// conversion is a purchase: the lead's total and last purchase follow, and the lead is converted.
    /// </summary>
    public async Task RecordOutcomeAsync(string? outcome, int? satisfactionRating, decimal? conversionValue, IConversationStore store, DateTimeOffset now,
        CancellationToken cancellationToken)
    {
        var changed = false;
        if (outcome is not null && outcome.Trim() != Outcome)
        {
            Outcome = outcome.Trim();
            changed = true;
        }

        if (satisfactionRating is { } rating && rating != SatisfactionRating)
        {
            SatisfactionRating = rating;
            changed = true;
        }

        decimal? delta = null;
        if (conversionValue is { } value && value != ConversionValue)
        {
            delta = value - ConversionValue;
            ConversionValue = value;
            (await store.LeadAsync(TenantId, CustomerLeadId, cancellationToken)).RecordConversion(delta.Value, now);
            changed = true;
        }

        if (changed)
        {
            Raise(new ConversationOutcomeRecorded(TenantId, Id, Outcome, SatisfactionRating, ConversionValue, now)
            {
                LeadId = CustomerLeadId, NumberId = WhatsappNumberId, AgentId = CurrentAgentId, HumanInvolved = HumanInvolved, ConversionDelta = delta,
            }, Key);
        }
    }

    /// <summary>Agent's reasons name the failure (a timeout, an HTTP status, an open circuit), never the customer's words.</summary>
    private static string AgentFailedReason(string failure) => $"the agent could not answer: {failure}";

    /// <summary>
    /// The answer names the ownership version of its request, and the request in flight was made under another
    /// one: it answers a request superseded by a change of owner (a human took over, then gave back).
    /// </summary>
    private bool AnswersAnEarlierRequest(long? requestOwnershipVersion) =>
        requestOwnershipVersion is { } asked && asked != ReplyInFlightVersion;

    /// <summary>
    /// Ends the wait for the reply in flight if this answer covers it, and says whether the answer is still news:
    /// newer than the last reply sent, or the answer to the request in flight. The latter matters when a customer
    /// message overtaken on the broker arrives after a newer one was answered: it asks again up to the same
    /// sequence, and that answer must go out (and must not leave the conversation waiting for ever).
    /// </summary>
    private bool ReleaseReplyInFlight(long basedOnSequence)
    {
        var answersRequestInFlight = ReplyInFlightUpTo == basedOnSequence;
        if (ReplyInFlightUpTo <= basedOnSequence)
        {
            ReplyInFlightUpTo = null;
        }

        return answersRequestInFlight || basedOnSequence > LastRepliedSequence;
    }

    /// <summary>
    /// Sticky agent: an open conversation keeps its agent unless another agent's keyword matched. When Routing proposes
    /// nobody (autoReply off, the out-of-hours text, no agent on duty), its reason is why nobody answers; the
    /// conversation's agent stays for when an agent answers again.
    /// </summary>
    private void KeepOrChangeAgent(InboundMessageRouted message)
    {
        if (message.ProposedAgentId is null || message.ProposedAgentId == CurrentAgentId)
        {
            AgentReason = message.ProposalReason;
        }
        else if (CurrentAgentId is null || message.MatchedKeyword)
        {
            CurrentAgentId = message.ProposedAgentId;
            AgentReason = message.ProposalReason;
        }
        else
        {
            AgentReason = $"kept the conversation's agent ({message.ProposalReason} was proposed)";
        }
    }

    /// <summary>Asks the agent for one reply covering every customer message so far, with the recent turns.</summary>
    private async Task RequestReplyAsync(CustomerLead lead, IConversationStore store, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var saved = await store.RecentTurnsAsync(TenantId, Id, RecentTurns, cancellationToken);
        var turns = saved
            .Concat((_appended ?? []).Where(m => m.Body is not null).Select(m => new ConversationTurn(m.Author, m.Body!, m.CreatedAt)))
            .OrderBy(t => t.At)
            .TakeLast(RecentTurns)
            .ToList();
        ReplyInFlightUpTo = LastCustomerSequence;
        ReplyInFlightVersion = OwnershipVersion;
        CustomerWroteDuringReply = false;
        ReplyDue = false;
        var preferences = lead.Preferences?.ToDictionary(p => p.Key, p => p.Value?.ToString() ?? "");
        Raise(new ReplyRequested(TenantId, Id, CurrentAgentId!, WhatsappNumberId, LastCustomerSequence, turns,
                new CustomerContext(lead.Id, lead.Name, lead.CustomerType, lead.Tags, preferences), now)
            { OwnershipVersion = OwnershipVersion }, Key);
    }

    private ConversationMessage Send(CustomerLead lead, string? text, MessageAuthor author, string? agentId, DateTimeOffset now,
        long? answers = null, string? employeeId = null, string? contentSid = null, string? contentVariables = null)
    {
        var outbound = new ConversationMessage
        {
            Id = Ids.New("msg"),
            ConversationId = Id,
            TenantId = TenantId,
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
        Append(outbound, now);
        if (answers is { } answered && answered > LastRepliedSequence)
        {
            LastRepliedSequence = answered;
            RecordResponseTime(now);
        }

        lead.Contacted(now);
        Raise(new SendWhatsAppMessage(outbound.Id, TenantId, Id, AccountSid, NumberPhone, CustomerId, text, author, now)
            { AgentId = agentId, EmployeeId = employeeId, ContentSid = contentSid, ContentVariables = contentVariables, QueueSequence = ++SendSequence }, Key);
        return outbound;
    }

    private void Append(ConversationMessage message, DateTimeOffset now)
    {
        (_appended ??= []).Add(message);
        MessageCount++;
        LastMessageAt = now;
        RaiseActivity(ConversationChange.MessageAppended, now, message);
    }

    /// <summary>What staff see changed; the assignee is the one after the change (no change below moves it after an append).</summary>
    private void RaiseActivity(ConversationChange change, DateTimeOffset now, ConversationMessage? message = null) =>
        Raise(new ConversationActivity(TenantId, Id, change, now)
        {
            NumberId = WhatsappNumberId,
            MessageId = message?.Id,
            Author = message?.Author,
            DeliveryStatus = message?.DeliveryStatus,
            AssignedToUser = AssignedToUser,
            AssignedStaffId = AssignedStaffId,
        }, OrderingKeys.ConversationActivity(TenantId, Id));

    /// <summary>Response times count each customer turn once: from its newest message to the first reply that covers it.</summary>
    private void RecordResponseTime(DateTimeOffset now)
    {
        if (LastCustomerMessageAt is not { } asked)
        {
            return;
        }

        var seconds = Math.Max(0, (now - asked).TotalSeconds);
        FirstResponseTime ??= (int)Math.Round(Math.Max(0, (now - (FirstCustomerMessageAt ?? asked)).TotalSeconds));
        AvgResponseTime = ((AvgResponseTime ?? 0) * RepliesSent + seconds) / (RepliesSent + 1);
        RepliesSent++;
    }

    /// <summary>
    /// The conversation goes to a person without anyone asking through the API (the customer, the agent, a model
    /// failure): the trail records it as the system's, with <paramref name="auditDetail"/> (the reason when none is
    /// given; never the customer's words).
    /// </summary>
    private void HandOffAutomatically(string trigger, string reason, LeadSettings settings, DateTimeOffset now, string? auditDetail = null)
    {
        if (HandOff(trigger, reason, null, settings, now))
        {
            RaiseAudit(TenantId, AuditActions.ConversationHandedOff, "conversation", Id, $"handed to a person ({trigger}): {auditDetail ?? reason}", now);
        }
    }

    /// <summary>
    /// A human takes the conversation. A change of owner bumps the version and voids the reply in flight; an
    /// employee taking a conversation a human already owns only becomes its assignee. Says whether anything changed
    /// (a <see cref="ConversationHandedOff"/> was raised).
    /// </summary>
    private void Assign(Employee? employee)
    {
        AssignedToUser = employee?.Name;
        AssignedStaffId = employee?.StaffId;
    }

    private bool HandOff(string trigger, string reason, Employee? employee, LeadSettings settings, DateTimeOffset now)
    {
        HumanInvolved = true;
        HumanLastActiveAt = now;
        if (Owner == ConversationOwner.Human)
        {
            if (employee is not null && !employee.Is(AssignedToUser, AssignedStaffId))
            {
                Assign(employee);
                HandoffReason = reason;
                Raise(new ConversationHandedOff(TenantId, Id, employee.Name, reason, now)
                    { AssignedStaffId = employee.StaffId, Trigger = trigger, OwnershipVersion = OwnershipVersion, NumberId = WhatsappNumberId, AgentId = CurrentAgentId }, Key);
                RaiseActivity(ConversationChange.OwnerChanged, now);
                return true;
            }

            return false;
        }

        Owner = ConversationOwner.Human;
        NewOwner(now);
        Assign(employee);
        HandoffReason = reason;
        Status = ConversationStatus.WaitingHuman;
        RequiresAttention = true;
        Raise(new ConversationHandedOff(TenantId, Id, employee?.Name, reason, now)
            { AssignedStaffId = employee?.StaffId, Trigger = trigger, OwnershipVersion = OwnershipVersion, NumberId = WhatsappNumberId, AgentId = CurrentAgentId }, Key);
        RaiseActivity(ConversationChange.OwnerChanged, now);
        ScheduleRelease(now + TimeSpan.FromSeconds(settings.HumanIdleReleaseSeconds));
        return true;
    }

    /// <summary>A new owner: the version moves on and every reply asked for so far is void.</summary>
    private void NewOwner(DateTimeOffset now)
    {
        OwnershipVersion++;
        OwnerSince = now;
        VoidRepliesUpTo = LastCustomerSequence;
        ReplyInFlightUpTo = null;
        ReplyInFlightVersion = null;
        CustomerWroteDuringReply = false;
        ReplyDue = false;
    }

    private void RaisePriority(string words)
    {
        if (CustomerWords.Priority(words) is { } priority && priority > Priority)
        {
            Priority = priority;
        }
    }

    private void ScheduleIdleCheck(DateTimeOffset at)
    {
        IdleCloseDueAt = at;
        Raise(new ConversationIdleCheckDue(TenantId, Id), TimerKey(), at);
    }

    private void ScheduleRelease(DateTimeOffset at)
    {
        ReleaseDueAt = at;
        Raise(new HumanIdleReleaseDue(TenantId, Id, OwnershipVersion), TimerKey(), at);
    }

    /// <summary>Timers go out on keys of their own: a pending timer must never hold back the conversation's messages.</summary>
    private static string TimerKey() => Ids.New("due");
}
