using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.ServiceData;

/// <summary>
/// What every service's DbContext shares: its own schema (the default for every table), the model conventions, and
/// tenant isolation: every connection it opens carries the tenant of <see cref="Access"/> for the row-level security
/// policies (<see cref="TenantIsolation"/>). A service adds only its own tables in <see cref="ConfigureModel"/>.
/// </summary>
public abstract class ServiceDbContext(DbContextOptions options, string schema) : DbContext(options)
{
    /// <summary>The service's schema, also the name of its database role.</summary>
    public string SchemaName { get; } = schema;

    /// <summary>
    /// Whose rows this context sees: by default the signed caller's tenant (none outside a request).
    /// Change it with <see cref="TenantIsolation.ForTenant"/> or <see cref="TenantIsolation.AcrossTenantsAsync{T}"/>.
    /// </summary>
    public TenantAccess Access { get; internal set; } = TenantAccess.Caller;

    protected override void OnConfiguring(DbContextOptionsBuilder optionsBuilder) =>
        optionsBuilder.AddInterceptors(TenantConnectionInterceptor.Instance);

    protected sealed override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder) =>
        configurationBuilder.AddCrmConventions();

    protected sealed override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.HasDefaultSchema(SchemaName);
        ConfigureSharedModel(modelBuilder);
        ConfigureModel(modelBuilder);
    }

    /// <summary>Tables every service has beside its own (the messaging block's outbox and inbox).</summary>
    protected virtual void ConfigureSharedModel(ModelBuilder modelBuilder)
    {
    }

    /// <summary>The service's own tables.</summary>
    protected abstract void ConfigureModel(ModelBuilder modelBuilder);
}
