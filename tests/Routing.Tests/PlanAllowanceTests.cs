using SafeNotify.Crm.Routing.Model;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>Which numbers keep answering after a downgrade: active numbers first, then the primary, then the oldest.</summary>
public sealed class PlanAllowanceTests
{
    private static readonly DateTimeOffset Start = new(2026, 1, 5, 9, 0, 0, TimeSpan.FromHours(-5));

    private static WhatsAppNumber Number(string id, int dayCreated, bool active = true, bool primary = false) => new()
    {
        Id = id, TenantId = "tnt", PhoneNumber = "+5730100000" + dayCreated, DisplayName = id, IsActive = active, IsPrimary = primary,
        CreatedAt = Start.AddDays(dayCreated),
    };

    [Fact]
    public void An_inactive_primary_takes_no_place_so_the_oldest_active_number_keeps_answering()
    {
        WhatsAppNumber[] numbers = [Number("primary-off", 0, active: false, primary: true), Number("older", 1), Number("newer", 2)];

        Assert.Equal(["older"], PlanAllowance.NumbersWithinPlan(numbers, maxWhatsappNumbers: 1));
        Assert.Equal(["newer", "older"], PlanAllowance.NumbersWithinPlan(numbers, maxWhatsappNumbers: 2).Order());

        var tenant = new Tenant { Id = "tnt", SafeNotifyUserId = "u", Name = "Clínica", CrmEnabled = true, CrmPlan = "basic", Timezone = "America/Bogota" };
        tenant.ApplyPlan(Plans.Basic);
        var within = PlanAllowance.NumbersWithinPlan(numbers, tenant.MaxWhatsappNumbers);
        Assert.Equal(
            [NumberRoutingStatus.Inactive, NumberRoutingStatus.Answering, NumberRoutingStatus.OverPlanLimit],
            numbers.Select(n => PlanAllowance.StatusOf(n, tenant, within)));
    }

    [Fact]
    public void Among_active_numbers_the_primary_answers_before_older_ones_and_then_age_decides()
    {
        WhatsAppNumber[] numbers = [Number("oldest", 0), Number("off", 1, active: false), Number("middle", 2), Number("primary", 3, primary: true)];

        Assert.Equal(["primary"], PlanAllowance.NumbersWithinPlan(numbers, 1));
        Assert.Equal(["oldest", "primary"], PlanAllowance.NumbersWithinPlan(numbers, 2).Order());
        Assert.Equal(["middle", "oldest", "primary"], PlanAllowance.NumbersWithinPlan(numbers, 3).Order());
        Assert.Empty(PlanAllowance.NumbersWithinPlan(numbers, 0)); // free: no number answers
    }
}
