using SafeNotify.Crm.Routing.Model;

namespace SafeNotify.Crm.Routing.Tests.Model;

public sealed class NumberTotalsTests
{
    [Fact]
    public void A_unit_of_works_messages_and_leads_add_up_to_one_addition_per_number_in_key_order()
    {
        var totals = new NumberTotals();
        var clinic = Number("t-1", "num-b");
        var gym = Number("t-1", "num-a");

        totals.MessageReceived(clinic);
        totals.MessageReceived(gym);
        totals.MessageReceived(clinic);
        totals.LeadCreated("t-1", "num-b");

        Assert.Equal(
            [new NumberTotalsAddition("t-1", "num-a", 1, 0), new NumberTotalsAddition("t-1", "num-b", 2, 1)],
            totals.Take());
        Assert.Empty(totals.Take()); // written once: taking them forgets them
    }

    [Fact]
    public void A_rolled_back_unit_of_work_adds_nothing()
    {
        var totals = new NumberTotals();
        totals.MessageReceived(Number("t-1", "num-a"));

        totals.Clear();

        Assert.Empty(totals.Take());
    }

    private static WhatsAppNumber Number(string tenantId, string id) =>
        new() { Id = id, TenantId = tenantId, PhoneNumber = "+573001234567", DisplayName = id };
}
