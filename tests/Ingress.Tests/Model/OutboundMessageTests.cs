using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Model;

namespace SafeNotify.Crm.Ingress.Tests.Model;

/// <summary>
/// An outbound message's transitions on the model alone: what the 24-hour window lets out, the parts' claims and
/// retries, the end of the message and the statuses Lead hears, forward only.
/// </summary>
public sealed class OutboundMessageTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);
    private static readonly CustomerServiceWindow Open = new(Now.AddHours(-1));
    private static readonly RetryPolicy Policy = new(MaxAttempts: 3, BaseDelay: TimeSpan.FromSeconds(1), MaxDelay: TimeSpan.FromSeconds(3));

    private static SendWhatsAppMessage Command(string? body = "Su cita es el martes a las 3 pm.", string? contentSid = null) =>
        new("out_1", "tnt_a", "conv_1", "AC1", "+5716000000", "+573001112233", body, MessageAuthor.AiAgent, Now) { ContentSid = contentSid };

    [Fact]
    public void Free_text_inside_the_window_goes_as_text_cut_into_parts_Twilio_accepts()
    {
        var text = string.Join(" ", Enumerable.Repeat("Gracias por escribirnos, la clínica abre de lunes a sábado.", 40));

        var message = OutboundMessage.Record(Command(text), Now, Open, Now);

        Assert.Equal((OutboundState.Pending, false, DeliveryStatuses.Sending), (message.State, message.SendsTemplate, message.ReportedStatus));
        Assert.True(message.Parts.Count > 1);
        Assert.All(message.Parts, p => Assert.InRange(p.Body!.Length, 1, MessageSplitter.TwilioMaxBody));
        Assert.Empty(message.TakeRaised());
    }

    [Fact]
    public void Outside_the_window_the_template_goes_instead_of_the_text_and_says_why()
    {
        var closed = new CustomerServiceWindow(Now.AddHours(-30));

        var message = OutboundMessage.Record(Command(contentSid: "HX" + new string('a', 32)), Now, closed, Now);

        var part = Assert.Single(message.Parts);
        Assert.Null(part.Body);
        Assert.True(message.SendsTemplate);
        Assert.Contains("more than 24 hours ago", message.TemplateReason);
    }

    [Fact]
    public void Outside_the_window_without_a_template_the_message_fails_at_once_with_63016()
    {
        var message = OutboundMessage.Record(Command(), Now, new CustomerServiceWindow(null), Now);

        Assert.Equal(OutboundState.Failed, message.State);
        var failed = Assert.IsType<OutboundMessageFailed>(Assert.Single(message.TakeRaised()).Message);
        Assert.Equal("63016", failed.ErrorCode);
        Assert.Contains("never written", failed.Reason);
    }

    [Fact]
    public void A_sent_message_is_announced_once_with_the_status_its_parts_reached_so_far()
    {
        var message = Started();
        var part = message.NextPart!;
        message.Claim(part, Now);
        Assert.Equal((PartState.Sending, 1), (part.State, part.Attempts));

        message.PartSent(part, "SM1", "queued", Now);
        message.StatusReported("SM1", "delivered", null, Now); // a callback ahead of the end: carried by the announcement
        Assert.Empty(message.TakeRaised());
        Assert.Null(message.NextPart);
        message.Complete(Now);

        var sent = Assert.IsType<OutboundMessageSent>(Assert.Single(message.TakeRaised()).Message);
        Assert.Equal(("SM1", "delivered", 1), (sent.TwilioSid, sent.Status, sent.Parts));
    }

    [Fact]
    public void A_failure_Twilio_reported_before_the_end_follows_the_announcement_with_its_error_code()
    {
        var message = Started();
        message.Claim(message.NextPart!, Now);
        message.PartSent(message.NextPart!, "SM1", "queued", Now);
        message.StatusReported("SM1", "undelivered", "63024", Now);

        message.Complete(Now);

        var raised = message.TakeRaised().Select(r => r.Message).ToList();
        Assert.Equal("queued", Assert.IsType<OutboundMessageSent>(raised[0]).Status);
        var update = Assert.IsType<MessageDeliveryUpdated>(raised[1]);
        Assert.Equal(("undelivered", "63024"), (update.Status, update.ErrorCode));
    }

    [Fact]
    public void Statuses_only_move_forward_and_a_message_of_two_parts_is_as_far_as_its_slower_part()
    {
        var text = string.Join(" ", Enumerable.Repeat("Recuerde traer su documento de identidad.", 60));
        var message = OutboundMessage.Record(Command(text), Now, Open, Now);
        message.Start(Now);
        foreach (var (part, sid) in message.Parts.Zip(["SM1", "SM2"]))
        {
            message.Claim(part, Now);
            message.PartSent(part, sid, "queued", Now);
        }

        message.Complete(Now);
        message.TakeRaised();

        message.StatusReported("SM1", "read", null, Now);
        message.StatusReported("SM2", "delivered", null, Now);
        message.StatusReported("SM2", "sent", null, Now); // late and behind: ignored
        message.StatusReported("SM2", "read", null, Now);

        Assert.Equal(["delivered", "read"], message.TakeRaised().Select(r => ((MessageDeliveryUpdated)r.Message).Status));
    }

    [Fact]
    public void A_refusal_for_a_moment_is_retried_after_a_doubling_wait_then_fails_for_good()
    {
        var message = Started();
        var part = message.NextPart!;
        var waits = new List<TimeSpan?>();
        for (var attempt = 0; attempt < Policy.MaxAttempts; attempt++)
        {
            message.Claim(part, Now);
            waits.Add(message.RetryLater(part, 429, "20429", "Too Many Requests", Policy, Now) - Now);
        }

        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), null], waits);
        Assert.Equal((OutboundState.Failed, PartState.Failed), (message.State, part.State));
        var raised = message.TakeRaised();
        Assert.Equal([Now.AddSeconds(1), Now.AddSeconds(2)], raised.Where(r => r.Message is OutboundSendDue).Select(r => r.DueAt));
        Assert.Contains("after 3 attempts", Assert.Single(raised.Select(r => r.Message).OfType<OutboundMessageFailed>()).Reason);
    }

    [Fact]
    public void A_send_lost_in_the_call_is_never_resent_and_reported_as_delivery_unknown()
    {
        var message = Started();
        var part = message.NextPart!;
        message.Claim(part, Now);

        message.LostInTheCall(part, Now);

        Assert.Equal((OutboundState.DeliveryUnknown, PartState.DeliveryUnknown, false), (message.State, part.State, part.MayBeClaimed));
        Assert.Equal(DeliveryStatuses.DeliveryUnknown, Assert.IsType<MessageDeliveryUpdated>(Assert.Single(message.TakeRaised()).Message).Status);
    }

    [Fact]
    public void A_message_waits_for_its_predecessor_in_leads_numbering_until_it_is_recorded_or_long_enough()
    {
        var stalledAfter = TimeSpan.FromMinutes(2);
        var second = OutboundMessage.Record(Command() with { QueueSequence = 2 }, Now, Open, Now);
        var first = OutboundMessage.Record(Command() with { QueueSequence = 1 }, Now, Open, Now);

        Assert.Equal(Now + stalledAfter, second.AwaitsPredecessorUntil(predecessorRecorded: false, stalledAfter, Now.AddSeconds(1)));
        Assert.Null(second.AwaitsPredecessorUntil(predecessorRecorded: true, stalledAfter, Now.AddSeconds(1)));
        Assert.Null(second.AwaitsPredecessorUntil(predecessorRecorded: false, stalledAfter, Now + stalledAfter)); // it never came: go
        Assert.Null(first.AwaitsPredecessorUntil(predecessorRecorded: false, stalledAfter, Now)); // the first of its queue
    }

    [Fact]
    public void Waiting_behind_a_message_that_never_started_sets_a_watchdog_on_it()
    {
        var message = OutboundMessage.Record(Command(), Now, Open, Now);

        message.WaitFor(new SendQueue.Ahead("out_0", Started: true), TimeSpan.FromMinutes(2), Now);
        Assert.Empty(message.TakeRaised());

        message.WaitFor(new SendQueue.Ahead("out_0", Started: false), TimeSpan.FromMinutes(2), Now);
        var watchdog = Assert.Single(message.TakeRaised());
        Assert.Equal((new OutboundSendDue("out_0"), Now.AddMinutes(2)), ((OutboundSendDue)watchdog.Message, watchdog.DueAt));
    }

    private static OutboundMessage Started()
    {
        var message = OutboundMessage.Record(Command(), Now, Open, Now);
        message.Start(Now);
        return message;
    }
}
