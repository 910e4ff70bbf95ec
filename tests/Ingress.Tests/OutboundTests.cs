using System.Net;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Ingress.Services;
using SafeNotify.Crm.TestSupport;
using SafeNotify.Crm.TwilioStandIn;

namespace SafeNotify.Crm.Ingress.Tests;

[Collection(IngressCollection.Name)]
public sealed class OutboundTests(IngressService ingress)
{
    private const string Number = "+57302222222";
    private const string Template = "HX0123456789abcdef0123456789abcdef";

    /// <summary>Longer ago than a Twilio call can last: a send still "in the call" since then was interrupted.</summary>
    private static readonly TimeSpan LongerThanACall = IngressService.InterruptedAfter + TimeSpan.FromSeconds(1);

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
        Assert.Equal(("queued", MessageAuthor.AiAgent, 1), (announced.Status, announced.Author, announced.Parts));
    }

    [Fact]
    public async Task A_reply_over_1600_characters_goes_out_as_several_messages_cut_between_sentences_in_order()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var sentences = Enumerable.Range(1, 40).Select(i => $"Esta es la frase número {i} de la explicación del tratamiento de ortodoncia, con sus cuidados y precios.").ToList();
        var reply = string.Join(" ", sentences);
        Assert.InRange(reply.Length, 3400, 4200);

        var command = Send(customer, reply);
        await ingress.Bus.Publish(command);

        var announced = await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
        var parts = ingress.Twilio.SentMessages.Where(m => m.To == $"whatsapp:{customer}").OrderBy(m => m.CreatedAt).ToList();
        Assert.Equal(3, parts.Count);
        Assert.Equal(3, announced.Parts);
        Assert.All(parts, part => Assert.InRange(part.Body!.Length, 1, MessageSplitter.TwilioMaxBody));
        Assert.All(parts, part => Assert.EndsWith(".", part.Body));                 // every cut is at the end of a sentence
        Assert.Equal(reply, string.Join(" ", parts.Select(p => p.Body)));             // nothing lost, nothing reordered
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
    public async Task A_send_interrupted_by_a_crash_that_Twilio_never_got_is_marked_delivery_unknown_not_resent()
    {
        var customer = await CustomerWhoWroteAsync();
        var command = Send(customer, "Recordatorio de su cita");
        await ingress.RecordInterruptedSendAsync(command, startedAgo: TimeSpan.FromMinutes(10));
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();

        await ingress.Bus.Publish(command); // the broker redelivers the unacknowledged command

        var update = await updates.FirstAsync(m => m.OutboundId == command.OutboundId);
        Assert.Equal(DeliveryStatuses.DeliveryUnknown, update.Status);
        Assert.DoesNotContain(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");

        // Operators see it, without the customer's text.
        using var admin = ingress.OperatorClient();
        var list = await admin.GetStringAsync("/api/admin/outbound-messages?state=DELIVERY_UNKNOWN&pageSize=200");
        Assert.Contains(command.OutboundId, list);
        Assert.DoesNotContain("Recordatorio", list);
    }

    [Fact]
    public async Task A_send_interrupted_by_a_crash_that_Twilio_did_get_is_found_there_and_counts_as_sent()
    {
        var customer = await CustomerWhoWroteAsync();
        var command = Send(customer, "Su cita es el martes a las 10:00.");
        await ingress.RecordInterruptedSendAsync(command, startedAgo: LongerThanACall);
        // Twilio took the message before the crash: it is there, under our number and the customer's.
        var atTwilio = await SendDirectlyAsync(customer, command.Body!);
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();

        await ingress.Bus.Publish(command);

        Assert.Equal(atTwilio, (await sent.FirstAsync(m => m.OutboundId == command.OutboundId)).TwilioSid);
        Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }

    [Fact]
    public async Task A_send_still_inside_its_Twilio_call_elsewhere_is_left_alone_until_it_must_have_ended()
    {
        var customer = await CustomerWhoWroteAsync();
        var command = Send(customer, "Gracias");
        await ingress.RecordInterruptedSendAsync(command, startedAgo: TimeSpan.Zero);
        var again = NewId.NextGuid();

        await ingress.Bus.Publish(command, context => context.MessageId = again);
        await ingress.Consumed.WaitAsync(again, "the redelivered command");

        var message = await ingress.WithDbAsync(db => db.OutboundMessages.Include(m => m.Parts).SingleAsync(m => m.OutboundId == command.OutboundId));
        Assert.Equal((OutboundState.Pending, PartState.Sending), (message.State, message.Parts[0].State));
        Assert.DoesNotContain(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
        // A look-again timer is kept as data, due when the call would surely have ended.
        var timers = await ingress.PublishedAsync<OutboundSendDue>(d => d.OutboundId == command.OutboundId);
        Assert.Single(timers);
    }

    [Theory]
    [InlineData(TwilioFaultMode.DropAfterAccept, true)]
    [InlineData(TwilioFaultMode.DropBeforeAccept, false)]
    public async Task A_connection_broken_during_the_call_is_reconciled_with_Twilio_never_sent_twice(TwilioFaultMode fault, bool twilioTookIt)
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var command = Send(customer, "¿Confirmamos su cita?");
        ingress.Twilio.SetFault(new TwilioFault(fault, Count: 1));
        try
        {
            await ingress.Bus.Publish(command);
            if (twilioTookIt)
            {
                await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
            }
            else
            {
                Assert.Equal(DeliveryStatuses.DeliveryUnknown, (await updates.FirstAsync(m => m.OutboundId == command.OutboundId)).Status);
            }
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }

        Assert.Equal(twilioTookIt ? 1 : 0, ingress.Twilio.SentMessages.Count(m => m.To == $"whatsapp:{customer}"));
    }

    [Fact]
    public async Task An_interrupted_template_send_is_found_at_Twilio_by_its_variables_and_not_taken_for_a_later_message()
    {
        var customer = await CustomerWhoWroteAsync();
        var command = Send(customer, null) with { ContentSid = Template, ContentVariables = "{\"1\":\"María\",\"2\":\"martes 10:00\"}" };
        await ingress.RecordInterruptedSendAsync(command, startedAgo: LongerThanACall);
        // Twilio took the template before the crash; then someone else wrote to the customer from the number (the
        // Twilio console, another system on the account).
        var template = await SendDirectlyAsync(customer, null, command.ContentSid, command.ContentVariables);
        await SendDirectlyAsync(customer, "Le escribimos de la clínica.");
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();

        await ingress.Bus.Publish(command);

        Assert.Equal(template, (await sent.FirstAsync(m => m.OutboundId == command.OutboundId)).TwilioSid);
        Assert.Equal(2, ingress.Twilio.SentMessages.Count(m => m.To == $"whatsapp:{customer}"));
    }

    [Fact]
    public async Task An_interrupted_template_send_is_delivery_unknown_when_Twilio_holds_only_other_messages_to_the_customer()
    {
        var customer = await CustomerWhoWroteAsync();
        var command = Send(customer, null) with { ContentSid = Template, ContentVariables = "{\"1\":\"María\"}" };
        await ingress.RecordInterruptedSendAsync(command, startedAgo: LongerThanACall);
        await SendDirectlyAsync(customer, "Le escribimos de la clínica.");
        await SendDirectlyAsync(customer, null, Template, "{\"1\":\"Lucía\"}"); // the same template for someone else
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();

        await ingress.Bus.Publish(command);

        Assert.Equal(DeliveryStatuses.DeliveryUnknown, (await updates.FirstAsync(m => m.OutboundId == command.OutboundId)).Status);
        Assert.Equal(2, ingress.Twilio.SentMessages.Count(m => m.To == $"whatsapp:{customer}")); // not resent
    }

    [Fact]
    public async Task A_message_Twilio_holds_for_another_of_our_sends_is_not_taken_for_an_interrupted_one_with_the_same_text()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var earlier = Send(customer, "Gracias");
        await ingress.Bus.Publish(earlier);
        await sent.FirstAsync(m => m.OutboundId == earlier.OutboundId);

        // The same words again, interrupted around the same time: Twilio's only such message is the earlier send's.
        var interrupted = Send(customer, "Gracias");
        await ingress.RecordInterruptedSendAsync(interrupted, startedAgo: LongerThanACall);
        await ingress.Bus.Publish(interrupted);

        Assert.Equal(DeliveryStatuses.DeliveryUnknown, (await updates.FirstAsync(m => m.OutboundId == interrupted.OutboundId)).Status);
        Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }

    [Theory]
    [InlineData(24 * 60 + 1, false)]
    [InlineData(23 * 60 + 59, true)]
    public async Task Free_text_goes_out_only_within_24_hours_of_the_customers_last_message(int lastWroteMinutesAgo, bool goesOut)
    {
        var customer = await ingress.WithDbAsync(db => IngressService.CustomerWroteAsync(db, Number, DateTimeOffset.UtcNow.AddMinutes(-lastWroteMinutesAgo)));
        await using var failed = await ingress.WatchAsync<OutboundMessageFailed>();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var command = Send(customer, "¿Le confirmo la cita de mañana?");

        await ingress.Bus.Publish(command);

        if (goesOut)
        {
            await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
            Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}" && m.Body == command.Body);
            return;
        }

        var failure = await failed.FirstAsync(m => m.OutboundId == command.OutboundId);
        Assert.Equal("63016", failure.ErrorCode);
        Assert.Contains("more than 24 hours ago", failure.Reason);
        var message = await ingress.WithDbAsync(db => db.OutboundMessages.AsNoTracking().SingleAsync(m => m.OutboundId == command.OutboundId));
        Assert.Equal((OutboundState.Failed, "63016", failure.Reason), (message.State, message.ErrorCode, message.FailureReason));
        Assert.DoesNotContain(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(25, true)]
    public async Task A_reply_with_text_and_a_template_sends_the_text_inside_the_window_and_the_template_outside_it(int lastWroteHoursAgo, bool template)
    {
        var customer = await ingress.WithDbAsync(db => IngressService.CustomerWroteAsync(db, Number, DateTimeOffset.UtcNow.AddHours(-lastWroteHoursAgo)));
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var command = Send(customer, "Hola María, ¿confirmamos su cita del martes a las 10:00?")
            with { ContentSid = Template, ContentVariables = "{\"1\":\"María\",\"2\":\"martes 10:00\"}" };

        await ingress.Bus.Publish(command);

        var atTwilio = ingress.Twilio.FindMessage((await sent.FirstAsync(m => m.OutboundId == command.OutboundId)).TwilioSid)!;
        var message = await ingress.WithDbAsync(db => db.OutboundMessages.AsNoTracking().SingleAsync(m => m.OutboundId == command.OutboundId));
        if (template)
        {
            Assert.Equal((null, Template, command.ContentVariables), (atTwilio.Body, atTwilio.ContentSid, atTwilio.ContentVariables));
            Assert.Contains("more than 24 hours ago", message.TemplateReason);
            Assert.Contains("free text was not sent", message.TemplateReason);
        }
        else
        {
            Assert.Equal((command.Body, null, null), (atTwilio.Body, atTwilio.ContentSid, atTwilio.ContentVariables));
            Assert.Null(message.TemplateReason);
        }
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

        var template = Send(stranger, null) with { ContentSid = Template, ContentVariables = "{\"1\":\"María\"}" };
        await ingress.Bus.Publish(template);
        await sent.FirstAsync(m => m.OutboundId == template.OutboundId);
        var atTwilio = Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{stranger}");
        Assert.Equal((Template, "{\"1\":\"María\"}", null), (atTwilio.ContentSid, atTwilio.ContentVariables, atTwilio.Body));
    }

    [Theory]
    [InlineData(TwilioFaultMode.Status429, 5)]
    [InlineData(TwilioFaultMode.Status500, 3)]
    [InlineData(TwilioFaultMode.Status503, 3)]
    public async Task A_storm_of_429s_or_5xxs_is_waited_out_with_doubling_backoff_and_the_message_reaches_the_customer_once(TwilioFaultMode fault, int refusals)
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        ingress.Twilio.SetFault(new TwilioFault(fault, Count: refusals));
        try
        {
            var command = Send(customer, "Gracias por escribirnos");
            await ingress.Bus.Publish(command);
            await sent.FirstAsync(m => m.OutboundId == command.OutboundId, TimeSpan.FromSeconds(30));

            var part = await ingress.WithDbAsync(db => db.OutboundParts.SingleAsync(p => p.OutboundId == command.OutboundId));
            Assert.Equal(refusals + 1, part.Attempts);          // the refusals, then the send
            // Each wait was a timer kept as data, not a sleep in memory: the first Twilio:RetryBaseDelay (100 ms here),
            // each next one twice the one before.
            var timers = await ingress.WithDbAsync(db => IngressService.TimersOfAsync(db, command.OutboundId));
            Assert.Equal(refusals, timers.Count);
            var waits = timers.Select(t => (t.NextAttemptAt - t.CreatedAt).TotalMilliseconds).ToList();
            Assert.InRange(waits[0], 50, 101);
            Assert.All(waits.Zip(waits.Skip(1)), pair => Assert.InRange(pair.Second / pair.First, 1.8, 2.2));
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }

        Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }

    [Fact]
    public async Task A_message_that_got_through_after_a_429_reports_its_delivery_without_the_429s_error_code()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var command = Send(customer, "Le esperamos el martes.");
        ingress.Twilio.SetFault(new TwilioFault(TwilioFaultMode.Status429, Count: 1));
        string sid;
        try
        {
            await ingress.Bus.Publish(command);
            sid = (await sent.FirstAsync(m => m.OutboundId == command.OutboundId)).TwilioSid;
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }

        (await PostStatusAsync(sid, customer, "delivered")).EnsureSuccessStatusCode();

        var update = await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == "delivered");
        Assert.Null(update.ErrorCode);
        var part = await ingress.WithDbAsync(db => db.OutboundParts.AsNoTracking().SingleAsync(p => p.OutboundId == command.OutboundId));
        Assert.Equal((2, null), (part.Attempts, part.ErrorCode));
    }

    [Fact]
    public async Task A_permanent_Twilio_error_fails_the_message_with_Twilios_code_and_is_not_retried()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var failed = await ingress.WatchAsync<OutboundMessageFailed>();
        ingress.Twilio.SetFault(new TwilioFault(TwilioFaultMode.Error63016, Count: 1));
        try
        {
            var command = Send(customer, "Hola otra vez");
            await ingress.Bus.Publish(command);
            Assert.Equal("63016", (await failed.FirstAsync(m => m.OutboundId == command.OutboundId)).ErrorCode);
            var part = await ingress.WithDbAsync(db => db.OutboundParts.SingleAsync(p => p.OutboundId == command.OutboundId));
            Assert.Equal((PartState.Failed, 1), (part.State, part.Attempts));
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }
    }

    [Fact]
    public async Task Sends_from_one_number_are_paced_whatever_how_many_arrive_at_once()
    {
        var pacedNumber = "+5760" + Random.Shared.Next(10_000_000, 99_999_999);
        var customers = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            customers.Add(await CustomerWhoWroteAsync(pacedNumber));
        }

        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var commands = customers.Select(c => Send(c, "Aviso: mañana no abrimos.") with { From = pacedNumber }).ToList();
        await Task.WhenAll(commands.Select(c => ingress.Bus.Publish(c)));
        foreach (var command in commands)
        {
            await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
        }

        var times = ingress.Twilio.SentMessages.Where(m => m.From == $"whatsapp:{pacedNumber}").Select(m => m.CreatedAt).Order().ToList();
        Assert.Equal(8, times.Count);
        var interval = TimeSpan.FromSeconds(1.0 / IngressService.PerNumberPerSecond);
        // The slots are the pace. A send that reaches Twilio late (its process busy) may arrive just before the next one,
        // on time; but no run of sends ever comes faster than the slots allow: n+1 sends span at least n-1 intervals.
        Assert.True(times[^1] - times[0] >= interval * (times.Count - 1) * 0.9, $"8 sends in {(times[^1] - times[0]).TotalMilliseconds:0} ms");
        for (var first = 0; first < times.Count; first++)
        {
            for (var last = first + 2; last < times.Count; last++)
            {
                Assert.True(times[last] - times[first] >= interval * (last - first - 1) * 0.9,
                    $"sends {first + 1} to {last + 1} of one number within {(times[last] - times[first]).TotalMilliseconds:0} ms: " +
                    string.Join(", ", times.Select(t => $"{(t - times[0]).TotalMilliseconds:0}")));
            }
        }
    }

    [Fact]
    public async Task Sends_from_a_number_paced_at_one_a_second_go_out_a_second_apart()
    {
        var sends = await SendAtOnceFromTheSlowNumberAsync(3);

        var times = sends.Select(s => s.AtTwilio.CreatedAt).Order().ToList();
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        Assert.All(gaps, gap => Assert.True(gap >= TimeSpan.FromSeconds(0.9), $"{gap.TotalMilliseconds:0} ms between two sends of a number paced at 1/s"));
    }

    [Fact]
    public async Task A_send_is_marked_as_in_the_Twilio_call_only_once_its_pacing_slot_has_come_not_while_it_waits_for_it()
    {
        // Three at once from a number paced at one a second: the second and third wait a second and two for their slots.
        var sends = await SendAtOnceFromTheSlowNumberAsync(3);

        foreach (var (command, atTwilio) in sends)
        {
            var part = await ingress.WithDbAsync(db => db.OutboundParts.AsNoTracking().SingleAsync(p => p.OutboundId == command.OutboundId));
            // Marked right before the call (a crash in the wait would otherwise leave it "in the call", to be marked
            // delivery unknown although Twilio was never called).
            var claimedBeforeTwilioGotIt = atTwilio.CreatedAt - part.AttemptStartedAt!.Value;
            Assert.True(claimedBeforeTwilioGotIt < TimeSpan.FromMilliseconds(500), $"claimed {claimedBeforeTwilioGotIt.TotalMilliseconds:0} ms before Twilio got it");
        }
    }

    [Theory]
    [InlineData("failed")]
    [InlineData("undelivered")]
    public async Task A_failed_or_undelivered_callback_after_delivered_records_Twilios_error_code_and_a_later_delivered_changes_nothing(string failure)
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var command = Send(customer, "Su pedido está listo.");
        await ingress.Bus.Publish(command);
        var sid = (await sent.FirstAsync(m => m.OutboundId == command.OutboundId)).TwilioSid;

        (await PostStatusAsync(sid, customer, "delivered")).EnsureSuccessStatusCode();
        (await PostStatusAsync(sid, customer, failure, errorCode: "30008")).EnsureSuccessStatusCode();
        var update = await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == failure);
        Assert.Equal("30008", update.ErrorCode);
        (await PostStatusAsync(sid, customer, "delivered")).EnsureSuccessStatusCode();

        var message = await ingress.WithDbAsync(db => db.OutboundMessages.AsNoTracking().Include(m => m.Parts).SingleAsync(m => m.OutboundId == command.OutboundId));
        Assert.Equal((failure, "30008"), (message.Parts[0].TwilioStatus, message.Parts[0].ErrorCode));
        Assert.Equal((failure, "30008"), (message.ReportedStatus, message.ErrorCode));
        var published = await ingress.PublishedAsync<MessageDeliveryUpdated>(m => m.OutboundId == command.OutboundId);
        Assert.Equal(["delivered", failure], published.Select(m => m.Status));
    }

    [Fact]
    public async Task A_status_callback_that_comes_before_Twilios_answer_is_kept_and_applied_once_the_send_records_its_sid()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var command = Send(customer, "Su cita quedó confirmada.");
        // Twilio takes the message and calls back "delivered" while its answer, with the SID, is still on the way.
        ingress.Twilio.SetFault(new TwilioFault(TwilioFaultMode.DelayAfterAccept, Count: 1, DelayMs: 3000));
        SentMessage atTwilio;
        try
        {
            await ingress.Bus.Publish(command);
            atTwilio = await ingress.Twilio.WaitForMessageAsync(m => m.To == $"whatsapp:{customer}", TimeSpan.FromSeconds(30));
            using var early = await PostStatusAsync(atTwilio.Sid, customer, "delivered");
            Assert.Equal(HttpStatusCode.NoContent, early.StatusCode);

            var announced = await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
            Assert.Equal((atTwilio.Sid, "delivered"), (announced.TwilioSid, announced.Status));
        }
        finally
        {
            ingress.Twilio.ClearFault();
        }

        var part = await ingress.WithDbAsync(db => db.OutboundParts.AsNoTracking().SingleAsync(p => p.OutboundId == command.OutboundId));
        Assert.Equal("delivered", part.TwilioStatus);
        Assert.False(await ingress.WithDbAsync(db => db.EarlyStatusCallbacks.AnyAsync(c => c.TwilioSid == atTwilio.Sid)));
        // Later callbacks go on from there.
        (await PostStatusAsync(atTwilio.Sid, customer, "read")).EnsureSuccessStatusCode();
        await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == "read");
    }

    [Fact]
    public async Task A_status_callback_for_a_sid_never_recorded_is_kept_a_day_at_most()
    {
        var forgotten = "SM" + Guid.NewGuid().ToString("N");
        await ingress.WithDbAsync(db =>
        {
            db.EarlyStatusCallbacks.Add(new EarlyStatusCallback { TwilioSid = forgotten, Status = "delivered", ReceivedAt = DateTimeOffset.UtcNow.AddHours(-25) });
            return db.SaveChangesAsync();
        });
        var unknown = "SM" + Guid.NewGuid().ToString("N");

        (await PostStatusAsync(unknown, "+573100000000", "sent")).EnsureSuccessStatusCode();

        var kept = await ingress.WithDbAsync(db => db.EarlyStatusCallbacks.AsNoTracking()
            .Where(c => c.TwilioSid == forgotten || c.TwilioSid == unknown).Select(c => c.TwilioSid).ToListAsync());
        Assert.Equal([unknown], kept);
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
            using var response = await PostStatusAsync(sid, customer, status);
            Assert.True(response.IsSuccessStatusCode);
        }

        var part = await ingress.WithDbAsync(db => db.OutboundParts.SingleAsync(p => p.TwilioSid == sid));
        Assert.Equal("read", part.TwilioStatus);
        await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == "read");
        Assert.DoesNotContain(updates.Where(m => m.OutboundId == command.OutboundId), m => m.Status is "sent" or "delivered");
    }

    [Fact]
    public async Task A_split_reply_counts_as_read_only_once_every_part_was_read()
    {
        var customer = await CustomerWhoWroteAsync();
        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        await using var updates = await ingress.WatchAsync<MessageDeliveryUpdated>();
        var command = Send(customer, string.Join(" ", Enumerable.Repeat("Una frase de la explicación larga del tratamiento.", 60)));
        await ingress.Bus.Publish(command);
        await sent.FirstAsync(m => m.OutboundId == command.OutboundId);
        var sids = await ingress.WithDbAsync(db => db.OutboundParts.Where(p => p.OutboundId == command.OutboundId).OrderBy(p => p.Index).Select(p => p.TwilioSid!).ToListAsync());
        Assert.Equal(2, sids.Count);

        (await PostStatusAsync(sids[0], customer, "read")).EnsureSuccessStatusCode();
        (await PostStatusAsync(sids[1], customer, "delivered")).EnsureSuccessStatusCode();
        await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == "delivered");
        Assert.DoesNotContain(updates.Where(m => m.OutboundId == command.OutboundId), m => m.Status == "read");

        (await PostStatusAsync(sids[1], customer, "read")).EnsureSuccessStatusCode();
        await updates.FirstAsync(m => m.OutboundId == command.OutboundId && m.Status == "read");
    }

    [Fact]
    public async Task An_unsigned_status_callback_is_403_and_changes_nothing()
    {
        using var response = await ingress.PostWebhookAsync("/webhooks/twilio/status",
            new Dictionary<string, string> { ["MessageSid"] = "SM1", ["MessageStatus"] = "read", ["AccountSid"] = IngressService.AccountSid }, authToken: null);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private Task<HttpResponseMessage> PostStatusAsync(string sid, string customer, string status, string? errorCode = null)
    {
        var form = new Dictionary<string, string>
        {
            ["MessageSid"] = sid, ["MessageStatus"] = status, ["AccountSid"] = IngressService.AccountSid,
            ["From"] = $"whatsapp:{Number}", ["To"] = $"whatsapp:{customer}", ["ApiVersion"] = "2010-04-01",
        };
        if (errorCode is not null)
        {
            form["ErrorCode"] = errorCode;
        }

        return ingress.PostWebhookAsync("/webhooks/twilio/status", form);
    }

    /// <summary>
    /// Sends <paramref name="count"/> messages at once from <see cref="IngressService.SlowNumber"/> (one send a second),
    /// each to a customer of its own, starting with the number's pace free; returns each with what Twilio got. One
    /// message goes first, so the process's first call to Twilio (connection, code compiled on first use) is not
    /// among those measured.
    /// </summary>
    private async Task<List<(SendWhatsAppMessage Command, SentMessage AtTwilio)>> SendAtOnceFromTheSlowNumberAsync(int count)
    {
        var customers = new List<string>();
        for (var i = 0; i <= count; i++)
        {
            customers.Add(await CustomerWhoWroteAsync(IngressService.SlowNumber));
        }

        await using var sent = await ingress.WatchAsync<OutboundMessageSent>();
        var first = Send(customers[0], "Hola") with { From = IngressService.SlowNumber };
        await ingress.Bus.Publish(first);
        await sent.FirstAsync(m => m.OutboundId == first.OutboundId, TimeSpan.FromSeconds(30));
        customers.RemoveAt(0);

        await ingress.WaitUntilPaceIsFreeAsync(IngressService.SlowNumber);
        var commands = customers.Select(c => Send(c, "Aviso: mañana abrimos a las 10:00.") with { From = IngressService.SlowNumber }).ToList();
        await Task.WhenAll(commands.Select(c => ingress.Bus.Publish(c)));
        var sends = new List<(SendWhatsAppMessage, SentMessage)>();
        foreach (var command in commands)
        {
            var sid = (await sent.FirstAsync(m => m.OutboundId == command.OutboundId, TimeSpan.FromSeconds(30))).TwilioSid;
            sends.Add((command, ingress.Twilio.FindMessage(sid)!));
        }

        return sends;
    }

    /// <summary>Sends through the stand-in's Messages API directly, as Ingress's interrupted call would have, or as someone else.</summary>
    private async Task<string> SendDirectlyAsync(string customer, string? body, string? contentSid = null, string? contentVariables = null)
    {
        var client = new Twilio.Clients.TwilioRestClient(IngressService.AccountSid, IngressService.AuthToken,
            httpClient: new Twilio.Http.SystemNetHttpClient(new HttpClient(new RebaseHandler(ingress.TwilioUrl) { InnerHandler = new HttpClientHandler() })));
        var message = await Twilio.Rest.Api.V2010.Account.MessageResource.CreateAsync(
            new Twilio.Rest.Api.V2010.Account.CreateMessageOptions(new Twilio.Types.PhoneNumber("whatsapp:" + customer))
            {
                From = new Twilio.Types.PhoneNumber("whatsapp:" + Number),
                Body = body,
                ContentSid = contentSid,
                ContentVariables = contentVariables,
            }, client);
        return message.Sid;
    }

    /// <summary>A customer who wrote to the number a moment ago: the 24-hour window is open.</summary>
    private async Task<string> CustomerWhoWroteAsync(string to = Number)
    {
        var customer = "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
        var form = TwilioSigner.InboundForm(IngressService.AccountSid, customer, to, "Hola");
        (await ingress.PostWebhookAsync("/webhooks/twilio/whatsapp", form)).EnsureSuccessStatusCode();
        return customer;
    }

    private static SendWhatsAppMessage Send(string customer, string? body) => new(
        "msg_" + Guid.NewGuid().ToString("N")[..12], "tnt_test", "conv_test", IngressService.AccountSid, Number, customer, body,
        MessageAuthor.AiAgent, DateTimeOffset.UtcNow);

    private sealed class RebaseHandler(string baseUrl) : DelegatingHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var target = new Uri(baseUrl);
            request.RequestUri = new UriBuilder(request.RequestUri!) { Scheme = target.Scheme, Host = target.Host, Port = target.Port }.Uri;
            return base.SendAsync(request, cancellationToken);
        }
    }
}
