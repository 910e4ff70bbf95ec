using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Model;

namespace SafeNotify.Crm.Lead.Tests.Model;

/// <summary>The lead's rules on the model alone: scoring with evidence, grades, and the status moving forward by itself.</summary>
public sealed class CustomerLeadTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 15, 0, 0, TimeSpan.Zero);
    private static readonly LeadSettings Settings = LeadSettings.Defaults("tnt_a");

    private static CustomerLead NewLead() => CustomerLead.FirstContact("tnt_a", "+573001112233", "+573001112233", "María González", "num_1", Settings, Now);

    [Fact]
    public void A_first_contact_is_a_new_lead_from_whatsapp_announced_once()
    {
        var lead = NewLead();

        Assert.Equal(LeadStatus.New, lead.LeadStatus);
        Assert.Equal("C", lead.LeadGrade);
        Assert.Equal("whatsapp", lead.Source);
        Assert.Equal("maria gonzalez +573001112233", lead.SearchText);
        var created = Assert.IsType<LeadCreated>(Assert.Single(lead.TakeRaised()).Message);
        Assert.Equal("num_1", created.NumberId);
        Assert.Empty(lead.TakeRaised());
    }

    [Fact]
    public void A_signal_counts_once_per_conversation_with_the_customers_own_words()
    {
        var lead = NewLead();
        lead.TakeRaised();

        var first = lead.ScoreMessage("Hola, quiero una CITA para el martes", "conv_1", [], Settings, Now);
        var again = lead.ScoreMessage("otra cita por favor", "conv_1", ["asked_to_book"], Settings, Now);

        var change = Assert.Single(first);
        Assert.Equal("asked_to_book", change.Signal);
        Assert.Equal("+20: asked to book: 'Hola, quiero una CITA para el martes'", change.Reason);
        Assert.Empty(again);
        Assert.Equal(20, lead.QualificationScore);
        Assert.Equal(20, Assert.IsType<LeadScored>(Assert.Single(lead.TakeRaised()).Message).Score);
        Assert.Equal([change], lead.TakeScoreChanges());
    }

    [Fact]
    public void An_email_in_a_message_is_kept_and_scored_and_a_good_grade_qualifies_a_new_lead()
    {
        var lead = NewLead();
        lead.TakeRaised();

        lead.ScoreMessage("Quiero comprar, cuánto cuesta? escríbanme a maria@example.co", "conv_1", [], Settings, Now);

        Assert.Equal("maria@example.co", lead.Email);
        Assert.Equal(25 + 10 + 10, lead.QualificationScore);
        Assert.Equal("B", lead.LeadGrade);
        Assert.Equal(LeadStatus.Qualified, lead.LeadStatus);
        var statusChange = Assert.Single(lead.TakeRaised().Select(r => r.Message).OfType<LeadStatusChanged>());
        Assert.Equal(("NEW", "QUALIFIED"), (statusChange.FromStatus, statusChange.ToStatus));
    }

    [Fact]
    public void A_reply_contacts_a_new_lead_once_and_a_purchase_converts_it()
    {
        var lead = NewLead();
        lead.TakeRaised();

        lead.Contacted(Now);
        lead.Contacted(Now);
        lead.RecordConversion(150_000m, Now);
        lead.RecordConversion(-500_000m, Now);

        Assert.Equal(LeadStatus.Converted, lead.LeadStatus);
        Assert.Equal(0m, lead.TotalSpent);
        Assert.Equal(Now, lead.LastPurchase);
        Assert.Equal([("NEW", "CONTACTED"), ("CONTACTED", "CONVERTED")],
            lead.TakeRaised().Select(r => r.Message).OfType<LeadStatusChanged>().Select(c => (c.FromStatus, c.ToStatus)));
    }

    [Fact]
    public void By_hand_a_lead_moves_anywhere_but_never_back_to_never_contacted()
    {
        var lead = NewLead();
        Assert.True(lead.MayMoveByHandTo(LeadStatus.New));

        lead.MoveByHand(LeadStatus.Lost, Now);
        lead.MoveByHand(LeadStatus.Contacted, Now);

        Assert.Equal(LeadStatus.Contacted, lead.LeadStatus);
        Assert.False(lead.MayMoveByHandTo(LeadStatus.New));
        Assert.Throws<InvalidOperationException>(() => lead.MoveByHand(LeadStatus.New, Now));
    }

    [Fact]
    public void An_edit_changes_only_the_fields_given_and_keeps_search_in_step()
    {
        var lead = NewLead();

        lead.Edit(new LeadDetails(Name: "  Ñandú Pérez ", Tags: ["vip", " vip", "ortodoncia"], ClearNextFollowUp: true), Now);

        Assert.Equal("Ñandú Pérez", lead.Name);
        Assert.Equal("+573001112233", lead.Phone);
        Assert.Equal(["vip", "ortodoncia"], lead.Tags);
        Assert.Equal("nandu perez +573001112233", lead.SearchText);
    }
}
