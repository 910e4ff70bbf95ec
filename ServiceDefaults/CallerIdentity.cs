using System.Security.Claims;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Who is calling, as the gateway established it from the bearer key. The gateway drops any identity a
/// client sends and passes the services a short-lived token it signed (<see cref="IdentityTokens"/>); a
/// service reads the caller only from that validated token, never from a body, query or path.
/// <see cref="KeyId"/> names the API key the caller used (null for the operator's configured key and for
/// tokens signed before key ids were carried), so an audit record can say which key acted.
/// </summary>
public sealed record CallerIdentity(string? TenantId, string Role, string? KeyId = null)
{
    /// <summary>The header carrying the gateway's signed identity token.</summary>
    public const string Header = "X-SafeNotify-Identity";

    public const string TenantRole = "tenant";
    public const string OperatorRole = "operator";

    /// <summary>The gateway itself, for its one internal call (resolving API keys).</summary>
    public const string GatewayRole = "gateway";

    internal const string TenantClaim = "tenant";
    internal const string RoleClaim = "role";
    internal const string KeyIdClaim = "key_id";

    public bool IsOperator => Role == OperatorRole;

    /// <summary>The caller whose token the authentication step validated, or null when there is none.</summary>
    public static CallerIdentity? From(HttpContext context) => From(context.User);

    public static CallerIdentity? From(ClaimsPrincipal user)
    {
        if (user.Identity?.IsAuthenticated != true)
        {
            return null;
        }

        var role = user.FindFirstValue(RoleClaim);
        var tenant = user.FindFirstValue(TenantClaim);
        var keyId = user.FindFirstValue(KeyIdClaim) is { Length: > 0 } key ? key : null;
        return role switch
        {
            OperatorRole => new CallerIdentity(string.IsNullOrEmpty(tenant) ? null : tenant, OperatorRole, keyId),
            TenantRole when !string.IsNullOrEmpty(tenant) => new CallerIdentity(tenant, TenantRole, keyId),
            GatewayRole => new CallerIdentity(null, GatewayRole),
            _ => null,
        };
    }
}

public static class CallerIdentityEndpointExtensions
{
    /// <summary>Only calls made on behalf of a tenant; the handler reads the tenant with <see cref="TenantId"/>.</summary>
    public static TBuilder RequireTenant<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.TenantId is not null, "This route is for a tenant's key.");

    /// <summary>Only SafeNotify's operators (the operator key).</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.IsOperator, "This route is for SafeNotify operators.");

    /// <summary>A tenant, or an operator acting on a tenant's behalf (never the gateway's own identity).</summary>
    public static TBuilder RequireTenantOrOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.TenantId is not null || caller.IsOperator, "This route is for a tenant's key or SafeNotify operators.");

    /// <summary>Only the gateway's own internal calls.</summary>
    public static TBuilder RequireGateway<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireCaller(caller => caller.Role == CallerIdentity.GatewayRole, "This route is internal to SafeNotify CRM.");

    /// <summary>The calling tenant; valid inside endpoints guarded by <see cref="RequireTenant{TBuilder}"/>.</summary>
    public static string TenantId(this HttpContext context) =>
        CallerIdentity.From(context)?.TenantId
        ?? throw new InvalidOperationException("The endpoint is not guarded by RequireTenant().");

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
