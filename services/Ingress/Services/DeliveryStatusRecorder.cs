using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Applies a status callback to its message (<see cref="OutboundMessage.StatusReported"/>).
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

    public Task RecordAsync(string twilioSid, string status, string? errorCode, CancellationToken cancellationToken) =>
        db.RunAsync(async ct =>
        {
            await db.LockAsync(SidKey(twilioSid), ct);
            if (await LockMessageOfAsync(twilioSid, ct) is { } message)
            {
                message.StatusReported(twilioSid, status, errorCode, time.GetUtcNow());
            }
            else if (DeliveryStatuses.Rank(status) > 0)
            {
                // Bounded: a SID never recorded (not ours, or its send failed for good) is forgotten after the retention.
                var now = time.GetUtcNow();
                var callback = new EarlyStatusCallback
                {
                    TwilioSid = twilioSid, Status = status.ToLowerInvariant(), ErrorCode = string.IsNullOrEmpty(errorCode) ? null : errorCode, ReceivedAt = now,
                };
                await db.KeepEarlyCallbackAsync(callback, now - options.Value.EarlyStatusCallbackRetention, ct);
            }
        }, cancellationToken);

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
        if (await db.EarlyStatusCallbacks.AnyAsync(c => c.TwilioSid == twilioSid, cancellationToken)
            && await LockMessageOfAsync(twilioSid, cancellationToken) is { } message)
        {
            var early = await db.EarlyStatusCallbacks.Where(c => c.TwilioSid == twilioSid).ToListAsync(cancellationToken);
            foreach (var callback in early.OrderBy(c => DeliveryStatuses.Rank(c.Status)))
            {
                message.StatusReported(twilioSid, callback.Status, callback.ErrorCode, time.GetUtcNow());
            }

            db.EarlyStatusCallbacks.RemoveRange(early);
            await db.SaveChangesAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
    }

    /// <summary>
    /// The message whose part has <paramref name="twilioSid"/>, locked, so two callbacks for its parts cannot both read the
    /// old status and race backwards; null when no part has that SID (yet).
    /// </summary>
    private async Task<OutboundMessage?> LockMessageOfAsync(string twilioSid, CancellationToken cancellationToken) =>
        await db.ForTenantOfSidAsync(twilioSid, cancellationToken) is { } outboundId
            ? await db.LockOutboundMessageAsync(outboundId, cancellationToken)
            : null;

    private static string SidKey(string twilioSid) => $"ingress-sid:{twilioSid}";
}
