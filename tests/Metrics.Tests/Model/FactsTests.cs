using SafeNotify.Crm.Metrics.Model;

namespace SafeNotify.Crm.Metrics.Tests.Model;

/// <summary>
/// Conversations and leads as Metrics merges them from events, on the model alone: any order, any number of copies,
/// the same result.
/// </summary>
public sealed class FactsTests
{
    private static readonly DateTimeOffset Monday = new(2026, 12, 7, 14, 0, 0, TimeSpan.Zero);

    public static TheoryData<int[]> Orders => new([0, 1, 2, 3], [3, 2, 1, 0], [2, 0, 3, 1], [1, 1, 3, 0, 2, 2]);

    [Theory]
    [MemberData(nameof(Orders))]
    public void A_conversations_events_give_the_same_facts_in_any_order_and_any_number_of_times(int[] order)
    {
        Action<ConversationFacts>[] events =
        [
            c => c.Opened("num_1", "agt_1", Monday),
            c => c.HandedOff(Monday.AddMinutes(5)),
            c => c.OutcomeRecorded("booked", 5, 150_000m, Monday.AddMinutes(20)),
            c => c.Closed(Monday.AddHours(1)),
        ];
        var conversation = ConversationFacts.Unknown("tnt_a", "conv_1");

        foreach (var i in order)
        {
            events[i](conversation);
        }

        Assert.Equal(("num_1", "agt_1", Monday, Monday.AddMinutes(5), Monday.AddHours(1)),
            (conversation.NumberId, conversation.AgentId, conversation.OpenedAt, conversation.HandedOffAt, conversation.ClosedAt));
        Assert.Equal(("booked", 5, 150_000m), (conversation.Outcome, conversation.SatisfactionRating, conversation.ConversionValue));
    }

    [Fact]
    public void The_latest_outcome_wins_and_a_rating_or_value_out_of_range_counts_as_none()
    {
        var conversation = ConversationFacts.Unknown("tnt_a", "conv_1");

        conversation.OutcomeRecorded("lost", 9, 0m, Monday.AddMinutes(30));
        conversation.OutcomeRecorded("booked", 4, 80_000m, Monday.AddMinutes(10)); // older: ignored

        Assert.Equal(("lost", (int?)null, (decimal?)null), (conversation.Outcome, conversation.SatisfactionRating, conversation.ConversionValue));
    }

    [Fact]
    public void Only_the_earliest_reply_is_the_first_response()
    {
        var conversation = ConversationFacts.Unknown("tnt_a", "conv_1");

        Assert.True(conversation.Replied(Monday.AddSeconds(40)));
        Assert.False(conversation.Replied(Monday.AddSeconds(90)));
        Assert.True(conversation.Replied(Monday.AddSeconds(12))); // a reply that arrives late but went out earlier
        Assert.Equal(Monday.AddSeconds(12), conversation.FirstResponseAt);
    }

    [Theory]
    [InlineData("QUALIFIED", true, false)]
    [InlineData("converted", true, true)]
    [InlineData("CONTACTED", false, false)]
    public void A_lead_is_qualified_by_reaching_qualified_or_going_straight_to_converted(string status, bool qualified, bool converted)
    {
        var lead = LeadFacts.Unknown("tnt_a", "lead_1");

        lead.StatusChanged(status, Monday);

        Assert.Equal((qualified, converted), (lead.QualifiedAt is not null, lead.ConvertedAt is not null));
    }

    [Fact]
    public void A_lead_takes_the_agent_of_its_first_conversation_and_keeps_the_number_it_was_created_on()
    {
        var lead = LeadFacts.Unknown("tnt_a", "lead_1");

        lead.MergeConversation("conv_b", "num_2", "agt_2", Monday.AddHours(2));
        lead.Created("num_1", Monday);
        lead.MergeConversation("conv_a", "num_3", "agt_1", Monday.AddHours(1));

        Assert.Equal(("num_1", "agt_1", "conv_a"), (lead.NumberId, lead.AgentId, lead.FirstConversationId));
    }
}
