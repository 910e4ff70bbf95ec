using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>
/// The messages from one of our numbers to one customer reach the customer in the order Lead issued them, each
/// message's parts together, whatever the pacing, the number of Ingress instances or a crash in between.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class OutboundOrderTests(IngressService ingress)
{
    private const string Number = "+57302222222";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    /// <summary>A reply of about 3,500 characters: three parts, cut between sentences.</summary>
    private static readonly string LongReply = string.Join(" ", Enumerable.Range(1, 40)
        .Select(i => $"Esta es la frase número {i} de la explicación del tratamiento de ortodoncia, con sus cuidados y precios."));

    [Fact]
    public async Task Replies_go_out_in_leads_numbering_whatever_order_their_commands_arrive_in_a_long_one_whole_even_with_two_Ingress_instances()
    {
        // A second instance on the same database and queue: the commands are shared out between the two.
        await using var second = ingress.WithWebHostBuilder(_ => { });
        await second.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, Patience);
        var customer = await CustomerWhoWroteAsync(IngressService.SlowNumber);
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();

        // One send a second from this number: each later part waits a whole second for its slot, time enough
        // for the short replies to take slots before it if nothing kept them back.
        var replies = new[] { LongReply, "¿Le queda alguna duda?", "Quedo atenta." }
            .Select((body, index) => Send(customer, body, IngressService.SlowNumber) with { QueueSequence = index + 1 }).ToList();
        // The commands arrive last first, as they may when Lead's outbox and two consumers race.
        foreach (var reply in Enumerable.Reverse(replies))
        {
            await ingress.Bus.Publish(reply);
        }

        foreach (var reply in replies)
        {
            await sent.FirstAsync(m => m.OutboundId == reply.OutboundId, Patience);
        }

        var received = ReceivedBy(customer);
        Assert.Equal(5, received.Count);
        Assert.Equal(LongReply, string.Join(" ", received.Take(3)));       // the long reply first, its parts in order
        Assert.Equal<string?>(["¿Le queda alguna duda?", "Quedo atenta."], received.Skip(3));
    }

    [Fact]
    public async Task Another_customers_reply_from_the_same_number_is_not_held_up_by_a_long_reply_going_out()
    {
        var customer = await CustomerWhoWroteAsync(IngressService.SlowNumber);
        var other = await CustomerWhoWroteAsync(IngressService.SlowNumber);
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();

        // Numbered as Lead numbers each customer's messages: the order holds whichever delivery comes first.
        var longReply = Send(customer, LongReply, IngressService.SlowNumber) with { QueueSequence = 1 };
        var followUp = Send(customer, "¿Le queda alguna duda?", IngressService.SlowNumber) with { QueueSequence = 2 };
        var otherReply = Send(other, "Su cita es mañana a las 9:00.", IngressService.SlowNumber) with { QueueSequence = 1 };
        await ingress.Bus.Publish(longReply);
        await ingress.Bus.Publish(followUp);
        await ingress.Bus.Publish(otherReply);
        foreach (var reply in new[] { longReply, followUp, otherReply })
        {
            await sent.FirstAsync(m => m.OutboundId == reply.OutboundId, Patience);
        }

        // The number's sends in the order Twilio got them: the other customer's reply took the first free slot,
        // between the parts of the long reply, instead of queueing behind it.
        var fromNumber = ingress.Twilio.SentMessages.Where(m => m.From == $"whatsapp:{IngressService.SlowNumber}").ToList();
        var lastLongPart = fromNumber.FindLastIndex(m => m.To == $"whatsapp:{customer}" && m.Body != followUp.Body);
        var otherSent = fromNumber.FindIndex(m => m.To == $"whatsapp:{other}");
        Assert.InRange(otherSent, 0, lastLongPart - 1);

        var received = ReceivedBy(customer);
        Assert.Equal(4, received.Count);
        Assert.Equal(LongReply, string.Join(" ", received.Take(3)));
        Assert.Equal(followUp.Body, received[3]);
    }

    [Fact]
    public async Task A_message_that_failed_for_good_does_not_hold_back_the_next_one()
    {
        var customer = await CustomerWhoWroteAsync(Number);
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var failed = await ingress.WatchAsync<OutboundMessageFailed>();
        var first = Send(customer, "Primer mensaje", Number) with { QueueSequence = 1 };
        var second = Send(customer, "Segundo mensaje", Number) with { QueueSequence = 2 };
        ingress.Twilio.SetFault(new TwilioStandIn.TwilioFault(TwilioStandIn.TwilioFaultMode.Error63016, Count: 1));
        try
        {
            await ingress.Bus.Publish(first);
            await ingress.Bus.Publish(second);
            // The first goes to Twilio first (the second waits for it) and is the one refused for good.
            Assert.Equal("63016", (await failed.FirstAsync(m => m.OutboundId == first.OutboundId, Patience)).ErrorCode);
            await sent.FirstAsync(m => m.OutboundId == second.OutboundId, Patience);
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }

        Assert.Equal<string?>(["Segundo mensaje"], ReceivedBy(customer));
    }

    [Fact]
    public async Task A_message_waits_as_data_behind_an_interrupted_one_and_goes_once_that_one_is_found_undeliverable()
    {
        var customer = await CustomerWhoWroteAsync(Number);
        var interrupted = Send(customer, "Recordatorio de su cita", Number) with { RequestedAt = DateTimeOffset.UtcNow.AddMinutes(-10) };
        await ingress.RecordInterruptedSendAsync(interrupted, startedAgo: TimeSpan.FromMinutes(10));
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();

        // The next reply arrives while the first one's outcome is unknown: it is recorded and waits, its
        // command acknowledged, nothing about it held in memory.
        var next = Send(customer, "¿Sigue interesado en la cita?", Number);
        var nextDelivery = NewId.NextGuid();
        await ingress.Bus.Publish(next, context => context.MessageId = nextDelivery);
        await ingress.Consumed.WaitAsync(nextDelivery, "the next reply");
        var waiting = await ingress.WithDbAsync(db => db.OutboundMessages.SingleAsync(m => m.OutboundId == next.OutboundId));
        Assert.Equal((OutboundState.Pending, null), (waiting.State, waiting.StartedAt));
        Assert.Empty(ReceivedBy(customer));

        // The broker redelivers the interrupted command; Twilio has no such message: delivery unknown, not resent,
        // and the waiting reply is woken by a timer committed with that outcome.
        await ingress.Bus.Publish(interrupted);
        Assert.Equal(DeliveryStatuses.DeliveryUnknown, (await updates.FirstAsync(m => m.OutboundId == interrupted.OutboundId, Patience)).Status);
        await sent.FirstAsync(m => m.OutboundId == next.OutboundId, Patience);
        Assert.Equal<string?>([next.Body], ReceivedBy(customer));
    }

    [Fact]
    public async Task A_message_whose_earlier_one_was_recorded_but_never_handled_sets_that_one_going_and_follows_it()
    {
        var customer = await CustomerWhoWroteAsync(Number);
        var lost = Send(customer, "Le confirmamos su cita del martes.", Number) with { RequestedAt = DateTimeOffset.UtcNow.AddMinutes(-1) };
        // Recorded, then its handling lost (the command dead-lettered after a crash): nothing will send it by itself.
        await ingress.WithDbAsync(db =>
        {
            db.OutboundMessages.Add(OutboundMessage.Record(lost, lost.RequestedAt, new CustomerServiceWindow(lost.RequestedAt), lost.RequestedAt));
            return db.SaveChangesAsync();
        });
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();

        var next = Send(customer, "¿Necesita algo más?", Number);
        await ingress.Bus.Publish(next);

        // The later message waits, then its watchdog (Twilio:OutboundStalledAfter, 2 s here) sets the earlier one
        // going; that one's end wakes the later one: both reach the customer, in Lead's order.
        await sent.FirstAsync(m => m.OutboundId == lost.OutboundId, Patience);
        await sent.FirstAsync(m => m.OutboundId == next.OutboundId, Patience);
        Assert.Equal<string?>([lost.Body, next.Body], ReceivedBy(customer));
    }

    [Fact]
    public async Task A_message_whose_predecessor_never_arrives_goes_out_after_waiting_for_it_and_the_health_check_names_it()
    {
        var customer = await CustomerWhoWroteAsync(Number);
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        // Lead numbered a message before this one, and that command never reaches Ingress.
        var orphan = Send(customer, "¿Le confirmamos la cita del jueves?", Number) with { QueueSequence = 2 };
        var publishedAt = DateTimeOffset.UtcNow;

        await ingress.Bus.Publish(orphan);

        await sent.FirstAsync(m => m.OutboundId == orphan.OutboundId, Patience);
        Assert.True(DateTimeOffset.UtcNow - publishedAt >= IngressService.OutboundStalledAfter,
            "it went out before its wait for the missing message ended (Twilio:OutboundStalledAfter)");
        Assert.Equal<string?>([orphan.Body], ReceivedBy(customer));
        var health = await ingress.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync(check => check.Name == "send-queues");
        var queues = health.Entries["send-queues"];
        Assert.Equal(HealthStatus.Degraded, queues.Status);
        Assert.Contains(orphan.OutboundId, queues.Description);
    }

    /// <summary>What the stand-in received for <paramref name="customer"/>, in the order it received it.</summary>
    private List<string?> ReceivedBy(string customer) =>
        ingress.Twilio.SentMessages.Where(m => m.To == $"whatsapp:{customer}").Select(m => m.Body).ToList();

    /// <summary>A customer who wrote to <paramref name="number"/> a moment ago: the 24-hour window is open.</summary>
    private async Task<string> CustomerWhoWroteAsync(string number)
    {
        var customer = "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, customer, number, "Hola");
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();
        return customer;
    }

    private static SendWhatsAppMessage Send(string customer, string body, string from) => new(
        "msg_" + Guid.NewGuid().ToString("N")[..12], "tnt_test", "conv_test", IngressService.AccountSid, from, customer, body,
        MessageAuthor.AiAgent, DateTimeOffset.UtcNow);
}
