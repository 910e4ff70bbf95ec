using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Ingress.Services;
using SafeNotify.Crm.Messaging;
using Twilio.Exceptions;
using Twilio.Rest.Api.V2010.Account;
using Twilio.Types;

namespace SafeNotify.Crm.Ingress.Consumers;

/// <summary>
/// Sends one WhatsApp message through Twilio. Twilio's API has no idempotency key, so the send is recorded
/// (committed) before the call; a redelivered command finds the record and never sends again blindly: if
/// the earlier attempt died inside the call, the message is marked <em>delivery unknown</em> for operators.
/// Free-form text goes out only inside the 24-hour customer-service window.
/// </summary>
public sealed partial class SendWhatsAppMessageConsumer(
    IngressDbContext db,
    TwilioClients twilio,
    IOptions<TwilioOptions> options,
    TimeProvider time,
    ILogger<SendWhatsAppMessageConsumer> logger) : IConsumer<SendWhatsAppMessage>
{
    public static readonly TimeSpan CustomerServiceWindow = TimeSpan.FromHours(24);

    public async Task Consume(ConsumeContext<SendWhatsAppMessage> context)
    {
        var command = context.Message;
        var cancellationToken = context.CancellationToken;
        var message = await BeginAsync(command, cancellationToken);
        if (message is null)
        {
            return;
        }

        if (command.ContentSid is null && !await InsideWindowAsync(command, cancellationToken))
        {
            await FailAsync(message, "The customer last wrote more than 24 hours ago: only an approved template (ContentSid) may be sent.", "63016", cancellationToken);
            return;
        }

        var client = twilio.For(command.AccountSid);
        if (client is null)
        {
            await FailAsync(message, $"No Twilio auth token is configured for account {command.AccountSid}.", null, cancellationToken);
            return;
        }

        try
        {
            var resource = await MessageResource.CreateAsync(BuildOptions(command), client);
            message.State = OutboundState.Sent;
            message.TwilioSid = resource.Sid;
            message.TwilioStatus = resource.Status?.ToString() ?? "queued";
            message.SentAt = message.UpdatedAt = time.GetUtcNow();
            db.Publish(new OutboundMessageSent(message.OutboundId, message.TenantId, message.ConversationId, resource.Sid,
                message.TwilioStatus, message.Author, 1, message.SentAt.Value), Key(message));
            await db.SaveChangesAsync(CancellationToken.None);
        }
        catch (ApiException ex) when (ex.Status is 429 or >= 500)
        {
            // Twilio did not take it (rate limit or its own failure): safe to try again.
            message.State = OutboundState.RetryPending;
            message.ErrorCode = ex.Code.ToString();
            message.UpdatedAt = time.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            throw;
        }
        catch (ApiException ex)
        {
            await FailAsync(message, ex.Message, ex.Code.ToString(), CancellationToken.None);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException or ApiConnectionException)
        {
            // The request may have reached Twilio: sending again could reach the customer twice.
            LogUnknown(logger, ex, message.OutboundId);
            await MarkDeliveryUnknownAsync(message, "The connection to Twilio broke during the send.", CancellationToken.None);
        }
    }

    /// <summary>Records the send before the call, or decides from an earlier record what this delivery may do.</summary>
    private async Task<OutboundMessage?> BeginAsync(SendWhatsAppMessage command, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var message = await db.OutboundMessages.FirstOrDefaultAsync(m => m.OutboundId == command.OutboundId, cancellationToken);
        if (message is null)
        {
            message = new OutboundMessage
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
                Author = command.Author,
                State = OutboundState.Sending,
                Attempts = 1,
                CreatedAt = now,
                UpdatedAt = now,
            };
            db.OutboundMessages.Add(message);
            try
            {
                await db.SaveChangesAsync(cancellationToken);
                return message;
            }
            catch (DbUpdateException ex) when (ex.IsUniqueViolation())
            {
                return null; // a concurrent delivery of the same command recorded it first and sends it
            }
        }

        switch (message.State)
        {
            case OutboundState.RetryPending:
                message.State = OutboundState.Sending;
                message.Attempts++;
                message.UpdatedAt = now;
                await db.SaveChangesAsync(cancellationToken);
                return message;
            case OutboundState.Sending:
                await MarkDeliveryUnknownAsync(message, "A previous attempt stopped during the Twilio call; not resent.", cancellationToken);
                return null;
            default:
                return null; // sent, failed or unknown already: nothing more to do
        }
    }

    private async Task<bool> InsideWindowAsync(SendWhatsAppMessage command, CancellationToken cancellationToken)
    {
        var lastInbound = await db.InboundMessages
            .Where(m => m.To == command.From && m.CustomerId == command.To)
            .MaxAsync(m => (DateTimeOffset?)m.ReceivedAt, cancellationToken);
        return lastInbound is { } at && time.GetUtcNow() - at <= CustomerServiceWindow;
    }

    private CreateMessageOptions BuildOptions(SendWhatsAppMessage command)
    {
        var send = new CreateMessageOptions(new PhoneNumber("whatsapp:" + command.To))
        {
            From = new PhoneNumber("whatsapp:" + command.From),
            Body = command.Body,
            ContentSid = command.ContentSid,
            ContentVariables = command.ContentVariables,
        };
        if (!string.IsNullOrWhiteSpace(options.Value.PublicBaseUrl))
        {
            send.StatusCallback = new Uri(options.Value.PublicBaseUrl.TrimEnd('/') + "/webhooks/twilio/status");
        }

        return send;
    }

    private async Task FailAsync(OutboundMessage message, string reason, string? errorCode, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        message.State = OutboundState.Failed;
        message.TwilioStatus = DeliveryStatuses.Failed;
        message.FailureReason = reason;
        message.ErrorCode = errorCode;
        message.UpdatedAt = now;
        db.Publish(new OutboundMessageFailed(message.OutboundId, message.TenantId, message.ConversationId, reason, errorCode, now), Key(message));
        await db.SaveChangesAsync(cancellationToken);
    }

    private async Task MarkDeliveryUnknownAsync(OutboundMessage message, string reason, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        message.State = OutboundState.DeliveryUnknown;
        message.TwilioStatus = DeliveryStatuses.DeliveryUnknown;
        message.FailureReason = reason;
        message.UpdatedAt = now;
        db.Publish(new MessageDeliveryUpdated(message.OutboundId, message.TenantId, message.ConversationId, message.TwilioSid ?? "",
            DeliveryStatuses.DeliveryUnknown, null, now), Key(message));
        await db.SaveChangesAsync(cancellationToken);
    }

    private static string Key(OutboundMessage message) => $"out:{message.OutboundId}";

    [LoggerMessage(Level = LogLevel.Error, Message = "The send of {OutboundId} may or may not have reached Twilio; marked delivery unknown")]
    private static partial void LogUnknown(ILogger logger, Exception exception, string outboundId);
}
