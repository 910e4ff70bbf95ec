using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Who is calling, as the gateway established it from the bearer key. The gateway strips these
/// headers from every client request and sets them itself, so a service never takes a tenant from a
/// body, query or path.
/// </summary>
public sealed record CallerIdentity(string? TenantId, string Role)
{
    public const string TenantHeader = "X-SafeNotify-Tenant-Id";
    public const string RoleHeader = "X-SafeNotify-Role";
    public const string TenantRole = "tenant";
    public const string OperatorRole = "operator";

    public bool IsOperator => Role == OperatorRole;

    public static CallerIdentity? From(HttpContext context)
    {
        var role = context.Request.Headers[RoleHeader].ToString();
        var tenant = context.Request.Headers[TenantHeader].ToString();
        return role switch
        {
            OperatorRole => new CallerIdentity(string.IsNullOrEmpty(tenant) ? null : tenant, OperatorRole),
            TenantRole when !string.IsNullOrEmpty(tenant) => new CallerIdentity(tenant, TenantRole),
            _ => null,
        };
    }
}

public static class CallerIdentityEndpointExtensions
{
    /// <summary>Only calls made on behalf of a tenant; the handler reads the tenant with <see cref="TenantId"/>.</summary>
    public static TBuilder RequireTenant<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var caller = CallerIdentity.From(context.HttpContext);
            if (caller is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "A valid API key is required.");
            }

            if (caller.TenantId is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "This route is for a tenant's key.");
            }

            return await next(context);
        });

    /// <summary>Only SafeNotify's operators (the operator key).</summary>
    public static TBuilder RequireOperator<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var caller = CallerIdentity.From(context.HttpContext);
            if (caller is null)
            {
                return Results.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "A valid API key is required.");
            }

            if (!caller.IsOperator)
            {
                return Results.Problem(statusCode: StatusCodes.Status403Forbidden, title: "This route is for SafeNotify operators.");
            }

            return await next(context);
        });

    /// <summary>The calling tenant; valid inside endpoints guarded by <see cref="RequireTenant{TBuilder}"/>.</summary>
    public static string TenantId(this HttpContext context) =>
        CallerIdentity.From(context)?.TenantId
        ?? throw new InvalidOperationException("The endpoint is not guarded by RequireTenant().");
}
