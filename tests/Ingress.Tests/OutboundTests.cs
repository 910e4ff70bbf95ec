using System.Net;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.TestSupport;
using SafeNotify.Crm.TwilioStandIn;

namespace SafeNotify.Crm.Ingress.Tests;

[Collection(IngressCollection.Name)]
public sealed class OutboundTests(IngressService ingress)
{
    private const string Number = "+57302222222";

    [Fact]
    public async Task A_send_command_becomes_one_Twilio_message_and_is_announced_with_its_sid()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var command = Send(customer, "¡Hola María! Soy DrBot.");

        await ingress.Bus.Publish(command);

        var announced = await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
        var atTwilio = ingress.Twilio.FindMessage(announced.TwilioSid)!;
        Assert.Equal(($"whatsapp:{Number}", $"whatsapp:{customer}", "¡Hola María! Soy DrBot."), (atTwilio.From, atTwilio.To, atTwilio.Body));
        Assert.Equal($"{IngressService.PublicBaseUrl}/webhooks/twilio/status", atTwilio.StatusCallback);
        Assert.Equal(("queued", MessageAuthor.AiAgent), (announced.Status, announced.Author));
    }

    [Fact]
    public async Task A_redelivered_send_command_never_reaches_the_customer_twice()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var command = Send(customer, "Su cita quedó agendada.");

        await ingress.Bus.Publish(command);
        await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
        var again = NewId.NextGuid();
        await ingress.Bus.Publish(command, context => context.MessageId = again); // the same command, as a new delivery
        await ingress.Consumed.WaitAsync(again, "the second delivery");

        Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }

    [Fact]
    public async Task After_a_crash_during_the_Twilio_call_the_message_is_marked_delivery_unknown_not_resent()
    {
        var customer = await CustomerWhoWroteAsync();
        var command = Send(customer, "Recordatorio de su cita");
        // What a crash inside the call leaves behind: the send recorded as in progress, no outcome.
        await ingress.WithDbAsync(async db =>
        {
            db.OutboundMessages.Add(new OutboundMessage
            {
                OutboundId = command.OutboundId, TenantId = command.TenantId, ConversationId = command.ConversationId,
                AccountSid = command.AccountSid, From = command.From, To = command.To, Body = command.Body,
                Author = command.Author, State = OutboundState.Sending, Attempts = 1,
                CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            });
            return await db.SaveChangesAsync();
        });
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();

        await ingress.Bus.Publish(command); // the broker redelivers the unacknowledged command

        var update = await updates.FirstAsync(m => m.OutboundId == command.OutboundId);
        Assert.Equal(DeliveryStatuses.DeliveryUnknown, update.Status);
        Assert.DoesNotContain(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
        var row = await ingress.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.OutboundId == command.OutboundId));
        Assert.Equal(OutboundState.DeliveryUnknown, row.State);
    }

    [Fact]
    public async Task Free_text_outside_the_24_hour_window_is_not_sent_and_fails_with_the_reason_but_a_template_is()
    {
        var stranger = "+5731" + Random.Shared.Next(10_000_000, 99_999_999); // never wrote to us
        await using var failed = await ingress.WatchAsync<OutboundMessageFailed>();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();

        var freeText = Send(stranger, "Hola, ¿sigue interesado?");
        await ingress.Bus.Publish(freeText);
        var failure = await failed.FirstAsync(m => m.OutboundId == freeText.OutboundId);
        Assert.Equal("63016", failure.ErrorCode);
        Assert.Contains("24 hours", failure.Reason);

        var template = Send(stranger, null) with { ContentSid = "HX" + new string('0', 32), ContentVariables = "{\"1\":\"María\"}" };
        await ingress.Bus.Publish(template);
        await sent.FirstAsync(m => m.OutboundId == template.OutboundId);
        var atTwilio = Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{stranger}");
        Assert.Equal(template.ContentSid, atTwilio.ContentSid);
    }

    [Fact]
    public async Task A_rate_limited_send_is_tried_again_and_reaches_the_customer_once()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        ingress.Twilio.SetFault(new TwilioFault(TwilioFaultMode.Status429, Count: 2));
        try
        {
            var command = Send(customer, "Gracias por escribirnos");
            await ingress.Bus.Publish(command);
            await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }

        Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }

    [Fact]
    public async Task A_permanent_Twilio_error_fails_the_message_with_Twilios_code()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var failed = await ingress.WatchAsync<OutboundMessageFailed>();
        var command = Send(customer, new string('x', 1601)); // over the Messages API's 1600 characters
        await ingress.Bus.Publish(command);

        var failure = await failed.FirstAsync(m => m.OutboundId == command.OutboundId);
        Assert.Equal("21617", failure.ErrorCode);
    }

    [Fact]
    public async Task Status_callbacks_move_the_status_forward_only_whatever_order_they_arrive_in()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var command = Send(customer, "Hasta mañana");
        await ingress.Bus.Publish(command);
        var sid = (await sent.FirstAsync(m => m.OutboundId == command.OutboundId)).TwilioSid;

        foreach (var status in new[] { "read", "sent", "delivered" })
        {
            using var response = await ingress.PostWebhookAsync("/webhooks/twilio/status", new Dictionary<string, string>
            {
                ["MessageSid"] = sid, ["MessageStatus"] = status, ["AccountSid"] = IngressService.AccountSid,
                ["From"] = $"whatsapp:{Number}", ["To"] = $"whatsapp:{customer}", ["ApiVersion"] = "2010-04-01",
            });
            Assert.True(response.IsSuccessStatusCode);
        }

        var row = await ingress.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.OutboundId == command.OutboundId));
        Assert.Equal("read", row.TwilioStatus);
        await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == "read");
        Assert.DoesNotContain(updates.Where(m => m.OutboundId == command.OutboundId), m => m.Status is "sent" or "delivered");
    }

    [Fact]
    public async Task An_unsigned_status_callback_is_403_and_changes_nothing()
    {
        using var response = await ingress.PostWebhookAsync("/webhooks/twilio/status",
            new Dictionary<string, string> { ["MessageSid"] = "SM1", ["MessageStatus"] = "read", ["AccountSid"] = IngressService.AccountSid }, authToken: null);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    /// <summary>A customer who wrote to the number a moment ago: the 24-hour window is open.</summary>
    private async Task<string> CustomerWhoWroteAsync()
    {
        var customer = "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, customer, Number, "Hola");
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();
        return customer;
    }

    private static SendWhatsAppMessage Send(string customer, string? body) => new(
        "msg_" + Guid.NewGuid().ToString("N")[..12], "tnt_test", "conv_test", IngressService.AccountSid, Number, customer, body,
        MessageAuthor.AiAgent, DateTimeOffset.UtcNow);
}
