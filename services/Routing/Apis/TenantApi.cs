using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Apis;

/// <summary>The plan's limits; <c>maxAgents</c> null means unlimited.</summary>
public sealed record TenantLimits(int? MaxAgents, int MaxWhatsappNumbers);

/// <summary>What the tenant uses now, and how much of it is beyond the plan (after a downgrade).</summary>
public sealed record TenantUsage(int WhatsappNumbers, int Agents, int WhatsappNumbersOverLimit, int AgentsOverLimit);

/// <summary>The tenant's own view: plan, limits, usage, and in words anything the tenant should act on.</summary>
public sealed record OwnTenantResponse(
    string Id, string Name, bool CrmEnabled, string CrmPlan, string Timezone, TenantLimits Limits, TenantUsage Usage, IReadOnlyList<string> Notices);

/// <summary>A tenant reads its own plan, limits and usage.</summary>
public static class TenantApi
{
    public static RouteGroupBuilder MapTenantApi(this IEndpointRouteBuilder app)
    {
        var tenant = app.MapGroup("/api/tenant").WithTags("Tenant").RequireTenant(TenantRole.Agent);
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

        var numbers = await db.Numbers.AsNoTracking().Where(n => n.TenantId == tenantId).ToListAsync(cancellationToken);
        var agents = await db.Agents.CountAsync(a => a.TenantId == tenantId && !a.Deleted, cancellationToken);
        var numbersOver = Math.Max(0, numbers.Count - tenant.MaxWhatsappNumbers);
        var agentsOver = tenant.MaxAgents is { } maxAgents ? Math.Max(0, agents - maxAgents) : 0;

        var notices = new List<string>();
        if (!tenant.CrmEnabled)
        {
            notices.Add("The CRM is disabled for this account: messages are recorded and nobody answers.");
        }

        if (tenant.MaxWhatsappNumbers == 0)
        {
            notices.Add($"The {tenant.CrmPlan} plan is a demo: it has no WhatsApp numbers that answer customers. Upgrade to basic or higher to connect one.");
        }

        if (numbersOver > 0)
        {
            var silent = numbers.Where(n => !PlanAllowance.NumbersWithinPlan(numbers, tenant.MaxWhatsappNumbers).Contains(n.Id)).Select(n => n.PhoneNumber);
            notices.Add($"The {tenant.CrmPlan} plan allows {tenant.MaxWhatsappNumbers} WhatsApp number(s); {numbersOver} more are kept but do not answer: " +
                $"{string.Join(", ", silent)}. Nothing was deleted; upgrade the plan or remove numbers to choose which answer.");
        }

        if (agentsOver > 0)
        {
            notices.Add($"The {tenant.CrmPlan} plan allows {tenant.MaxAgents} agent(s) and this account has {agentsOver} more; no agent can be added until there are fewer.");
        }

        return TypedResults.Ok(new OwnTenantResponse(tenant.Id, tenant.Name, tenant.CrmEnabled, tenant.CrmPlan, tenant.Timezone,
            new TenantLimits(tenant.MaxAgents, tenant.MaxWhatsappNumbers), new TenantUsage(numbers.Count, agents, numbersOver, agentsOver), notices));
    }
}
