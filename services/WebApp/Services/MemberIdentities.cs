using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Model;

namespace SafeNotify.Crm.WebApp.Services;

/// <summary>
/// The identity the console hands the services for a signed-in member, signed with the console's own key. It names only
/// what the session says: the member's own business and role, or an operator whose session passed the second factor.
/// Anyone else (an operator signed in with a password alone) gets none, and the services refuse the call.
/// </summary>
public sealed class MemberIdentities(IdentitySigner signer)
{
    public static CallerIdentity? CallerOf(ConsoleUser user) => user switch
    {
        { Role: StaffRole.Operator, PassedSecondFactor: false } => null,
        { Role: StaffRole.Operator } => new CallerIdentity(null, user.Role.ServiceName(), StaffId: user.AccountId, StaffName: user.DisplayName),
        { TenantId: { } tenant } => new CallerIdentity(tenant, user.Role.ServiceName(), StaffId: user.AccountId, StaffName: user.DisplayName),
        _ => null,
    };

    public string? TokenFor(ConsoleUser user) => CallerOf(user) is { } caller ? signer.Create(caller) : null;
}
