using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>Keeps a number's <c>totalLeads</c> true: each lead counts once, on the number it first wrote to.</summary>
public sealed class LeadCreatedConsumer(RoutingDbContext db) : TransactionalConsumer<LeadCreated, RoutingDbContext>(db)
{
    protected override async Task HandleAsync(LeadCreated message, ConsumeContext<LeadCreated> context, CancellationToken cancellationToken) =>
        await Db.Numbers.Where(n => n.Id == message.NumberId && n.TenantId == message.TenantId)
            .ExecuteUpdateAsync(n => n.SetProperty(x => x.TotalLeads, x => x.TotalLeads + 1), cancellationToken);
}
