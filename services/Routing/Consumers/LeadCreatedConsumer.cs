using MassTransit;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Model;

namespace SafeNotify.Crm.Routing.Consumers;

/// <summary>Keeps a number's <c>totalLeads</c> true: each lead counts once, on the number it first wrote to.</summary>
public sealed class LeadCreatedConsumer(RoutingDbContext db) : NumberTotalsConsumer<LeadCreated>(db)
{
    protected override Task HandleAsync(LeadCreated message, ConsumeContext<LeadCreated> context, CancellationToken cancellationToken)
    {
        Totals.LeadCreated(message.TenantId, message.NumberId);
        return Task.CompletedTask;
    }
}

/// <summary>A consumer of events that count in numbers' totals: its unit of work writes what they add up to once, at its end.</summary>
public abstract class NumberTotalsConsumer<TMessage>(RoutingDbContext db) : TransactionalConsumer<TMessage, RoutingDbContext>(db)
    where TMessage : class
{
    protected NumberTotals Totals { get; } = new();

    protected override void Restart() => Totals.Clear();

    protected override Task CompleteAsync(CancellationToken cancellationToken) => Db.AddToNumberTotalsAsync(Totals.Take(), cancellationToken);
}
