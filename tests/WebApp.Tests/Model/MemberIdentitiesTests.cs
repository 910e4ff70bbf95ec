using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Tests.Model;

/// <summary>What the console will sign for a session: the member's own business and role, an operator only after the second factor.</summary>
public sealed class MemberIdentitiesTests
{
    [Fact]
    public void A_member_is_signed_for_their_own_business_and_an_operator_only_after_the_second_factor()
    {
        var advisor = new ConsoleUser("staff_1", "tnt_1", StaffRole.Agent, "Lucía", "lucia@clinica.example", 1);
        Assert.Equal(new CallerIdentity("tnt_1", CallerIdentity.AgentRole, StaffId: "staff_1", StaffName: "Lucía"), MemberIdentities.CallerOf(advisor));

        var operatorByPassword = new ConsoleUser("op_1", null, StaffRole.Operator, "Tomás", "tomas@safenotify.example", 1);
        Assert.Null(MemberIdentities.CallerOf(operatorByPassword));
        Assert.Equal(new CallerIdentity(null, CallerIdentity.OperatorRole, StaffId: "op_1", StaffName: "Tomás"),
            MemberIdentities.CallerOf(operatorByPassword with { PassedSecondFactor = true }));

        Assert.Null(MemberIdentities.CallerOf(advisor with { TenantId = null })); // a member without a business names none
    }
}
