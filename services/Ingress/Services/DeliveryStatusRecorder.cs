using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Applies a status callback: callbacks arrive out of order and none comes for the first status, so a part's
/// status only ever moves forward (read never goes back to delivered). The message's status (the least
/// advanced of its parts, or failed) is published whenever it moves forward once the message was sent (until
/// then <see cref="OutboundMessageSent"/> is still to come, and carries it).
/// <para>
/// Twilio may call back before the answer to the send reaches us, and never calls again: a callback for a SID not
/// recorded yet is kept (<see cref="EarlyStatusCallback"/>) and applied when the send records the SID
/// (<see cref="CommitSentAsync"/>). Both take the SID's advisory lock, so a callback either finds the SID or is kept
/// where the send, which records the SID and then looks in the same transaction, finds it.
/// </para>
/// </summary>
public sealed class DeliveryStatusRecorder(IngressDbContext db, IOptions<TwilioOptions> options, TimeProvider time)
{
    /// <summary>Whether a callback's fields can be what Twilio sends (a SID, a status word, a numeric error code).</summary>
    public static bool IsWellFormed(string sid, string status, string? errorCode) =>
        sid.Length is > 0 and <= 64 && sid.All(char.IsAsciiLetterOrDigit)
        && status.Length is > 0 and <= 32 && status.All(c => char.IsAsciiLetter(c) || c == '_' || c == '-')
        && (string.IsNullOrEmpty(errorCode) || (errorCode.Length <= 16 && errorCode.All(char.IsAsciiDigit)));

    public async Task RecordAsync(string twilioSid, string status, string? errorCode, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync(SidKey(twilioSid), cancellationToken);
        if (!await ApplyAsync(twilioSid, status, errorCode, cancellationToken) && DeliveryStatuses.Rank(status) > 0)
        {
            var now = time.GetUtcNow();
            await db.Database.ExecuteSqlAsync($"""
                INSERT INTO ingress.early_status_callbacks (twilio_sid, status, error_code, received_at)
                VALUES ({twilioSid}, {status.ToLowerInvariant()}, {(string.IsNullOrEmpty(errorCode) ? null : errorCode)}, {now})
                ON CONFLICT DO NOTHING
                """, cancellationToken);
            // Bounded: a SID never recorded (not ours, or its send failed for good) is forgotten after the retention.
            var expired = now - options.Value.EarlyStatusCallbackRetention;
            await db.EarlyStatusCallbacks.Where(c => c.ReceivedAt < expired).ExecuteDeleteAsync(cancellationToken);
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// Commits the tracked changes that record <paramref name="twilioSid"/> for a part (the send's answer) together with
    /// the callbacks that arrived for it before. One transaction under the SID's lock: a callback either finds the SID or
    /// was kept and is applied here, and a crash in between cannot leave the SID recorded with its callbacks unapplied.
    /// </summary>
    public async Task CommitSentAsync(string twilioSid, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        await db.LockAsync(SidKey(twilioSid), cancellationToken);
        await db.SaveChangesAsync(cancellationToken); // the SID, where applying a callback looks for it
        var early = await db.EarlyStatusCallbacks.Where(c => c.TwilioSid == twilioSid).ToListAsync(cancellationToken);
        foreach (var callback in early.OrderBy(c => DeliveryStatuses.Rank(c.Status)))
        {
            await ApplyAsync(twilioSid, callback.Status, callback.ErrorCode, cancellationToken);
        }

        db.EarlyStatusCallbacks.RemoveRange(early);
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>Moves the part with <paramref name="twilioSid"/> forward; false when no part has that SID (yet).</summary>
    private async Task<bool> ApplyAsync(string twilioSid, string status, string? errorCode, CancellationToken cancellationToken)
    {
        // A callback names only Twilio's SID, so finding its part crosses tenants on purpose; the rest is the message's tenant's.
        // The message is locked, so two callbacks for its parts cannot both read the old status and race backwards.
        var outboundId = await db.AcrossTenantsAsync(() => db.OutboundParts.Where(p => p.TwilioSid == twilioSid).Select(p => p.OutboundId)
            .FirstOrDefaultAsync(cancellationToken), cancellationToken);
        var locked = outboundId is null || !await OutboundSender.ForTenantOfAsync(db, outboundId, cancellationToken) ? [] : await db.OutboundMessages
            .FromSql($"SELECT * FROM ingress.outbound_messages WHERE outbound_id = {outboundId} FOR UPDATE")
            .ToListAsync(cancellationToken);
        if (locked.SingleOrDefault() is not { } message)
        {
            return false;
        }

        await db.Entry(message).Collection(m => m.Parts).LoadAsync(cancellationToken);
        var part = message.Parts.Single(p => p.TwilioSid == twilioSid);
        if (!DeliveryStatuses.IsForward(part.TwilioStatus, status))
        {
            return true;
        }

        part.TwilioStatus = status.ToLowerInvariant();
        part.ErrorCode = string.IsNullOrEmpty(errorCode) ? part.ErrorCode : errorCode;
        var aggregate = OutboundSender.AggregateStatus(message.Parts);
        if (message.State != OutboundState.Pending && DeliveryStatuses.IsForward(message.ReportedStatus, aggregate))
        {
            var now = time.GetUtcNow();
            message.ReportedStatus = aggregate;
            message.ErrorCode = part.ErrorCode ?? message.ErrorCode;
            message.UpdatedAt = now;
            db.Publish(new MessageDeliveryUpdated(message.OutboundId, message.TenantId, message.ConversationId, twilioSid,
                aggregate, message.ErrorCode, now), OutboundSender.Key(message));
        }

        return true;
    }

    private static string SidKey(string twilioSid) => $"ingress-sid:{twilioSid}";
}
