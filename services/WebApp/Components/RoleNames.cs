using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Components;

/// <summary>How the console names a role: an <c>agent</c> is shown as an advisor, so nobody takes a person for an AI agent.</summary>
public static class RoleNames
{
    public static string Of(StaffRole role) => role switch
    {
        StaffRole.Owner => "Owner",
        StaffRole.Admin => "Admin",
        StaffRole.Agent => "Advisor",
        _ => "Operator",
    };
}
