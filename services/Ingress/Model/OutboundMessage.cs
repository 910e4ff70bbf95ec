using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Ingress.Model;

/// <summary>Where a message we send stands, as a whole.</summary>
public enum OutboundState
{
    /// <summary>Recorded; its parts are being sent (or wait for a retry or a pacing slot).</summary>
    Pending,

    /// <summary>Twilio accepted every part.</summary>
    Sent,

    /// <summary>A part stopped inside the Twilio call and could not be found at Twilio: never resent, shown to operators.</summary>
    DeliveryUnknown,

    Failed,
}

/// <summary>
/// A message we send (one <see cref="SendWhatsAppMessage"/> command), recorded before Twilio is called: a redelivered
/// command finds it and never sends the customer the same text twice. A reply over Twilio's 1600 characters becomes
/// several parts, sent in order. Its transitions: recorded (pending, or failed at once outside the 24-hour window with
/// no template), started (its turn in the customer's queue, <see cref="SendQueue"/>), each part claimed right before
/// its Twilio call and then sent, retried later, failed or lost in the call; the message ends sent, failed or with its
/// delivery unknown, and a status callback moves a sent message's status forward. Each transition raises what Lead and
/// Metrics hear of it, and the timers that wake it.
/// </summary>
public sealed class OutboundMessage : Aggregate
{
    private OutboundMessage()
    {
    }

    public required string OutboundId { get; init; }
    public required string TenantId { get; init; }
    public required string ConversationId { get; init; }
    public required string AccountSid { get; init; }
    public required string From { get; init; }
    public required string To { get; init; }
    public string? Body { get; init; }
    public string? ContentSid { get; init; }
    public string? ContentVariables { get; init; }

    /// <summary>
    /// True when the approved template (<see cref="ContentSid"/>) is what goes out, as one send; false when the free
    /// text (<see cref="Body"/>) does. Decided once, when the command is recorded, by the 24-hour window.
    /// </summary>
    public bool SendsTemplate { get; init; }

    public MessageAuthor Author { get; init; }
    public OutboundState State { get; private set; }

    /// <summary>
    /// Lead's number for the command among those to this customer from this number (1, 2, ...): the order of the
    /// (number, customer) queue. 0 for a command from a Lead that did not number them; those go first, by
    /// <see cref="RequestedAt"/>.
    /// </summary>
    public long QueueSequence { get; init; }

    /// <summary>When Lead issued the command: the queue's order among commands of the same <see cref="QueueSequence"/>.</summary>
    public DateTimeOffset RequestedAt { get; init; }

    /// <summary>When the command was published (its envelope's sent time): how long it waited in Lead's outbox.</summary>
    public DateTimeOffset PublishedAt { get; init; }

    /// <summary>The order in which Ingress recorded its messages: the last tie-break of the queue's order.</summary>
    public long Sequence { get; init; }

    /// <summary>
    /// When the message became the one its (number, customer) queue is sending; null while it waits for an earlier
    /// message to that customer from that number to end. At most one message per queue is started and pending.
    /// </summary>
    public DateTimeOffset? StartedAt { get; private set; }

    /// <summary>The status reported to Lead: the least advanced of the parts' Twilio statuses (or failed).</summary>
    public string? ReportedStatus { get; private set; }

    public string? ErrorCode { get; private set; }
    public string? FailureReason { get; private set; }

    /// <summary>
    /// Why the approved template went out instead of the command's free text (the 24-hour window had closed);
    /// null when the text went out, or when only a template was asked for.
    /// </summary>
    public string? TemplateReason { get; init; }

    public DateTimeOffset CreatedAt { get; init; }
    public DateTimeOffset UpdatedAt { get; private set; }
    public List<OutboundPart> Parts { get; private set; } = [];

    /// <summary>The ordering key of what this message tells Lead: its reports arrive in the order they were made.</summary>
    public string Key => $"out:{OutboundId}";

    public OutboundPart Part(int index) => Parts.Single(p => p.Index == index);

    /// <summary>The part to send next (the first not sent), or null when every part was sent.</summary>
    public OutboundPart? NextPart => Parts.OrderBy(p => p.Index).FirstOrDefault(p => p.State != PartState.Sent);

    /// <summary>
    /// Records a command: free text inside the customer's 24-hour window; outside it, or when there is no text, the
    /// approved template as one send; outside it with no template, failed at once (Twilio's 63016).
    /// </summary>
    public static OutboundMessage Record(SendWhatsAppMessage command, DateTimeOffset publishedAt, CustomerServiceWindow window, DateTimeOffset now)
    {
        var text = string.IsNullOrWhiteSpace(command.Body) ? null : command.Body;
        var windowClosed = text is null ? null : window.ClosedReason(now);
        var template = command.ContentSid is not null && (text is null || windowClosed is not null);
        var bodies = template ? [null] : MessageSplitter.Split(command.Body ?? "").Select(b => (string?)b);
        var message = new OutboundMessage
        {
            OutboundId = command.OutboundId,
            TenantId = command.TenantId,
            ConversationId = command.ConversationId,
            AccountSid = command.AccountSid,
            From = command.From,
            To = command.To,
            Body = command.Body,
            ContentSid = command.ContentSid,
            ContentVariables = command.ContentVariables,
            SendsTemplate = template,
            TemplateReason = template && text is not null
                ? $"{windowClosed}: the free text was not sent; the approved template {command.ContentSid} was sent instead."
                : null,
            Author = command.Author,
            State = OutboundState.Pending,
            QueueSequence = command.QueueSequence,
            RequestedAt = command.RequestedAt,
            PublishedAt = publishedAt,
            ReportedStatus = DeliveryStatuses.Sending,
            CreatedAt = now,
            UpdatedAt = now,
            Parts = bodies.Select((body, index) => new OutboundPart(command.OutboundId, command.TenantId, index, body)).ToList(),
        };
        if (!template && windowClosed is not null)
        {
            message.Fail($"{windowClosed}: only an approved template (ContentSid) may be sent, and the command has none.", "63016", now);
        }

        return message;
    }

    /// <summary>
    /// Until when the message waits for its predecessor in Lead's numbering to be recorded (<paramref name="predecessorRecorded"/>
    /// says whether it is), or null when it need not wait: the first of its queue, one whose predecessor is here, or one
    /// that waited <paramref name="stalledAfter"/> since it was recorded for a predecessor that never came.
    /// </summary>
    public DateTimeOffset? AwaitsPredecessorUntil(bool predecessorRecorded, TimeSpan stalledAfter, DateTimeOffset now) =>
        GoesWithoutPredecessor(predecessorRecorded) && CreatedAt + stalledAfter > now ? CreatedAt + stalledAfter : null;

    /// <summary>Whether it would go out before the message numbered just before it (which it then waits for, boundedly).</summary>
    public bool GoesWithoutPredecessor(bool predecessorRecorded) => HasPredecessor && !predecessorRecorded;

    /// <summary>Whether Lead numbered a message to the customer before this one (unnumbered commands, from before the numbering, have none).</summary>
    public bool HasPredecessor => QueueSequence > 1;

    /// <summary>The message becomes the one its queue is sending.</summary>
    public void Start(DateTimeOffset now) => StartedAt ??= now;

    /// <summary>
    /// The message waits for <paramref name="ahead"/>, an earlier message of its queue, which wakes it when it ends. One
    /// that never started relies on its command being handled; should that be lost, a watchdog sets it going after
    /// <paramref name="stalledAfter"/> (harmless otherwise).
    /// </summary>
    public void WaitFor(SendQueue.Ahead ahead, TimeSpan stalledAfter, DateTimeOffset now)
    {
        if (!ahead.Started)
        {
            Raise(new OutboundSendDue(ahead.OutboundId), DueKey(), now + stalledAfter);
        }
    }

    /// <summary>Wakes <paramref name="nextOutboundId"/>, the next message of the queue, with this one's end.</summary>
    public void WakeNext(string nextOutboundId) => Raise(new OutboundSendDue(nextOutboundId), DueKey());

    /// <summary>The message sleeps until <paramref name="until"/>: a timer kept as data, committed with its state.</summary>
    public void WaitUntil(DateTimeOffset until, DateTimeOffset now)
    {
        UpdatedAt = now;
        Raise(new OutboundSendDue(OutboundId), DueKey(), until);
    }

    /// <summary><paramref name="part"/> keeps the pacing slot it reserved and sleeps until it may go.</summary>
    public void WaitForSlot(OutboundPart part, DateTimeOffset slot, DateTimeOffset notBefore, DateTimeOffset now)
    {
        part.PacedFor(slot, notBefore);
        WaitUntil(notBefore, now);
    }

    /// <summary>Claims the next attempt at <paramref name="part"/>, right before the Twilio call.</summary>
    public void Claim(OutboundPart part, DateTimeOffset now) => part.Claim(now);

    /// <summary>Twilio accepted <paramref name="part"/> with <paramref name="twilioSid"/>.</summary>
    public void PartSent(OutboundPart part, string twilioSid, string twilioStatus, DateTimeOffset now)
    {
        part.Sent(twilioSid, twilioStatus, now);
        UpdatedAt = now;
    }

    /// <summary>
    /// Twilio refused <paramref name="part"/> for a moment (429, 5xx): it goes again after a backoff that doubles each
    /// attempt, or fails for good after the policy's last attempt. Returns when it goes again, or null when it failed.
    /// </summary>
    public DateTimeOffset? RetryLater(OutboundPart part, int httpStatus, string errorCode, string error, RetryPolicy policy, DateTimeOffset now)
    {
        if (part.Attempts >= policy.MaxAttempts)
        {
            FailPart(part, $"Twilio kept refusing ({httpStatus}) after {part.Attempts} attempts: {error}", errorCode, now);
            return null;
        }

        var at = now + policy.DelayAfter(part.Attempts);
        part.RetryAt(at, errorCode);
        WaitUntil(at, now);
        return at;
    }

    /// <summary><paramref name="part"/> failed for good: so does the message, and Lead hears why.</summary>
    public void FailPart(OutboundPart part, string reason, string? errorCode, DateTimeOffset now)
    {
        part.Failed(errorCode);
        Fail(reason, errorCode, now);
    }

    /// <summary>
    /// <paramref name="part"/> was interrupted inside its Twilio call and Twilio has no such message: not resent, left to
    /// an operator, and the customer's later messages are not held back.
    /// </summary>
    public void LostInTheCall(OutboundPart part, DateTimeOffset now)
    {
        part.LostInTheCall();
        State = OutboundState.DeliveryUnknown;
        FailureReason = "A send was interrupted and Twilio has no such message: not resent, for an operator to decide.";
        UpdatedAt = now;
        Report(DeliveryStatuses.DeliveryUnknown, null, now);
    }

    /// <summary>
    /// Every part was sent: the status so far (callbacks applied while it went out) is announced with
    /// <see cref="OutboundMessageSent"/>. A failure Twilio reported already (a callback ahead of its answer) follows as an
    /// update of its own, carrying Twilio's error code, as it would have had the callback come later.
    /// </summary>
    public void Complete(DateTimeOffset now)
    {
        var parts = Parts.OrderBy(p => p.Index).ToList();
        State = OutboundState.Sent;
        UpdatedAt = now;
        var status = StatusOf(parts);
        var failed = status is "failed" or "undelivered" ? parts.First(p => p.TwilioStatus == status) : null;
        ReportedStatus = failed is null ? status : "queued";
        Raise(new OutboundMessageSent(OutboundId, TenantId, ConversationId, parts[0].TwilioSid!, ReportedStatus, Author, parts.Count, now), Key);
        if (failed is not null)
        {
            ErrorCode = failed.ErrorCode;
            Report(status, failed.ErrorCode, now);
        }
    }

    /// <summary>
    /// A status callback for the part sent as <paramref name="twilioSid"/>: callbacks arrive out of order, so a part's
    /// status only moves forward, and the message's (the least advanced of its parts, or failed) is reported whenever it
    /// moves forward once the message was sent (until then <see cref="OutboundMessageSent"/> is still to come, and carries it).
    /// </summary>
    public void StatusReported(string twilioSid, string status, string? errorCode, DateTimeOffset now)
    {
        var part = Parts.Single(p => p.TwilioSid == twilioSid);
        if (!part.StatusReported(status, errorCode))
        {
            return;
        }

        var overall = StatusOf(Parts);
        if (State != OutboundState.Pending && DeliveryStatuses.IsForward(ReportedStatus, overall))
        {
            ErrorCode = part.ErrorCode ?? ErrorCode;
            UpdatedAt = now;
            ReportedStatus = overall;
            Raise(new MessageDeliveryUpdated(OutboundId, TenantId, ConversationId, twilioSid, overall, ErrorCode, now), Key);
        }
    }

    /// <summary>The message fails for good: Lead hears why, with Twilio's error code when there is one.</summary>
    public void Fail(string reason, string? errorCode, DateTimeOffset now)
    {
        State = OutboundState.Failed;
        FailureReason = reason;
        ErrorCode = errorCode;
        ReportedStatus = DeliveryStatuses.Failed;
        UpdatedAt = now;
        Raise(new OutboundMessageFailed(OutboundId, TenantId, ConversationId, reason, errorCode, now), Key);
    }

    /// <summary>
    /// The whole message's status: failed if any part failed, else the least advanced of its parts (a reply is
    /// "read" once every part was read).
    /// </summary>
    public static string StatusOf(IReadOnlyCollection<OutboundPart> parts)
    {
        if (parts.FirstOrDefault(p => p.TwilioStatus is "failed" or "undelivered") is { } failed)
        {
            return failed.TwilioStatus!;
        }

        return parts.Select(p => p.TwilioStatus ?? DeliveryStatuses.Sending).MinBy(DeliveryStatuses.Rank)!;
    }

    private void Report(string status, string? errorCode, DateTimeOffset now)
    {
        ReportedStatus = status;
        Raise(new MessageDeliveryUpdated(OutboundId, TenantId, ConversationId,
            Parts.FirstOrDefault(p => p.TwilioSid is not null)?.TwilioSid ?? "", status, errorCode, now), Key);
    }

    /// <summary>Timers go out on keys of their own: a pending timer must never hold back the message's reports.</summary>
    private static string DueKey() => Ids.New("due");
}

/// <summary>How Twilio's refusals for a moment are retried: the first wait, doubled each attempt up to a ceiling.</summary>
public sealed record RetryPolicy(int MaxAttempts, TimeSpan BaseDelay, TimeSpan MaxDelay)
{
    public TimeSpan DelayAfter(int attempts) =>
        TimeSpan.FromTicks(Math.Min(BaseDelay.Ticks * (1L << Math.Min(Math.Max(attempts - 1, 0), 20)), MaxDelay.Ticks));
}
