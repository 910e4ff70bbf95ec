using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Applies a status callback: callbacks arrive out of order and none comes for the first status, so a part's
/// status only ever moves forward (read never goes back to delivered). The message's status (the least
/// advanced of its parts, or failed) is published whenever it moves forward.
/// </summary>
public sealed class DeliveryStatusRecorder(IngressDbContext db, TimeProvider time)
{
    public async Task RecordAsync(string twilioSid, string status, string? errorCode, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // A callback names only Twilio's SID, so finding its part crosses tenants on purpose; the rest is the message's tenant's.
        // The message is locked, so two callbacks for its parts cannot both read the old status and race backwards.
        var outboundId = await db.AcrossTenantsAsync(() => db.OutboundParts.Where(p => p.TwilioSid == twilioSid).Select(p => p.OutboundId)
            .FirstOrDefaultAsync(cancellationToken), cancellationToken);
        var locked = outboundId is null || !await OutboundSender.ForTenantOfAsync(db, outboundId, cancellationToken) ? [] : await db.OutboundMessages
            .FromSql($"SELECT * FROM ingress.outbound_messages WHERE outbound_id = {outboundId} FOR UPDATE")
            .ToListAsync(cancellationToken);
        if (locked.SingleOrDefault() is not { } message)
        {
            return;
        }

        await db.Entry(message).Collection(m => m.Parts).LoadAsync(cancellationToken);
        var part = message.Parts.Single(p => p.TwilioSid == twilioSid);
        if (!DeliveryStatuses.IsForward(part.TwilioStatus, status))
        {
            return;
        }

        part.TwilioStatus = status.ToLowerInvariant();
        part.ErrorCode = string.IsNullOrEmpty(errorCode) ? part.ErrorCode : errorCode;
        var aggregate = OutboundSender.AggregateStatus(message.Parts);
        if (DeliveryStatuses.IsForward(message.ReportedStatus, aggregate))
        {
            var now = time.GetUtcNow();
            message.ReportedStatus = aggregate;
            message.ErrorCode = part.ErrorCode ?? message.ErrorCode;
            message.UpdatedAt = now;
            db.Publish(new MessageDeliveryUpdated(message.OutboundId, message.TenantId, message.ConversationId, twilioSid,
                aggregate, message.ErrorCode, now), OutboundSender.Key(message));
        }

        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
