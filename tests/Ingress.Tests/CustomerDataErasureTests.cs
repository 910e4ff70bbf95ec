using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Consumers;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>Lead's erasure of a customer reaches the messages Ingress keeps.</summary>
[Collection(IngressCollection.Name)]
public sealed class CustomerDataErasureTests(IngressService ingress)
{
    private const string Number = "+57305555555";

    [Fact]
    public async Task An_erased_customers_texts_names_phones_and_raw_payloads_are_removed_and_other_customers_are_untouched()
    {
        var customer = "+57300" + Random.Shared.Next(1_000_000, 9_999_999);
        var other = "+57300" + Random.Shared.Next(1_000_000, 9_999_999);
        var tenantId = "tnt_" + Guid.NewGuid().ToString("N")[..12];
        var mine = TwilioSigner.InboundForm(IngressService.AccountSid, customer, Number, "Mi cédula es 123456, quiero una cita");
        var theirs = TwilioSigner.InboundForm(IngressService.AccountSid, other, Number, "Hola");
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", mine)).EnsureSuccessStatusCode();
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", theirs)).EnsureSuccessStatusCode();
        var outboundId = "msg_" + Guid.NewGuid().ToString("N")[..12];
        await ingress.Bus.Publish(new SendWhatsAppMessage(outboundId, tenantId, "conv_1", IngressService.AccountSid, Number, customer,
            "Hola María, tu cita es el martes", MessageAuthor.AiAgent, DateTimeOffset.UtcNow));
        await Eventually.TrueAsync(() => ingress.WithDbAsync(db => db.OutboundMessages.AnyAsync(m => m.OutboundId == outboundId && m.State != SafeNotify.Crm.Ingress.Model.OutboundState.Pending)),
            "the reply sent");

        await Eventually.TrueAsync(async () => await OutboxMentionsAsync("123456", dispatched: true) > 0
            && await OutboxMentionsAsync("123456", dispatched: false) == 0, "the customer's message published");

        var erasure = new CustomerDataErasureRequested(tenantId, customer, "lead_1", DateTimeOffset.UtcNow) { CustomerPhone = customer, NumberPhones = [Number] };
        await ingress.HandledAsync(erasure);
        await ingress.HandledAsync(erasure); // asked again: nothing more to do, no error

        var inbound = await ingress.WithDbAsync(db => db.InboundMessages.AsNoTracking().SingleAsync(m => m.MessageSid == mine["MessageSid"]));
        Assert.Equal((CustomerDataErasureConsumer.Erased, null, null, null, null), (inbound.CustomerId, inbound.CustomerPhone, inbound.WaId, inbound.ProfileName, inbound.Body));
        Assert.Empty(inbound.RawPayload);
        Assert.Equal(0, await OutboxMentionsAsync("123456", dispatched: true));
        Assert.False(await ingress.WithDbAsync(db => db.CustomerSequences.AnyAsync(s => s.CustomerId == customer)));
        var sent = await ingress.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Include(m => m.Parts).SingleAsync(m => m.OutboundId == outboundId));
        Assert.Equal((CustomerDataErasureConsumer.Erased, null), (sent.To, sent.Body));
        Assert.All(sent.Parts, p => Assert.Null(p.Body));

        var untouched = await ingress.WithDbAsync(db => db.InboundMessages.AsNoTracking().SingleAsync(m => m.MessageSid == theirs["MessageSid"]));
        Assert.Equal((other, "Hola"), (untouched.CustomerId, untouched.Body));
        Assert.NotEmpty(untouched.RawPayload);

        // Twilio delivering the erased message again is still recognised as a duplicate.
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", mine)).EnsureSuccessStatusCode();
        Assert.Equal(1, await ingress.StoredAsync(mine["MessageSid"]));
    }

    /// <summary>Outbox rows (published or not) whose body holds <paramref name="text"/>.</summary>
    private Task<int> OutboxMentionsAsync(string text, bool dispatched) => ingress.WithDbAsync(db => db.Database
        .SqlQuery<int>($"SELECT count(*)::int AS \"Value\" FROM ingress.outbox_messages WHERE (dispatched_at IS NOT NULL) = {dispatched} AND body::text LIKE {"%" + text + "%"}")
        .SingleAsync());
}
