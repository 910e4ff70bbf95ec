using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>
/// Keeps Routing's copy of the tenant's agents; an older revision arriving late changes nothing, and an agent
/// of a tenant that no longer exists (a change in flight while the tenant was removed) is not kept.
/// </summary>
public sealed class AgentChangedConsumer(RoutingDbContext db) : TransactionalConsumer<AgentChanged, RoutingDbContext>(db)
{
    protected override async Task HandleAsync(AgentChanged message, ConsumeContext<AgentChanged> context, CancellationToken cancellationToken)
    {
        var agent = await Db.Agents.FirstOrDefaultAsync(a => a.AgentId == message.AgentId, cancellationToken);
        if (agent is null)
        {
            if (!await Db.Tenants.AnyAsync(t => t.Id == message.TenantId, cancellationToken))
            {
                return;
            }

            agent = new KnownAgent { AgentId = message.AgentId, TenantId = message.TenantId, Name = message.Name };
            Db.Agents.Add(agent);
        }
        else if (agent.Revision >= message.Revision)
        {
            return;
        }

        agent.Name = message.Name;
        agent.IsActive = message.IsActive;
        agent.IsDefault = message.IsDefault;
        agent.TriggerKeywords = message.TriggerKeywords.ToList();
        agent.ActiveHours = message.ActiveHours;
        agent.OutOfHoursMessage = message.OutOfHoursMessage;
        agent.Deleted = message.Deleted;
        agent.Revision = message.Revision;
        await RoutingDirectory.AnnounceChangeAsync(Db, message.TenantId, cancellationToken);
    }
}
