using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// A service's DbContext with its outbox and inbox in its own schema: what it publishes commits with its change
/// (<see cref="Outbox"/>), and what it handled is recorded in the same transaction (<see cref="Inbox"/>).
/// </summary>
public abstract class MessagingDbContext(DbContextOptions options, string schema) : ServiceDbContext(options, schema), IMessagingDbContext
{
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<InboxMessage> InboxMessages => Set<InboxMessage>();

    protected override void ConfigureSharedModel(ModelBuilder modelBuilder) => modelBuilder.AddOutboxAndInbox();

    /// <summary>Saves the changes with the messages the tracked aggregates raised (<see cref="Aggregate"/>), in the same transaction.</summary>
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        foreach (var aggregate in ChangeTracker.Entries<Aggregate>().Select(e => e.Entity).ToList())
        {
            foreach (var raised in aggregate.TakeRaised())
            {
                this.Publish(raised);
            }

            foreach (var audit in aggregate.TakeAudits())
            {
                this.Audit(audit.Actor, audit.TenantId, audit.Action, audit.TargetType, audit.TargetId, audit.Detail, audit.At);
            }
        }

        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }
}
