using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Stores an inbound message once, stamps it with the next sequence of its (number, customer) pair, and
/// writes <see cref="WhatsAppMessageReceived"/> to the outbox in the same transaction.
/// </summary>
public sealed class InboundStore(IngressDbContext db, TimeProvider time)
{
    /// <summary>False when the MessageSid was stored before (a Twilio retry, or the same webhook twice at once).</summary>
    public async Task<bool> StoreAsync(ParsedInbound inbound, Dictionary<string, string> rawPayload, CancellationToken cancellationToken)
    {
        // Nothing here continues after a failed save (a unique violation ends the request), so EF's savepoint around
        // SaveChanges would only cost two more round trips on the webhook's path.
        db.Database.AutoSavepointsEnabled = false;
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // The pair's row lock orders concurrent messages of one customer: sequence order is commit order. The same
        // statement says whether this MessageSid was stored before (a Twilio retry): then the transaction is rolled
        // back, the sequence with it. One round trip instead of a separate look-up on the webhook's path.
        var next = await db.Database.SqlQuery<NextSequence>($"""
            INSERT INTO ingress.customer_sequences (number, customer_id, last_sequence) VALUES ({inbound.To}, {inbound.CustomerId}, 1)
            ON CONFLICT (number, customer_id) DO UPDATE SET last_sequence = customer_sequences.last_sequence + 1
            RETURNING last_sequence AS "Sequence",
                EXISTS (SELECT FROM ingress.inbound_messages WHERE message_sid = {inbound.MessageSid}) AS "Stored"
            """).ToListAsync(cancellationToken) is [var row] ? row : throw new InvalidOperationException("No sequence returned.");
        if (next.Stored)
        {
            await transaction.RollbackAsync(cancellationToken);
            return false;
        }

        var sequence = next.Sequence;

        var message = new InboundMessage
        {
            Id = Ids.New("in"),
            MessageSid = inbound.MessageSid,
            AccountSid = inbound.AccountSid,
            To = inbound.To,
            CustomerId = inbound.CustomerId,
            CustomerPhone = inbound.CustomerPhone,
            ProfileName = inbound.ProfileName,
            Body = inbound.Body,
            Media = inbound.Media,
            Location = inbound.Location,
            ButtonPayload = inbound.ButtonPayload,
            ButtonText = inbound.ButtonText,
            WaId = inbound.WaId,
            RawPayload = rawPayload,
            Sequence = sequence,
            ReceivedAt = time.GetUtcNow(),
        };
        db.InboundMessages.Add(message);
        db.Publish(new WhatsAppMessageReceived(message.Id, message.MessageSid, message.AccountSid, message.To, message.CustomerId,
                message.CustomerPhone, message.ProfileName, message.Body, message.Media, message.Sequence, message.ReceivedAt)
            {
                Location = message.Location,
                ButtonPayload = message.ButtonPayload,
                ButtonText = message.ButtonText,
                WaId = message.WaId,
            },
            OrderingKeys.InboundPair(message.To, message.CustomerId));

        try
        {
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException ex) when (ex.IsUniqueViolation())
        {
            return false; // the same MessageSid committed a moment ago by a concurrent request
        }
    }

    private sealed record NextSequence(long Sequence, bool Stored);
}
