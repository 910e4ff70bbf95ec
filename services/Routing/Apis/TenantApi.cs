using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

public sealed record TenantLimits(int? MaxAgents, int MaxWhatsappNumbers);

public sealed record TenantUsage(int WhatsappNumbers, int Agents);

public sealed record OwnTenantResponse(string Id, string Name, bool CrmEnabled, string CrmPlan, string Timezone, TenantLimits Limits, TenantUsage Usage);

/// <summary>A tenant reads its own plan, limits and usage.</summary>
public static class TenantApi
{
    public static RouteGroupBuilder MapTenantApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/api/tenant").WithTags("Tenant").RequireTenant();
        tenant.MapGet("/", GetOwnTenant).WithName("GetOwnTenant").WithSummary("The calling tenant's plan, limits and usage");
        return tenant;
    }

    private static async Task<Results<Ok<OwnTenantResponse>, ProblemHttpResult>> GetOwnTenant(
        HttpContext context, RoutingDbContext db, CancellationToken cancellationToken)
    {
        var tenantId = context.TenantId();
        var tenant = await db.Tenants.AsNoTracking().FirstOrDefaultAsync(t => t.Id == tenantId, cancellationToken);
        if (tenant is null)
        {
            return Problems.NotFound("Tenant");
        }

        var numbers = await db.Numbers.CountAsync(n => n.TenantId == tenantId, cancellationToken);
        var agents = await db.Agents.CountAsync(a => a.TenantId == tenantId && !a.Deleted, cancellationToken);
        return TypedResults.Ok(new OwnTenantResponse(tenant.Id, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan, tenant.Timezone,
            new TenantLimits(tenant.MaxAgents, tenant.MaxWhatsappNumbers), new TenantUsage(numbers, agents)));
    }
}
