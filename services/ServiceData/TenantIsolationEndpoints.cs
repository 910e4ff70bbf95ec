using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace SafeNotify.Crm.ServiceData;

/// <summary>
/// Endpoints whose work truly crosses tenants (operators' administration, the gateway's key lookup): their
/// <typeparamref name="TDbContext"/> sees every tenant's rows for the whole request, through the service's
/// <c>_all_tenants</c> role (<see cref="TenantIsolation.AcrossTenantsAsync{T}"/>). Put it only on routes
/// already guarded for operators or the gateway.
/// </summary>
public static class TenantIsolationEndpoints
{
    public static RouteGroupBuilder AcrossTenants<TDbContext>(this RouteGroupBuilder group) where TDbContext : ServiceDbContext =>
        group.AddEndpointFilter(Filter<TDbContext>);

    public static RouteHandlerBuilder AcrossTenants<TDbContext>(this RouteHandlerBuilder route) where TDbContext : ServiceDbContext =>
        route.AddEndpointFilter(Filter<TDbContext>);

    private static ValueTask<object?> Filter<TDbContext>(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
        where TDbContext : ServiceDbContext
    {
        var db = context.HttpContext.RequestServices.GetRequiredService<TDbContext>();
        return new ValueTask<object?>(db.AcrossTenantsAsync(() => next(context).AsTask(), context.HttpContext.RequestAborted));
    }
}
