using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>What a member of a business may do, from least to most; every service checks it on every route.</summary>
public enum TenantRole
{
    /// <summary>An advisor (a person, never an AI agent): reads and answers conversations, edits leads.</summary>
    Agent = 1,

    /// <summary>Also configures numbers, AI agents and settings, exports and erases leads. An API key acts as one.</summary>
    Admin = 2,

    /// <summary>Also manages the business's staff and API keys.</summary>
    Owner = 3,
}

/// <summary>
/// Who is calling, as a signed, short-lived identity says (<see cref="IdentityTokens"/>): the gateway signs one for a
/// bearer key (an operator, or a business's key acting as <c>admin</c>, naming the key in <see cref="KeyId"/>), the console
/// for a signed-in staff member (naming them in <see cref="StaffId"/> and <see cref="StaffName"/>). A service reads the
/// caller only from that validated token, never from a body, query or path.
/// </summary>
public sealed record CallerIdentity(string? TenantId, string Role, string? KeyId = null, string? StaffId = null, string? StaffName = null)
{
    /// <summary>The header carrying the signed identity token.</summary>
    public const string Header = "X-SafeNotify-Identity";

    public const string OperatorRole = "operator";
    public const string OwnerRole = "owner";
    public const string AdminRole = "admin";
    public const string AgentRole = "agent";

    /// <summary>The gateway itself, for its one internal call (resolving API keys).</summary>
    public const string GatewayRole = "gateway";

    internal const string TenantClaim = "tenant";
    internal const string RoleClaim = "role";
    internal const string KeyIdClaim = "key_id";
    internal const string StaffIdClaim = "staff_id";
    internal const string StaffNameClaim = "staff_name";
    internal const string IssuerClaim = "iss";

    public bool IsOperator => Role == OperatorRole;

    /// <summary>The member's role in <see cref="TenantId"/>'s business; null for operators and the gateway.</summary>
    public TenantRole? TenantRank => TenantId is null ? null : RoleOf(Role);

    /// <summary>A business's caller whose role is <paramref name="minimum"/> or above.</summary>
    public bool MayAct(TenantRole minimum) => TenantRank >= minimum;

    /// <summary>A member of a business with the given role, as the console signs them in.</summary>
    public static CallerIdentity Member(string tenantId, TenantRole role, string staffId, string staffName) =>
        new(tenantId, NameOf(role), StaffId: staffId, StaffName: staffName);

    /// <summary>A business's API key: it acts as <c>admin</c>.</summary>
    public static CallerIdentity ApiKey(string tenantId, string? keyId) => new(tenantId, AdminRole, keyId);

    public static string NameOf(TenantRole role) => role switch
    {
        TenantRole.Owner => OwnerRole,
        TenantRole.Admin => AdminRole,
        _ => AgentRole,
    };

    private static TenantRole? RoleOf(string role) => role switch
    {
        OwnerRole => TenantRole.Owner,
        AdminRole => TenantRole.Admin,
        AgentRole => TenantRole.Agent,
        _ => null,
    };

    /// <summary>The caller whose token the authentication step validated, or null when there is none.</summary>
    public static CallerIdentity? From(HttpContext context) => From(context.User);

    /// <summary>
    /// The caller a validated token names, when its issuer may name it: the gateway signs keys (an operator, a business's
    /// <c>admin</c> key) and itself, never a staff member; the console signs staff members only, a business's roles only
    /// with the business.
    /// </summary>
    public static CallerIdentity? From(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var role = user.FindFirstValue(RoleClaim) ?? "";
        var tenant = user.FindFirstValue(TenantClaim) is { Length: > 0 } t ? t : null;
        var keyId = user.FindFirstValue(KeyIdClaim) is { Length: > 0 } key ? key : null;
        var staffId = user.FindFirstValue(StaffIdClaim) is { Length: > 0 } staff ? staff : null;
        var staffName = user.FindFirstValue(StaffNameClaim) is { Length: > 0 } name ? name : null;
        return user.FindFirstValue(IssuerClaim) switch
        {
            IdentityTokens.GatewayIssuer when staffId is null => role switch
            {
                OperatorRole => new CallerIdentity(tenant, OperatorRole, keyId),
                AdminRole when tenant is not null => new CallerIdentity(tenant, AdminRole, keyId),
                GatewayRole => new CallerIdentity(null, GatewayRole),
                _ => null,
            },
            IdentityTokens.ConsoleIssuer when staffId is not null && keyId is null => role switch
            {
                OperatorRole when tenant is null => new CallerIdentity(null, OperatorRole, StaffId: staffId, StaffName: staffName),
                _ when tenant is not null && RoleOf(role) is not null => new CallerIdentity(tenant, role, StaffId: staffId, StaffName: staffName),
                _ => null,
            },
            _ => null,
        };
    }
}

public static class CallerIdentityEndpointExtensions
{
    /// <summary>
    /// Only a business's callers whose role is <paramref name="minimum"/> or above (an API key acts as <c>admin</c>); the
    /// handler reads the tenant with <see cref="TenantId"/>.
    /// </summary>
    public static TBuilder RequireTenant<TBuilder>(this TBuilder builder, TenantRole minimum) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.MayAct(minimum), Refusal(minimum));

    /// <summary>Only SafeNotify's operators (the operator key, or an operator signed in to the console).</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.IsOperator, "This route is for SafeNotify operators.");

    /// <summary>A business's caller of <paramref name="minimum"/> or above, or an operator acting on a business's behalf.</summary>
    public static TBuilder RequireTenantOrOperator<TBuilder>(this TBuilder builder, TenantRole minimum) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.MayAct(minimum) || caller.IsOperator, Refusal(minimum) + " SafeNotify operators may too.");

    /// <summary>Only the gateway's own internal calls.</summary>
    public static TBuilder RequireGateway<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.Role == CallerIdentity.GatewayRole, "This route is internal to SafeNotify CRM.");

    /// <summary>The calling tenant; valid inside endpoints guarded by <see cref="RequireTenant{TBuilder}"/>.</summary>
    public static string TenantId(this HttpContext context) =>
        CallerIdentity.From(context)?.TenantId
        ?? throw new InvalidOperationException("The endpoint is not guarded by RequireTenant().");

    private static string Refusal(TenantRole minimum) => minimum switch
    {
        TenantRole.Owner => "This route is for the business's owners.",
        TenantRole.Admin => "This route is for the business's admins, owners and API keys.",
        _ => "This route is for the business's staff and API keys.",
    };

    private static TBuilder RequireCaller<TBuilder>(this TBuilder builder, Func<CallerIdentity, bool> allowed, string forbidden)
        where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var caller = CallerIdentity.From(context.HttpContext);
            if (caller is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "A valid API key is required.");
            }

            if (!allowed(caller))
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: forbidden);
            }

            return await next(context);
        });
}
