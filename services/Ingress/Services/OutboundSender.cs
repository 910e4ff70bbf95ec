using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;
using Twilio.Clients;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>Ingress's own timer: an outbound message has a part due (a retry's backoff or a pacing slot).</summary>
public sealed record OutboundSendDue(string OutboundId);

/// <summary>
/// Sends a <see cref="SendWhatsAppMessage"/> through Twilio, part after part, and never twice. Twilio's API has
/// no idempotency key, so each part is marked as being in the call (committed) right before the call, once its
/// pacing slot has come; a part found in that state long after it began was interrupted by a crash. Its SID is
/// unknown then (Twilio's answer is what carries it), so it is reconciled by looking for it among the recent
/// messages from our number to the customer (<see cref="FindSentAsync"/>), or else marked <em>delivery unknown</em>
/// for operators, never resent blindly. Sends are paced per sending number; Twilio's refusals for a moment (429,
/// 5xx) are retried with backoff through timers kept as data (outbox rows with a due time), so a restart loses none.
/// Outside the customer's 24-hour window free text is not sent: the command's template goes instead, if it has one.
/// <para>
/// The messages from one of our numbers to one customer are a queue, kept in the database: a message starts (its
/// first part is sent) only when no earlier message of the queue is still pending, in the order Lead issued them
/// (<see cref="OutboundMessage.RequestedAt"/>, then the order Lead's outbox published them, then the order they
/// were recorded); a message that started first stays first. Whoever starts or ends a message of a queue holds the queue's advisory lock, so every instance
/// agrees, and the message that ends wakes the next one with a timer committed with its end. A message ends when
/// every part was sent, a part failed for good, or a part's delivery is unknown (left to operators, not resent):
/// none of those holds the customer's later messages back. Other queues, and the pacing of the number, are
/// untouched. Lead issues no sequence, and two commands it published one after another may be taken by two
/// consumers at once: a message therefore starts no sooner than <see cref="TwilioOptions.OutboundSettleTime"/>
/// after it was published, by which time the one published before it has been recorded and keeps its place. A
/// message waiting behind one that never started sets a watchdog timer on it
/// (<see cref="TwilioOptions.OutboundStalledAfter"/>), so a command recorded and then lost stalls no queue for good.
/// </para>
/// </summary>
public sealed partial class OutboundSender(
    IngressDbContext db,
    TwilioClients twilio,
    SenderPacer pacer,
    DeliveryStatusRecorder statuses,
    IOptions<TwilioOptions> options,
    TimeProvider time,
    ILogger<OutboundSender> logger)
{
    public static readonly TimeSpan CustomerServiceWindow = TimeSpan.FromHours(24);

    /// <summary>Waits for a pacing slot or a short backoff in place; longer ones become a timer.</summary>
    private static readonly TimeSpan MaxInlineWait = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long before its slot a part is claimed: about what claiming takes on a busy database, so the call still
    /// starts on time, while the part is "in the call" before the call only for this moment, not for its whole wait.
    /// </summary>
    private static readonly TimeSpan ClaimLead = TimeSpan.FromMilliseconds(50);

    private TwilioOptions Options => options.Value;

    /// <summary>
    /// Records the command (once, whatever the redeliveries) and starts sending it, or leaves it waiting for the
    /// messages Lead issued before it to the same customer from the same number. <paramref name="publishedAt"/> is
    /// when Lead's outbox published it.
    /// </summary>
    public async Task AcceptAsync(SendWhatsAppMessage command, DateTimeOffset? publishedAt, CancellationToken cancellationToken)
    {
        await db.ForTenant(command.TenantId, cancellationToken); // row-level security: this tenant's messages only
        if (!await db.OutboundMessages.AnyAsync(m => m.OutboundId == command.OutboundId, cancellationToken))
        {
            if (!await RecordAsync(command, publishedAt, cancellationToken))
            {
                return;
            }
        }

        await ProcessAsync(command.OutboundId, cancellationToken);
    }

    /// <summary>Sends whatever parts of the message are due, in order, until done, waiting or failed.</summary>
    public async Task ProcessAsync(string outboundId, CancellationToken cancellationToken)
    {
        if (!await ForTenantOfAsync(db, outboundId, cancellationToken))
        {
            return;
        }

        while (true)
        {
            db.ChangeTracker.Clear();
            var message = await db.OutboundMessages.Include(m => m.Parts).FirstOrDefaultAsync(m => m.OutboundId == outboundId, cancellationToken);
            if (message is not { State: OutboundState.Pending })
            {
                return;
            }

            if (message.StartedAt is null)
            {
                // A command published a moment ago: let one Lead published just before it arrive first.
                var settled = message.PublishedAt + Options.OutboundSettleTime;
                var settle = settled - time.GetUtcNow();
                if (settle > Options.OutboundSettleTime)
                {
                    settle = Options.OutboundSettleTime; // Lead's clock ahead of ours: wait no longer than the setting
                }

                if (settle > MaxInlineWait)
                {
                    await ScheduleAsync(message, time.GetUtcNow() + settle, cancellationToken);
                    return;
                }

                if (settle > TimeSpan.Zero)
                {
                    await Task.Delay(settle, time, cancellationToken);
                }

                if (!await TryStartAsync(message, cancellationToken))
                {
                    return; // an earlier message to the customer is still going out: it wakes this one when it ends
                }

                continue;
            }

            var part = message.Parts.OrderBy(p => p.Index).FirstOrDefault(p => p.State != PartState.Sent);
            if (part is null)
            {
                await CompleteAsync(message, cancellationToken);
                return;
            }

            var advanced = part.State switch
            {
                PartState.Sending => await ResolveInterruptedAsync(message, part, cancellationToken),
                PartState.Pending or PartState.RetryPending => await SendPartAsync(message, part, cancellationToken),
                _ => false,
            };
            if (!advanced)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Makes <paramref name="db"/> work for the tenant of an outbound message known only by its id (a timer, a
    /// Twilio callback): the one read that crosses tenants. False when there is no such message.
    /// </summary>
    public static async Task<bool> ForTenantOfAsync(IngressDbContext db, string outboundId, CancellationToken cancellationToken)
    {
        var tenantId = await db.AcrossTenantsAsync(() => db.OutboundMessages.AsNoTracking()
            .Where(m => m.OutboundId == outboundId).Select(m => m.TenantId).FirstOrDefaultAsync(cancellationToken), cancellationToken);
        if (tenantId is null)
        {
            return false;
        }

        await db.ForTenant(tenantId, cancellationToken);
        return true;
    }

    private async Task<bool> RecordAsync(SendWhatsAppMessage command, DateTimeOffset? publishedAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var text = string.IsNullOrWhiteSpace(command.Body) ? null : command.Body;
        var windowClosed = text is null ? null : await WindowClosedAsync(command, now, cancellationToken);
        // Free text inside the window; outside it, or when there is no text, the approved template (one send).
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
            RequestedAt = command.RequestedAt,
            PublishedAt = publishedAt ?? now,
            ReportedStatus = DeliveryStatuses.Sending,
            CreatedAt = now,
            UpdatedAt = now,
            Parts = bodies.Select((body, index) => new OutboundPart { OutboundId = command.OutboundId, TenantId = command.TenantId, Index = index, Body = body }).ToList(),
        };
        db.OutboundMessages.Add(message);

        if (!template && windowClosed is not null)
        {
            Fail(message, $"{windowClosed}: only an approved template (ContentSid) may be sent, and the command has none.", "63016");
        }

        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return message.State == OutboundState.Pending;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return false; // a concurrent delivery of the same command recorded it first and sends it
        }
    }

    /// <summary>
    /// Makes <paramref name="message"/> the one its queue is sending, unless an earlier message of the queue (or
    /// one that started already) is still pending: then it waits, and that message wakes it when it ends.
    /// </summary>
    private async Task<bool> TryStartAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync(QueueKey(message), cancellationToken);
        var ahead = await db.OutboundMessages.AsNoTracking()
            .Where(m => m.From == message.From && m.To == message.To && m.State == OutboundState.Pending && m.OutboundId != message.OutboundId)
            .Where(m => m.StartedAt != null
                || m.RequestedAt < message.RequestedAt
                || (m.RequestedAt == message.RequestedAt && m.PublishedAt < message.PublishedAt)
                || (m.RequestedAt == message.RequestedAt && m.PublishedAt == message.PublishedAt && m.Sequence < message.Sequence))
            .OrderByDescending(m => m.StartedAt != null)
            .Select(m => new { m.OutboundId, Started = m.StartedAt != null })
            .FirstOrDefaultAsync(cancellationToken);
        if (ahead is not null)
        {
            LogWaiting(logger, message.OutboundId, ahead.OutboundId);
            if (!ahead.Started)
            {
                // A started message always has a timer of its own; one that has not started relies on its command
                // being handled. Should that handling be lost, this watchdog sets it going (harmless otherwise).
                db.Publish(new OutboundSendDue(ahead.OutboundId), orderingKey: Ids.New("due"), notBefore: time.GetUtcNow() + Options.OutboundStalledAfter);
                await db.SaveChangesAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return false;
        }

        var now = time.GetUtcNow();
        await db.OutboundMessages.Where(m => m.OutboundId == message.OutboundId && m.StartedAt == null)
            .ExecuteUpdateAsync(m => m.SetProperty(x => x.StartedAt, now), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>
    /// Commits the end of <paramref name="message"/> (sent, failed or delivery unknown: its changes are tracked)
    /// with a timer that wakes the next message of its queue. Under the queue's lock, so a message deciding to
    /// wait for this one either sees it ended or is seen here. <paramref name="ending"/>, if any, makes the end's
    /// changes inside that transaction. False when another delivery ended it first.
    /// </summary>
    private async Task<bool> EndAsync(OutboundMessage message, CancellationToken cancellationToken, Func<Task>? ending = null)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync(QueueKey(message), cancellationToken);
        var stillPending = await db.OutboundMessages.AsNoTracking()
            .AnyAsync(m => m.OutboundId == message.OutboundId && m.State == OutboundState.Pending, cancellationToken);
        if (!stillPending)
        {
            db.ChangeTracker.Clear(); // ended by a concurrent delivery, which announced it and woke the next one
            return false;
        }

        if (ending is not null)
        {
            await ending();
        }

        var next = await db.OutboundMessages.AsNoTracking()
            .Where(m => m.From == message.From && m.To == message.To && m.State == OutboundState.Pending && m.StartedAt == null && m.OutboundId != message.OutboundId)
            .OrderBy(m => m.RequestedAt).ThenBy(m => m.PublishedAt).ThenBy(m => m.Sequence)
            .Select(m => m.OutboundId)
            .FirstOrDefaultAsync(cancellationToken);
        if (next is not null)
        {
            db.Publish(new OutboundSendDue(next), orderingKey: Ids.New("due"));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>The advisory lock of the queue of messages from one of our numbers to one customer.</summary>
    private static string QueueKey(OutboundMessage message) => $"ingress-out:{message.From}:{message.To}";

    /// <summary>Sends one part; true when it went out and the next part may follow at once.</summary>
    private async Task<bool> SendPartAsync(OutboundMessage message, OutboundPart part, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        if (part.NextAttemptAt is { } due && due - now > MaxInlineWait)
        {
            return await ScheduleAsync(message, due, cancellationToken); // woken early (a duplicate timer): wait for the due one
        }

        var client = twilio.For(message.AccountSid);
        if (client is null)
        {
            await FailPartAsync(message, part, $"No Twilio auth token is configured for account {message.AccountSid}.", null, cancellationToken);
            return false;
        }

        var slot = part.PacedSlotAt ?? await pacer.ReserveAsync(message.From, cancellationToken);
        var notBefore = part.NextAttemptAt is { } retryAt && retryAt > slot ? retryAt : slot;
        now = time.GetUtcNow();
        if (notBefore - now > MaxInlineWait)
        {
            part.PacedSlotAt = slot;
            part.NextAttemptAt = notBefore;
            return await ScheduleAsync(message, notBefore, cancellationToken);
        }

        // The wait first, then the claim: while it waits for its slot the part is only pending, so a crash in the wait
        // leaves it as it was (its command or timer, not acknowledged, comes again) instead of "in the call", which
        // reconciliation would have to look for at Twilio and, not finding it, mark delivery unknown. The claim is
        // made a moment (ClaimLead) before the slot, so its round trip to the database does not delay the call.
        var slotAt = await pacer.WaitForSlotAsync(message.From, notBefore, ClaimLead, cancellationToken);

        // Claim this attempt, right before the call: of the deliveries that got this far for it, only one calls Twilio
        // (the attempt number makes the claim a compare-and-set, so a delivery that read the part before another
        // delivery's attempt cannot claim the next attempt early).
        var attempt = part.Attempts;
        var claimedAt = time.GetUtcNow();
        var claimed = await db.OutboundParts
            .Where(p => p.OutboundId == part.OutboundId && p.Index == part.Index && p.Attempts == attempt
                && (p.State == PartState.Pending || p.State == PartState.RetryPending))
            .ExecuteUpdateAsync(p => p
                .SetProperty(x => x.State, PartState.Sending)
                .SetProperty(x => x.AttemptStartedAt, claimedAt)
                .SetProperty(x => x.PacedSlotAt, (DateTimeOffset?)null)
                .SetProperty(x => x.Attempts, attempt + 1), CancellationToken.None); // not cancelled half-way: committed means called
        if (claimed == 0)
        {
            return false;
        }

        // Claimed: from here on the call is made and its outcome recorded whatever happens to the caller. The tracked
        // part is told what the claim wrote (as committed, not as a change to save), sparing a round trip to reload it.
        var claim = db.Entry(part);
        void Committed<T>(System.Linq.Expressions.Expression<Func<OutboundPart, T>> property, T value)
        {
            claim.Property(property).OriginalValue = value;
            claim.Property(property).CurrentValue = value;
        }

        Committed(p => p.State, PartState.Sending);
        Committed(p => p.AttemptStartedAt, claimedAt);
        Committed(p => p.PacedSlotAt, null);
        Committed(p => p.Attempts, attempt + 1);
        var rest = slotAt - time.GetUtcNow();
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, time, CancellationToken.None);
        }

        MessageResource resource;
        try
        {
            // No cancellation token: once the request may have left, its outcome must be recorded.
            resource = await MessageResource.CreateAsync(BuildSend(message, part), client);
        }
        catch (ApiException ex) when (ex.Status is 429 or >= 500)
        {
            return await RetryLaterAsync(message, part, ex, cancellationToken);
        }
        catch (ApiException ex)
        {
            await FailPartAsync(message, part, ex.Message, ex.Code.ToString(), cancellationToken);
            return false;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ApiConnectionException)
        {
            // The request may have reached Twilio: find out before anything is sent again.
            LogInterrupted(logger, ex, message.OutboundId, part.Index);
            return await ReconcileAsync(message, part, CancellationToken.None);
        }

        await MarkSentAsync(message, part, resource, CancellationToken.None);
        return true;
    }

    /// <summary>A part left "sending": someone is in the call right now, or a crash interrupted it.</summary>
    private async Task<bool> ResolveInterruptedAsync(OutboundMessage message, OutboundPart part, CancellationToken cancellationToken)
    {
        var interruptedAt = (part.AttemptStartedAt ?? message.UpdatedAt) + Options.InterruptedAfter;
        if (time.GetUtcNow() < interruptedAt)
        {
            // Possibly still in flight elsewhere: look again once it would surely have finished.
            return await ScheduleAsync(message, interruptedAt, cancellationToken);
        }

        return await ReconcileAsync(message, part, cancellationToken);
    }

    /// <summary>
    /// Asks Twilio whether an interrupted send arrived (<see cref="FindSentAsync"/>). Found: it counts as sent.
    /// Not found: delivery unknown.
    /// </summary>
    private async Task<bool> ReconcileAsync(OutboundMessage message, OutboundPart part, CancellationToken cancellationToken)
    {
        var client = twilio.For(message.AccountSid);
        MessageResource? found = null;
        try
        {
            if (client is not null)
            {
                found = await FindSentAsync(client, message, part, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is ApiException or HttpRequestException or TaskCanceledException or ApiConnectionException)
        {
            // Twilio cannot tell us now: ask again later rather than guess.
            LogReconcileFailed(logger, ex, message.OutboundId);
            return await ScheduleAsync(message, time.GetUtcNow() + Options.RetryBaseDelay, cancellationToken);
        }

        if (found is not null)
        {
            await MarkSentAsync(message, part, found, cancellationToken);
            return true;
        }

        var now = time.GetUtcNow();
        part.State = PartState.DeliveryUnknown;
        message.State = OutboundState.DeliveryUnknown;
        message.FailureReason = "A send was interrupted and Twilio has no such message: not resent, for an operator to decide.";
        message.UpdatedAt = now;
        Report(message, DeliveryStatuses.DeliveryUnknown, null, now);
        await EndAsync(message, cancellationToken);
        return false;
    }

    /// <summary>
    /// The message an interrupted attempt made at Twilio, if it made one. A send's SID comes only in Twilio's answer,
    /// which is exactly what an interrupted call lost, and Twilio has no idempotency key; so the attempt's message is
    /// looked for among the recent messages from our number to the customer: created during the attempt (from a few
    /// seconds before it began, for Twilio's clock and whole seconds, until it must have ended), not the SID of a send
    /// recorded already, and with the part's text, or, for a template, with every template variable's value in
    /// its text (Twilio shows the rendered template; its resource does not name the ContentSid). The earliest wins.
    /// </summary>
    private async Task<MessageResource?> FindSentAsync(ITwilioRestClient client, OutboundMessage message, OutboundPart part, CancellationToken cancellationToken)
    {
        var started = part.AttemptStartedAt ?? message.CreatedAt;
        var from = started.AddSeconds(-5).UtcDateTime;
        var until = (started + Options.InterruptedAfter).AddSeconds(5).UtcDateTime;
        var recent = await MessageResource.ReadAsync(new ReadMessageOptions
        {
            To = new PhoneNumber("whatsapp:" + message.To),
            From = new PhoneNumber("whatsapp:" + message.From),
            PageSize = 50,
            Limit = 50,
        }, client);
        var values = message.SendsTemplate ? TemplateValues(message.ContentVariables) : [];
        var candidates = recent
            .Where(m => m.DateCreated >= from && m.DateCreated <= until)
            .Where(m => message.SendsTemplate
                ? !string.IsNullOrEmpty(m.Body) && values.All(value => m.Body.Contains(value, StringComparison.Ordinal))
                : m.Body == part.Body)
            .ToList();
        if (candidates.Count == 0)
        {
            return null;
        }

        var sids = candidates.Select(m => m.Sid).ToList();
        var recorded = await db.OutboundParts.AsNoTracking().Where(p => p.TwilioSid != null && sids.Contains(p.TwilioSid))
            .Select(p => p.TwilioSid!).ToListAsync(cancellationToken);
        return candidates.Where(m => !recorded.Contains(m.Sid)).MinBy(m => m.DateCreated);
    }

    /// <summary>The values of a template's variables (<c>{"1":"María"}</c>); none when they cannot be read.</summary>
    private static List<string> TemplateValues(string? contentVariables)
    {
        if (string.IsNullOrWhiteSpace(contentVariables))
        {
            return [];
        }

        try
        {
            using var document = JsonDocument.Parse(contentVariables);
            return document.RootElement.ValueKind != JsonValueKind.Object ? [] : document.RootElement.EnumerateObject()
                .Where(p => p.Value.ValueKind == JsonValueKind.String && !string.IsNullOrEmpty(p.Value.GetString()))
                .Select(p => p.Value.GetString()!).ToList();
        }
        catch (JsonException)
        {
            return [];
        }
    }

    private async Task<bool> RetryLaterAsync(OutboundMessage message, OutboundPart part, ApiException refusal, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        part.ErrorCode = refusal.Code.ToString();
        if (part.Attempts >= Options.MaxSendAttempts)
        {
            await FailPartAsync(message, part, $"Twilio kept refusing ({refusal.Status}) after {part.Attempts} attempts: {refusal.Message}", part.ErrorCode, cancellationToken);
            return false;
        }

        var delay = TimeSpan.FromTicks(Math.Min(Options.RetryBaseDelay.Ticks * (1L << Math.Min(part.Attempts - 1, 20)), Options.MaxRetryDelay.Ticks));
        part.State = PartState.RetryPending;
        part.NextAttemptAt = now + delay;
        LogRetry(logger, message.OutboundId, part.Index, (int)refusal.Status, delay.TotalMilliseconds);
        return await ScheduleAsync(message, part.NextAttemptAt.Value, cancellationToken);
    }

    /// <summary>A timer as data: an outbox row due at <paramref name="at"/>, committed with the part's state.</summary>
    private async Task<bool> ScheduleAsync(OutboundMessage message, DateTimeOffset at, CancellationToken cancellationToken)
    {
        message.UpdatedAt = time.GetUtcNow();
        db.Publish(new OutboundSendDue(message.OutboundId), orderingKey: Ids.New("due"), notBefore: at);
        await db.SaveChangesAsync(cancellationToken);
        return false;
    }

    private async Task MarkSentAsync(OutboundMessage message, OutboundPart part, MessageResource resource, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        part.State = PartState.Sent;
        part.TwilioSid = resource.Sid;
        part.TwilioStatus = resource.Status?.ToString() ?? "queued";
        part.ErrorCode = null; // a refusal for a moment before this success (429's 20429) is not the part's error
        part.SentAt = now;
        message.UpdatedAt = now;
        // With the callbacks that came before the SID was recorded (Twilio may call back before its answer reaches us).
        await statuses.CommitSentAsync(resource.Sid, cancellationToken);
    }

    /// <summary>
    /// Every part was sent: the message's status so far (callbacks applied while it was going out) is announced with
    /// <see cref="OutboundMessageSent"/>. Under the row lock status callbacks take, so a callback applied meanwhile is
    /// seen here, and one applied later finds the message sent and announces its own update.
    /// </summary>
    private Task CompleteAsync(OutboundMessage message, CancellationToken cancellationToken) =>
        EndAsync(message, cancellationToken, async () =>
        {
            await db.Database.ExecuteSqlAsync($"SELECT 1 FROM ingress.outbound_messages WHERE outbound_id = {message.OutboundId} FOR UPDATE", cancellationToken);
            var parts = message.Parts.OrderBy(p => p.Index).ToList();
            foreach (var part in parts)
            {
                await db.Entry(part).ReloadAsync(cancellationToken);
            }

            var now = time.GetUtcNow();
            message.State = OutboundState.Sent;
            message.UpdatedAt = now;
            var status = AggregateStatus(parts);
            var failed = status is "failed" or "undelivered" ? parts.First(p => p.TwilioStatus == status) : null;
            // Twilio took every part. A failure it reported already (a callback ahead of its answer) follows as an
            // update of its own, carrying Twilio's error code, as it would have had the callback come later.
            message.ReportedStatus = failed is null ? status : "queued";
            db.Publish(new OutboundMessageSent(message.OutboundId, message.TenantId, message.ConversationId, parts[0].TwilioSid!,
                message.ReportedStatus, message.Author, parts.Count, now), Key(message));
            if (failed is not null)
            {
                message.ErrorCode = failed.ErrorCode;
                Report(message, status, failed.ErrorCode, now);
            }
        });

    private async Task FailPartAsync(OutboundMessage message, OutboundPart part, string reason, string? errorCode, CancellationToken cancellationToken)
    {
        part.State = PartState.Failed;
        part.ErrorCode = errorCode;
        Fail(message, reason, errorCode);
        await EndAsync(message, cancellationToken);
    }

    private void Fail(OutboundMessage message, string reason, string? errorCode)
    {
        var now = time.GetUtcNow();
        message.State = OutboundState.Failed;
        message.FailureReason = reason;
        message.ErrorCode = errorCode;
        message.ReportedStatus = DeliveryStatuses.Failed;
        message.UpdatedAt = now;
        db.Publish(new OutboundMessageFailed(message.OutboundId, message.TenantId, message.ConversationId, reason, errorCode, now), Key(message));
    }

    private void Report(OutboundMessage message, string status, string? errorCode, DateTimeOffset now)
    {
        message.ReportedStatus = status;
        db.Publish(new MessageDeliveryUpdated(message.OutboundId, message.TenantId, message.ConversationId,
            message.Parts.FirstOrDefault(p => p.TwilioSid is not null)?.TwilioSid ?? "", status, errorCode, now), Key(message));
    }

    private CreateMessageOptions BuildSend(OutboundMessage message, OutboundPart part)
    {
        var send = new CreateMessageOptions(new PhoneNumber("whatsapp:" + message.To))
        {
            From = new PhoneNumber("whatsapp:" + message.From),
            Body = message.SendsTemplate ? null : part.Body,
            ContentSid = message.SendsTemplate ? message.ContentSid : null,
            ContentVariables = message.SendsTemplate ? message.ContentVariables : null,
        };
        if (!string.IsNullOrWhiteSpace(Options.PublicBaseUrl))
        {
            send.StatusCallback = new Uri(Options.PublicBaseUrl.TrimEnd('/') + "/webhooks/twilio/status");
        }

        return send;
    }

    /// <summary>Null inside the customer's 24-hour window; outside it, why it is closed, in words.</summary>
    private async Task<string?> WindowClosedAsync(SendWhatsAppMessage command, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var lastInbound = await db.InboundMessages
            .Where(m => m.To == command.From && m.CustomerId == command.To)
            .MaxAsync(m => (DateTimeOffset?)m.ReceivedAt, cancellationToken);
        return lastInbound switch
        {
            null => "The customer has never written to this number, so the customer-service window (24 hours from their last message) is not open",
            { } at when now - at > CustomerServiceWindow =>
                $"The customer last wrote at {at:O}, more than 24 hours ago (the customer-service window closed at {at + CustomerServiceWindow:O})",
            _ => null,
        };
    }

    /// <summary>
    /// The whole message's status: failed if any part failed, else the least advanced of its parts (a reply is
    /// "read" once every part was read).
    /// </summary>
    public static string AggregateStatus(IReadOnlyCollection<OutboundPart> parts)
    {
        if (parts.FirstOrDefault(p => p.TwilioStatus is "failed" or "undelivered") is { } failed)
        {
            return failed.TwilioStatus!;
        }

        return parts.Select(p => p.TwilioStatus ?? DeliveryStatuses.Sending).MinBy(DeliveryStatuses.Rank)!;
    }

    public static string Key(OutboundMessage message) => $"out:{message.OutboundId}";

    [LoggerMessage(Level = LogLevel.Warning, Message = "Twilio refused part {Part} of {OutboundId} with {Status}; retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string outboundId, int part, int status, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The send of {OutboundId} part {Part} was interrupted; reconciling with Twilio")]
    private static partial void LogInterrupted(ILogger logger, Exception exception, string outboundId, int part);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{OutboundId} waits for {Ahead}, an earlier message to the same customer from the same number")]
    private static partial void LogWaiting(ILogger logger, string outboundId, string ahead);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reconcile {OutboundId} with Twilio; trying again later")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception, string outboundId);
}
