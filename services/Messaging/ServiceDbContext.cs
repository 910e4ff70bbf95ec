using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// What every service's DbContext shares: its own schema (the default for every table, the outbox and the
/// inbox included) and the model conventions. A service adds only its own tables in <see cref="ConfigureModel"/>.
/// </summary>
public abstract class ServiceDbContext(DbContextOptions options, string schema) : DbContext(options), IMessagingDbContext
{
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<InboxMessage> InboxMessages => Set<InboxMessage>();

    protected sealed override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.AddCrmConventions();

    protected sealed override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(schema);
        modelBuilder.AddOutboxAndInbox();
        ConfigureModel(modelBuilder);
    }

    /// <summary>The service's own tables.</summary>
    protected abstract void ConfigureModel(ModelBuilder modelBuilder);
}
