using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Applies a status callback: callbacks arrive out of order and none comes for the first status, so a
/// message's status only ever moves forward (read never goes back to delivered). Each change is published.
/// </summary>
public sealed class DeliveryStatusRecorder(IngressDbContext db, TimeProvider time)
{
    public async Task RecordAsync(string twilioSid, string status, string? errorCode, CancellationToken cancellationToken)
    {
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Locked, so two callbacks for one message cannot both read the old status and race backwards.
        var locked = await db.OutboundMessages
            .FromSql($"SELECT * FROM ingress.outbound_messages WHERE twilio_sid = {twilioSid} FOR UPDATE")
            .ToListAsync(cancellationToken);
        var message = locked.SingleOrDefault();
        if (message is null || !DeliveryStatuses.IsForward(message.TwilioStatus, status))
        {
            return;
        }

        var now = time.GetUtcNow();
        message.TwilioStatus = status.ToLowerInvariant();
        message.ErrorCode = string.IsNullOrEmpty(errorCode) ? message.ErrorCode : errorCode;
        message.UpdatedAt = now;
        db.Publish(new MessageDeliveryUpdated(message.OutboundId, message.TenantId, message.ConversationId, twilioSid,
            message.TwilioStatus, message.ErrorCode, now), $"out:{message.OutboundId}");
        await db.SaveChangesAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }
}
