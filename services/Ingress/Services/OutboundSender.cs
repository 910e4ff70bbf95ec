using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Carries an <see cref="OutboundMessage"/> through Twilio, part after part, and never twice: it loads the message, lets
/// the model decide, makes the calls the model cannot (the database's locks, the pace, Twilio) and saves. Twilio's API
/// has no idempotency key, so each part is claimed (committed) right before its call, once its pacing slot has come; a
/// part found claimed long after its call began was interrupted by a crash, and is looked for at Twilio
/// (<see cref="TwilioMessages.CandidatesAsync"/>) or else marked delivery unknown, never resent blindly. Refusals for a
/// moment are retried after a backoff, through timers kept as data. The queue of messages to one customer
/// (<see cref="SendQueue"/>, in Lead's numbering) is decided under its lock; a message whose predecessor has not arrived
/// waits for it (it may be taken by another consumer at this moment) up to <see cref="TwilioOptions.OutboundStalledAfter"/>.
/// </summary>
public sealed partial class OutboundSender(
    IngressDbContext db,
    TwilioClients twilio,
    SenderPacer pacer,
    DeliveryStatusRecorder statuses,
    SendQueueWatch watch,
    IOptions<TwilioOptions> options,
    TimeProvider time,
    ILogger<OutboundSender> logger)
{
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
            var now = time.GetUtcNow();
            var window = await db.CustomerServiceWindowAsync(command.From, command.To, cancellationToken);
            var message = OutboundMessage.Record(command, publishedAt ?? now, window, now);
            db.OutboundMessages.Add(message);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                return; // a concurrent delivery of the same command recorded it first and sends it
            }
        }

        await SendAsync(command.OutboundId, cancellationToken);
    }

    /// <summary>Sends whatever parts of the message are due (a timer woke it), in order, until done, waiting or failed.</summary>
    public async Task ProcessAsync(string outboundId, CancellationToken cancellationToken)
    {
        if (await db.ForTenantOfAsync(outboundId, cancellationToken))
        {
            await SendAsync(outboundId, cancellationToken);
        }
    }

    /// <summary>Sends whatever parts of the message are due, in order, until done, waiting or failed; the tenant is set.</summary>
    private async Task SendAsync(string outboundId, CancellationToken cancellationToken)
    {
        OutboundMessage? fresh = null;
        while (true)
        {
            var message = fresh ?? await ReloadAsync(outboundId, cancellationToken);
            fresh = null;
            if (message is not { State: OutboundState.Pending })
            {
                return;
            }

            if (message.StartedAt is null)
            {
                // Read under the queue's lock and saved: what it returns is current, no need to read it again.
                fresh = await TryStartAsync(message, cancellationToken);
                if (fresh is null)
                {
                    return; // an earlier message to the customer is still going out, or on its way: it wakes this one when it ends
                }

                continue;
            }

            if (message.NextPart is not { } part)
            {
                await EndAsync(message, (m, now) => m.Complete(now), cancellationToken);
                return;
            }

            var advanced = part.State switch
            {
                PartState.Sending => await ResolveInterruptedAsync(message, part, cancellationToken),
                _ when part.MayBeClaimed => await SendPartAsync(message, part, cancellationToken),
                _ => false,
            };
            if (!advanced)
            {
                return;
            }
        }
    }

    private async Task<OutboundMessage?> ReloadAsync(string outboundId, CancellationToken cancellationToken)
    {
        db.ChangeTracker.Clear();
        return await db.OutboundMessageAsync(outboundId, cancellationToken);
    }

    /// <summary>
    /// Starts the message unless an earlier one of its queue must end first (decided under the queue's lock). Returns the
    /// message as it now is, to go on with, or null when it waits.
    /// </summary>
    private async Task<OutboundMessage?> TryStartAsync(OutboundMessage message, CancellationToken cancellationToken)
    {
        var withoutPredecessor = false;
        var started = await db.RunAsync(async ct =>
        {
            withoutPredecessor = false; // each attempt decides afresh
            await db.LockAsync(SendQueue.LockKey(message), ct);
            var current = await db.LockOutboundMessageAsync(message.OutboundId, ct);
            if (current is not { State: OutboundState.Pending, StartedAt: null })
            {
                return current; // a concurrent delivery started or ended it: go on from there
            }

            var now = time.GetUtcNow();
            var predecessorRecorded = !current.HasPredecessor || await db.PredecessorRecordedAsync(current, ct);
            if (current.AwaitsPredecessorUntil(predecessorRecorded, Options.OutboundStalledAfter, now) is { } until)
            {
                current.WaitUntil(until, now); // the predecessor, once recorded and ended, wakes it sooner
                return null;
            }

            var ahead = await db.FirstAheadAsync(current, ct);
            if (ahead is not null)
            {
                LogWaiting(logger, current.OutboundId, ahead.OutboundId);
                current.WaitFor(ahead, Options.OutboundStalledAfter, now);
                return null;
            }

            withoutPredecessor = current.GoesWithoutPredecessor(predecessorRecorded);
            current.Start(now);
            return current;
        }, cancellationToken);

        // Told once, when the start is committed (not by an attempt rolled back, nor a wait behind another message).
        if (withoutPredecessor && started is not null)
        {
            LogPredecessorNeverCame(logger, started.OutboundId, started.QueueSequence - 1, Options.OutboundStalledAfter);
            watch.WentWithoutPredecessor(started.OutboundId);
        }

        return started;
    }

    /// <summary>
    /// Applies a change that may end the message to its current state, under its queue's lock and its row's (where
    /// status callbacks apply, so none is missed), and wakes the queue's next message with the end. Nothing happens when
    /// a concurrent delivery ended it first: that one announced the end and woke the next.
    /// </summary>
    private Task EndAsync(OutboundMessage message, Action<OutboundMessage, DateTimeOffset> change, CancellationToken cancellationToken) =>
        db.RunAsync(async ct =>
        {
            await db.LockAsync(SendQueue.LockKey(message), ct);
            if (await db.LockOutboundMessageAsync(message.OutboundId, ct) is not { State: OutboundState.Pending } current)
            {
                return;
            }

            change(current, time.GetUtcNow());
            if (current.State != OutboundState.Pending && await db.NextInQueueAsync(current, ct) is { } next)
            {
                current.WakeNext(next);
            }
        }, cancellationToken);

    /// <summary>Sends one part; true when it went out and the next part may follow at once.</summary>
    private async Task<bool> SendPartAsync(OutboundMessage message, OutboundPart part, CancellationToken cancellationToken)
    {
        if (part.NextAttemptAt is { } due && due - time.GetUtcNow() > MaxInlineWait)
        {
            return await SleepAsync(message, due, cancellationToken); // woken early (a duplicate timer): wait for the due one
        }

        var client = twilio.For(message.AccountSid);
        if (client is null)
        {
            var reason = $"No Twilio auth token is configured for account {message.AccountSid}.";
            await EndAsync(message, (m, now) => m.FailPart(m.Part(part.Index), reason, null, now), cancellationToken);
            return false;
        }

        var slot = part.PacedSlotAt ?? await pacer.ReserveAsync(message.From, cancellationToken);
        var notBefore = part.NextAttemptAt is { } retryAt && retryAt > slot ? retryAt : slot;
        if (notBefore - time.GetUtcNow() > MaxInlineWait)
        {
            message.WaitForSlot(part, slot, notBefore, time.GetUtcNow());
            await db.SaveChangesAsync(cancellationToken);
            return false;
        }

        // The wait first, then the claim: while it waits for its slot the part is only pending, so a crash in the wait
        // leaves it as it was (its command or timer, not acknowledged, comes again) instead of "in the call", which
        // reconciliation would have to look for at Twilio and, not finding it, mark delivery unknown.
        var slotAt = await pacer.WaitForSlotAsync(message.From, notBefore, ClaimLead, cancellationToken);

        // Of the deliveries that got this far for this attempt, only one claims it: the part's row version refuses the others.
        message.Claim(part, time.GetUtcNow());
        try
        {
            await db.SaveChangesAsync(CancellationToken.None); // not cancelled half-way: committed means called
        }
        catch (DbUpdateConcurrencyException)
        {
            return false;
        }

        var rest = slotAt - time.GetUtcNow();
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest, time, CancellationToken.None);
        }

        MessageResource resource;
        try
        {
            // No cancellation token: once the request may have left, its outcome must be recorded.
            resource = await MessageResource.CreateAsync(TwilioMessages.Send(message, part, Options.PublicBaseUrl), client);
        }
        catch (ApiException ex) when (ex.Status is 429 or >= 500)
        {
            var policy = new RetryPolicy(Options.MaxSendAttempts, Options.RetryBaseDelay, Options.MaxRetryDelay);
            await EndAsync(message, (m, now) =>
            {
                if (m.RetryLater(m.Part(part.Index), ex.Status, ex.Code.ToString(), ex.Message, policy, now) is { } at)
                {
                    LogRetry(logger, m.OutboundId, part.Index, ex.Status, (at - now).TotalMilliseconds);
                }
            }, CancellationToken.None);
            return false;
        }
        catch (ApiException ex)
        {
            await EndAsync(message, (m, now) => m.FailPart(m.Part(part.Index), ex.Message, ex.Code.ToString(), now), CancellationToken.None);
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
            return await SleepAsync(message, interruptedAt, cancellationToken);
        }

        return await ReconcileAsync(message, part, cancellationToken);
    }

    /// <summary>Asks Twilio whether an interrupted send arrived. Found: it counts as sent. Not found: delivery unknown.</summary>
    private async Task<bool> ReconcileAsync(OutboundMessage message, OutboundPart part, CancellationToken cancellationToken)
    {
        MessageResource? found = null;
        try
        {
            if (twilio.For(message.AccountSid) is { } client)
            {
                var candidates = await TwilioMessages.CandidatesAsync(client, message, part, Options.InterruptedAfter);
                var recorded = candidates.Count == 0 ? [] : await db.RecordedSidsAsync(candidates.Select(m => m.Sid).ToList(), cancellationToken);
                found = candidates.FirstOrDefault(m => !recorded.Contains(m.Sid));
            }
        }
        catch (Exception ex) when (ex is ApiException or HttpRequestException or TaskCanceledException or ApiConnectionException)
        {
            // Twilio cannot tell us now: ask again later rather than guess.
            LogReconcileFailed(logger, ex, message.OutboundId);
            return await SleepAsync(message, time.GetUtcNow() + Options.RetryBaseDelay, cancellationToken);
        }

        if (found is not null)
        {
            await MarkSentAsync(message, part, found, cancellationToken);
            return true;
        }

        await EndAsync(message, (m, now) => m.LostInTheCall(m.Part(part.Index), now), cancellationToken);
        return false;
    }

    /// <summary>Records Twilio's SID with the callbacks that came before it (Twilio may call back before its answer reaches us).</summary>
    private async Task MarkSentAsync(OutboundMessage message, OutboundPart part, MessageResource resource, CancellationToken cancellationToken)
    {
        message.PartSent(part, resource.Sid, resource.Status?.ToString() ?? "queued", time.GetUtcNow());
        await statuses.CommitSentAsync(resource.Sid, cancellationToken);
    }

    private async Task<bool> SleepAsync(OutboundMessage message, DateTimeOffset until, CancellationToken cancellationToken)
    {
        message.WaitUntil(until, time.GetUtcNow());
        await db.SaveChangesAsync(cancellationToken);
        return false;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Twilio refused part {Part} of {OutboundId} with {Status}; retrying in {DelayMs} ms")]
    private static partial void LogRetry(ILogger logger, string outboundId, int part, int status, double delayMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The send of {OutboundId} part {Part} was interrupted; reconciling with Twilio")]
    private static partial void LogInterrupted(ILogger logger, Exception exception, string outboundId, int part);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{OutboundId} goes out without message {Predecessor} of its queue, which did not arrive within {StalledAfter}")]
    private static partial void LogPredecessorNeverCame(ILogger logger, string outboundId, long predecessor, TimeSpan stalledAfter);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{OutboundId} waits for {Ahead}, an earlier message to the same customer from the same number")]
    private static partial void LogWaiting(ILogger logger, string outboundId, string ahead);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not reconcile {OutboundId} with Twilio; trying again later")]
    private static partial void LogReconcileFailed(ILogger logger, Exception exception, string outboundId);
}
