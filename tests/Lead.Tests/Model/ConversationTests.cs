using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Tests.Model;

/// <summary>
/// The conversation's transitions on the model alone: who may answer, which reply may go out, the handoff and its
/// timers. Each test plays the messages a consumer would hand it and reads what the conversation raised.
/// </summary>
public sealed class ConversationTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);

    private readonly FakeStore _store = new();
    private readonly CustomerLead _lead;
    private readonly Conversation _conversation;
    private readonly List<RaisedMessage> _activities = [];
    private DateTimeOffset _now = Start;
    private long _sequence;

    public ConversationTests()
    {
        _lead = CustomerLead.FirstContact("tnt_a", "+573001112233", "+573001112233", "María González", "num_1", _store.Settings, Start);
        _store.Lead = _lead;
        _conversation = Conversation.Open(Inbound("hola"), _lead, _store.Settings, sendsBefore: 7, Start);
        Raised();
    }

    [Fact]
    public async Task A_customer_message_to_the_bot_asks_for_one_reply_with_the_turns_so_far()
    {
        await ReceiveAsync("Hola, ¿tienen cita el martes?");

        var request = Assert.IsType<ReplyRequested>(Assert.Single(Raised()));
        Assert.Equal(("agt_1", 1L, 0L), (request.AgentId, request.UpToSequence, request.OwnershipVersion));
        Assert.Equal(["Hola, ¿tienen cita el martes?"], request.RecentTurns.Select(t => t.Text));
        Assert.Equal(1, _conversation.MessageCount);
        Assert.Equal(1L, _conversation.ReplyInFlightUpTo);
    }

    [Fact]
    public async Task A_reply_to_the_newest_message_goes_out_and_counts_its_response_time()
    {
        await ReceiveAsync("¿Cuánto cuesta una limpieza?");
        Raised();
        _now = Start.AddSeconds(4);

        await _conversation.AcceptReplyAsync(Reply(1, "Cuesta 120.000 COP"), _store, _now, default);

        var send = Assert.IsType<SendWhatsAppMessage>(Assert.Single(Raised()));
        Assert.Equal(("Cuesta 120.000 COP", MessageAuthor.AiAgent, "+573001112233"), (send.Body, send.Author, send.To));
        Assert.Equal((1L, 1, 4), (_conversation.LastRepliedSequence, _conversation.RepliesSent, _conversation.FirstResponseTime));
        Assert.Null(_conversation.ReplyInFlightUpTo);
        Assert.Equal(LeadStatus.Contacted, _lead.LeadStatus);
    }

    [Fact]
    public async Task Messages_to_the_customer_are_numbered_on_from_their_earlier_conversations_on_the_number()
    {
        var numbered = new List<long>();
        await ReceiveAsync("Hola");
        Raised();
        await _conversation.AcceptReplyAsync(Reply(1, "Hola, ¿en qué le ayudo?"), _store, _now, default);
        numbered.AddRange(Raised().OfType<SendWhatsAppMessage>().Select(s => s.QueueSequence));
        await ReceiveAsync("Necesito una cita");
        Raised();
        await _conversation.AcceptReplyAsync(Reply(2, "Claro, ¿qué día?"), _store, _now, default);
        numbered.AddRange(Raised().OfType<SendWhatsAppMessage>().Select(s => s.QueueSequence));

        // The conversation opened after the customer's earlier ones had sent 7 messages from this number.
        Assert.Equal([8L, 9L], numbered);
        Assert.Equal(9L, _conversation.SendSequence);
    }

    [Fact]
    public async Task A_message_written_while_the_reply_was_being_written_makes_it_stale_and_one_reply_covers_both()
    {
        await ReceiveAsync("Hola");
        await ReceiveAsync("quiero una cita");
        var raised = Raised();
        Assert.Single(raised.OfType<ReplyRequested>()); // the second message waits for the reply in flight

        await _conversation.AcceptReplyAsync(Reply(1, "¡Hola! ¿En qué te ayudo?"), _store, _now, default);

        var again = Assert.IsType<ReplyRequested>(Assert.Single(Raised()));
        Assert.Equal(2L, again.UpToSequence);
        Assert.Equal(["Hola", "quiero una cita"], again.RecentTurns.Select(t => t.Text));
        Assert.Equal(0L, _conversation.LastRepliedSequence);
    }

    [Fact]
    public async Task A_customer_asking_for_a_person_in_either_language_gets_one_notice_and_the_bot_stops()
    {
        await ReceiveAsync("¿Me pasas con un ASESÓR, por favor?");

        var raised = Raised();
        var handoff = Assert.Single(raised.OfType<ConversationHandedOff>());
        Assert.Equal((HandoffTriggers.CustomerRequest, 1), (handoff.Trigger, handoff.OwnershipVersion));
        Assert.Equal(SystemTexts.HandoffNotice, Assert.Single(raised.OfType<SendWhatsAppMessage>()).Body);
        Assert.Empty(raised.OfType<ReplyRequested>());
        Assert.Equal((ConversationOwner.Human, ConversationStatus.WaitingHuman), (_conversation.Owner, _conversation.Status));
        var audit = Assert.Single(_conversation.TakeAudits());
        Assert.DoesNotContain("ASESÓR", audit.Detail); // the trail keeps no quote of the customer

        await ReceiveAsync("Can I talk to a human?");
        Assert.Empty(Raised());
        Assert.True(_conversation.RequiresAttention);
    }

    [Fact]
    public async Task A_reply_asked_for_before_a_human_took_over_is_dropped_even_after_the_bot_gets_it_back()
    {
        await ReceiveAsync("Hola");
        Raised();
        await _conversation.TakeOverAsync("ana@clinica.co", null, _store, _now, default);
        await _conversation.ReleaseAsync(HandoffTriggers.EmployeeRelease, "released by an employee", _store, _now, default);
        var afterRelease = Assert.IsType<ReplyRequested>(Raised().OfType<ReplyRequested>().Single());
        Assert.Equal(2L, afterRelease.OwnershipVersion);

        await _conversation.AcceptReplyAsync(Reply(1, "respuesta vieja") with { RequestOwnershipVersion = 0 }, _store, _now, default);
        Assert.Empty(Raised());

        await _conversation.AcceptReplyAsync(Reply(1, "respuesta nueva") with { RequestOwnershipVersion = 2 }, _store, _now, default);
        Assert.Equal("respuesta nueva", Assert.IsType<SendWhatsAppMessage>(Assert.Single(Raised())).Body);
    }

    [Fact]
    public async Task A_failed_reply_sends_the_fallback_once_and_hands_the_conversation_to_a_person()
    {
        await ReceiveAsync("Hola");
        Raised();

        await _conversation.ReplyFailedAsync(new AgentReplyFailed("tnt_a", _conversation.Id, "agt_1", 1, "timeout", _now), _store, _now, default);
        await _conversation.ReplyFailedAsync(new AgentReplyFailed("tnt_a", _conversation.Id, "agt_1", 1, "timeout", _now), _store, _now, default);

        var raised = Raised();
        Assert.Equal(SystemTexts.Fallback, Assert.Single(raised.OfType<SendWhatsAppMessage>()).Body);
        var handoff = Assert.Single(raised.OfType<ConversationHandedOff>());
        Assert.Equal((HandoffTriggers.AgentFailed, "the agent could not answer: timeout"), (handoff.Trigger, handoff.Reason));
    }

    [Fact]
    public async Task A_burst_of_messages_gets_one_reply_when_the_window_ends()
    {
        _store.Settings.BurstWindowSeconds = 5;

        await ReceiveAsync("Hola");
        await ReceiveAsync("una pregunta");
        var timers = TakeRaised();

        var timer = Assert.Single(timers);
        Assert.IsType<BurstWindowElapsed>(timer.Message);
        Assert.Equal(Start.AddSeconds(5), timer.DueAt);

        await _conversation.BurstWindowElapsedAsync(_store, Start.AddSeconds(5), default);
        await _conversation.BurstWindowElapsedAsync(_store, Start.AddSeconds(5), default);
        Assert.Equal(2L, Assert.IsType<ReplyRequested>(Assert.Single(Raised())).UpToSequence);
    }

    [Fact]
    public async Task The_idle_timer_waits_for_the_last_message_then_closes_the_conversation()
    {
        _store.Settings.ConversationIdleSeconds = 600;
        _now = Start.AddSeconds(300);
        await ReceiveAsync("Hola");
        Raised();

        await _conversation.CheckIdleAsync(_store, Start.AddSeconds(600), default);
        var again = Assert.Single(TakeRaised());
        Assert.Equal((typeof(ConversationIdleCheckDue), Start.AddSeconds(900)), (again.Message.GetType(), again.DueAt));
        Assert.True(_conversation.IsOpen);

        await _conversation.CheckIdleAsync(_store, Start.AddSeconds(900), default);
        var closed = Assert.IsType<ConversationClosed>(Assert.Single(Raised()));
        Assert.Equal(("idle", 1), (closed.Reason, closed.MessageCount));
        Assert.False(_conversation.IsOpen);
    }

    [Fact]
    public async Task An_idle_human_gives_the_conversation_back_and_the_bot_answers_what_the_customer_wrote()
    {
        _store.Settings.HumanIdleReleaseSeconds = 60;
        await _conversation.TakeOverAsync("ana@clinica.co", null, _store, _now, default);
        var release = Assert.Single(TakeRaised(), r => r.Message is HumanIdleReleaseDue);
        Assert.Equal(Start.AddSeconds(60), release.DueAt);
        await ReceiveAsync("¿sigue ahí alguien?");
        Assert.Empty(Raised());

        await _conversation.CheckHumanIdleAsync(ownershipVersion: 0, _store, Start.AddSeconds(60), default); // an older takeover's timer
        Assert.Equal(ConversationOwner.Human, _conversation.Owner);

        await _conversation.CheckHumanIdleAsync(ownershipVersion: 1, _store, Start.AddSeconds(60), default);
        var raised = Raised();
        Assert.Equal(HandoffTriggers.HumanIdle, Assert.Single(raised.OfType<ConversationReleased>()).Trigger);
        Assert.Equal(1L, Assert.Single(raised.OfType<ReplyRequested>()).UpToSequence);
        Assert.Equal(ConversationOwner.Bot, _conversation.Owner);
    }

    [Fact]
    public async Task An_employee_reply_takes_the_conversation_and_voids_the_bots_reply_in_flight()
    {
        await ReceiveAsync("Hola");
        Raised();

        var reply = await _conversation.ReplyAsHumanAsync("ana@clinica.co", "Hola María, soy Ana", null, null, _store, _now, default);
        await _conversation.AcceptReplyAsync(Reply(1, "respuesta del bot"), _store, _now, default);

        Assert.True(reply.TookOver);
        var sends = Raised().OfType<SendWhatsAppMessage>().ToList();
        Assert.Equal([("Hola María, soy Ana", MessageAuthor.Human, "ana@clinica.co")], sends.Select(s => (s.Body, s.Author, s.EmployeeId)));
        Assert.Equal(reply.Sent!.Id, sends[0].OutboundId);
        Assert.Equal((ConversationOwner.Human, ConversationStatus.Active, false), (_conversation.Owner, _conversation.Status, _conversation.RequiresAttention));
    }

    [Fact]
    public async Task Free_text_after_the_customer_service_window_closed_changes_nothing_and_a_template_still_goes_out()
    {
        await ReceiveAsync("Hola");
        Raised();
        _now = Start.AddHours(24);

        var refused = await _conversation.ReplyAsHumanAsync("ana@clinica.co", "¿Sigue interesada?", null, null, _store, _now, default);

        Assert.Null(refused.Sent);
        Assert.Equal(Start + CustomerServiceWindow.Length, refused.ClosedWindow?.ClosesAt);
        Assert.Empty(Raised());
        Assert.Equal(ConversationOwner.Bot, _conversation.Owner);

        var template = await _conversation.ReplyAsHumanAsync("ana@clinica.co", null, "HX0123456789abcdef0123456789abcdef", "{\"1\":\"María\"}", _store, _now, default);

        Assert.Null(template.ClosedWindow);
        Assert.Equal("HX0123456789abcdef0123456789abcdef", Assert.Single(Raised().OfType<SendWhatsAppMessage>()).ContentSid);
    }

    [Theory]
    [InlineData("Tengo una EMERGENCIA", ConversationPriority.Urgent)]
    [InlineData("it is urgent, asap", ConversationPriority.High)]
    [InlineData("me duele un poco, dolor leve", ConversationPriority.High)]
    [InlineData("hola", ConversationPriority.Normal)]
    public async Task The_customers_words_raise_the_priority_and_never_lower_it(string text, ConversationPriority expected)
    {
        await ReceiveAsync(text);
        await ReceiveAsync("gracias");

        Assert.Equal(expected, _conversation.Priority);
    }

    [Fact]
    public async Task The_out_of_hours_text_goes_once_per_closed_period()
    {
        var closed = new ReceiveOptions(ReplyPolicy.OutOfHoursText, InsideBusinessHours: false, OutOfHoursText: "Abrimos a las 8 am");

        await ReceiveAsync("hola?", closed);
        await ReceiveAsync("hay alguien?", closed);
        await ReceiveAsync("ya abrieron?", new ReceiveOptions(ReplyPolicy.None, InsideBusinessHours: true));
        await ReceiveAsync("hola otra vez", closed);

        Assert.Equal(["Abrimos a las 8 am", "Abrimos a las 8 am"], Raised().OfType<SendWhatsAppMessage>().Select(s => s.Body));
    }

    [Fact]
    public async Task A_conversion_adds_only_its_change_to_the_leads_purchases()
    {
        await _conversation.RecordOutcomeAsync("booked", 5, 150_000m, _store, _now, default);
        await _conversation.RecordOutcomeAsync(null, null, 200_000m, _store, _now, default);
        await _conversation.RecordOutcomeAsync("booked", 5, 200_000m, _store, _now, default);

        Assert.Equal(200_000m, _lead.TotalSpent);
        Assert.Equal(LeadStatus.Converted, _lead.LeadStatus);
        Assert.Equal([150_000m, 50_000m], Raised().OfType<ConversationOutcomeRecorded>().Select(o => o.ConversionDelta));
    }

    private sealed record ReceiveOptions(ReplyPolicy Reply = ReplyPolicy.Agent, bool InsideBusinessHours = true, string? OutOfHoursText = null);

    private async Task ReceiveAsync(string text, ReceiveOptions? options = null)
    {
        var message = Inbound(text, options ?? new ReceiveOptions(), ++_sequence);
        await _conversation.ReceiveAsync(message, _lead, _store.Settings, _store, _now, default);
    }

    private InboundMessageRouted Inbound(string text, ReceiveOptions? options = null, long sequence = 0)
    {
        options ??= new ReceiveOptions();
        return new InboundMessageRouted("tnt_a", "num_1", "+5716000000", "AC1", $"in_{sequence}", $"SM{sequence}", "+573001112233", "+573001112233",
            "María González", text, [], sequence, _now, options.Reply, "agt_1", "the number's default agent", false, options.InsideBusinessHours)
        {
            OutOfHoursText = options.OutOfHoursText,
        };
    }

    [Fact]
    public async Task Staff_see_each_message_each_change_of_owner_and_the_close_as_one_activity_each()
    {
        await ReceiveAsync("Hola, ¿tienen cita el martes?");
        await _conversation.AcceptReplyAsync(Reply(1, "Sí, a las 3 pm"), _store, _now, default);
        Raised();
        await _conversation.TakeOverAsync("ana@clinica.co", null, _store, _now, default);
        await _conversation.ReplyAsHumanAsync("ana@clinica.co", "Le confirmo la cita", null, null, _store, _now, default);
        await _conversation.ReleaseAsync(HandoffTriggers.EmployeeRelease, "released by an employee", _store, _now, default);
        _conversation.Close(ConversationStatus.Resolved, "resolved", _now);
        Raised();

        var activities = TakeActivities();
        Assert.Equal(
        [
            (ConversationChange.MessageAppended, (MessageAuthor?)MessageAuthor.Customer, (string?)null),
            (ConversationChange.MessageAppended, MessageAuthor.AiAgent, null),
            (ConversationChange.OwnerChanged, null, "ana@clinica.co"),
            (ConversationChange.MessageAppended, MessageAuthor.Human, "ana@clinica.co"),
            (ConversationChange.OwnerChanged, null, null),
            (ConversationChange.StatusChanged, null, null),
        ], activities.Select(a => (a.Change, a.Author, a.AssignedToUser)));
        Assert.Equal(_store.Saved.Select(m => m.Id), activities.Where(a => a.MessageId is not null).Select(a => a.MessageId));
        Assert.All(activities, a => Assert.Equal(("tnt_a", _conversation.Id, "num_1"), (a.TenantId, a.ConversationId, a.NumberId)));
    }

    [Fact]
    public async Task Staff_see_a_delivery_tick_only_when_the_status_moves_forward()
    {
        await ReceiveAsync("Hola");
        await _conversation.AcceptReplyAsync(Reply(1, "¡Hola! ¿En qué le ayudo?"), _store, _now, default);
        Raised();
        var reply = _store.Saved.Single(m => m.Author == MessageAuthor.AiAgent);

        reply.RecordDelivery("SM1", "sent", null, _now);
        reply.RecordDelivery(null, "delivered", null, _now);
        reply.RecordDelivery("SM1", "sent", null, _now); // a late callback
        reply.RecordDelivery(null, "delivered", null, _now); // a repeated one
        reply.RecordDelivery(null, "read", null, _now);

        var ticks = reply.TakeRaised();
        Assert.Equal(["sent", "delivered", "read"], ticks.Select(t => ((ConversationActivity)t.Message).DeliveryStatus));
        Assert.All(ticks, t => Assert.Equal(
            (ConversationChange.DeliveryStatusChanged, reply.Id, OrderingKeys.ConversationActivity("tnt_a", _conversation.Id)),
            (((ConversationActivity)t.Message).Change, ((ConversationActivity)t.Message).MessageId, t.OrderingKey)));
    }

    private AgentReplyGenerated Reply(long basedOn, string text) =>
        new("tnt_a", _conversation.Id, "agt_1", basedOn, text, 1, "gpt-4o-mini", 10, 5, 0m, 800, false, _now);

    /// <summary>What the conversation and the lead raised since the last look (timers included); the appended messages count as saved.</summary>
    private List<object> Raised()
    {
        _store.Saved.AddRange(_conversation.TakeAppended());
        _lead.TakeRaised();
        return TakeRaised().Select(r => r.Message).ToList();
    }

    /// <summary>What the conversation raised since the last look, with due times; the activity staff see is kept apart in <see cref="_activities"/>.</summary>
    private List<RaisedMessage> TakeRaised()
    {
        var raised = _conversation.TakeRaised();
        _activities.AddRange(raised.Where(r => r.Message is ConversationActivity));
        return raised.Where(r => r.Message is not ConversationActivity).ToList();
    }

    private List<ConversationActivity> TakeActivities()
    {
        var activities = _activities.Select(r => (ConversationActivity)r.Message).ToList();
        Assert.All(_activities, r => Assert.Equal(OrderingKeys.ConversationActivity("tnt_a", _conversation.Id), r.OrderingKey));
        _activities.Clear();
        return activities;
    }

    private sealed class FakeStore : IConversationStore
    {
        public LeadSettings Settings { get; } = LeadSettings.Defaults("tnt_a");
        public CustomerLead? Lead { get; set; }
        public List<ConversationMessage> Saved { get; } = [];

        public Task<IReadOnlyList<ConversationTurn>> RecentTurnsAsync(string tenantId, string conversationId, int count, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyList<ConversationTurn>>(Saved.Where(m => m.Body is not null).TakeLast(count)
                .Select(m => new ConversationTurn(m.Author, m.Body!, m.CreatedAt)).ToList());

        public Task<IReadOnlyCollection<string>> SignalsScoredAsync(string leadId, string conversationId, CancellationToken cancellationToken) =>
            Task.FromResult<IReadOnlyCollection<string>>([]);

        public Task<DateTimeOffset?> LastCustomerMessageAtAsync(string tenantId, string numberId, string customerId, CancellationToken cancellationToken) =>
            Task.FromResult(Saved.Where(m => m.Author == MessageAuthor.Customer).Max(m => (DateTimeOffset?)m.CreatedAt));

        public Task<CustomerLead> LeadAsync(string tenantId, string leadId, CancellationToken cancellationToken) => Task.FromResult(Lead!);

        public Task<LeadSettings> SettingsForAsync(string tenantId, CancellationToken cancellationToken) => Task.FromResult(Settings);
    }
}
