using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Agent.Consumers;

/// <summary>Agent enforces the agent limit on its own data, from the plans Routing publishes.</summary>
public sealed class TenantProvisionedConsumer(AgentDbContext db) : TransactionalConsumer<TenantProvisioned, AgentDbContext>(db)
{
    protected override Task HandleAsync(TenantProvisioned message, ConsumeContext<TenantProvisioned> context, CancellationToken cancellationToken) =>
        TenantPlans.ApplyAsync(Db, message.TenantId, message.Plan, message.MaxAgents, message.CrmEnabled, message.OccurredAt, cancellationToken);
}

public sealed class TenantPlanChangedConsumer(AgentDbContext db) : TransactionalConsumer<TenantPlanChanged, AgentDbContext>(db)
{
    protected override Task HandleAsync(TenantPlanChanged message, ConsumeContext<TenantPlanChanged> context, CancellationToken cancellationToken) =>
        TenantPlans.ApplyAsync(Db, message.TenantId, message.Plan, message.MaxAgents, message.CrmEnabled, message.OccurredAt, cancellationToken);
}

internal static class TenantPlans
{
    /// <summary>Upserts the tenant's plan; a change older than the one applied is ignored (events may overtake each other).</summary>
    public static async Task ApplyAsync(AgentDbContext db, string tenantId, string plan, int? maxAgents, bool crmEnabled, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var tenant = await db.Tenants.FirstOrDefaultAsync(t => t.TenantId == tenantId, cancellationToken);
        if (tenant is null)
        {
            db.Tenants.Add(new TenantPlan { TenantId = tenantId, Plan = plan, MaxAgents = maxAgents, CrmEnabled = crmEnabled, UpdatedAt = at });
            return;
        }

        if (tenant.UpdatedAt > at)
        {
            return;
        }

        tenant.Plan = plan;
        tenant.MaxAgents = maxAgents;
        tenant.CrmEnabled = crmEnabled;
        tenant.UpdatedAt = at;
    }
}
