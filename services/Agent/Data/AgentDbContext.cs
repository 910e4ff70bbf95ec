using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Agent.Data;

public sealed class AgentDbContext(DbContextOptions<AgentDbContext> options) : MessagingDbContext(options, Schema)
{
    public const string Schema = "agent";

    public DbSet<AiAgent> Agents => Set<AiAgent>();
    public DbSet<AgentPrompt> Prompts => Set<AgentPrompt>();
    public DbSet<TenantPlan> Tenants => Set<TenantPlan>();
    public DbSet<AgentConversation> Conversations => Set<AgentConversation>();
    public DbSet<QuestionSample> QuestionSamples => Set<QuestionSample>();

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<AiAgent>(agent =>
        {
            agent.ToTable("ai_agents");
            agent.HasKey(a => a.Id);
            agent.HasIndex(a => a.TenantId);
            // At most one default agent per tenant.
            agent.HasIndex(a => a.TenantId).IsUnique().HasFilter("is_default").HasDatabaseName("ix_ai_agents_one_default");
            agent.Property(a => a.Name).HasMaxLength(100);
            agent.Property(a => a.Model).HasMaxLength(100);
            agent.Property(a => a.EstimatedCost).HasPrecision(18, 6);
            agent.Property(a => a.BusinessRules).HasJsonColumn();
            agent.Property(a => a.ActiveHours).HasJsonColumn();
            agent.Ignore(a => a.OutOfHoursMessage);
        });

        modelBuilder.Entity<AgentPrompt>(prompt =>
        {
            prompt.ToTable("agent_prompts");
            prompt.HasKey(p => p.Id);
            prompt.HasIndex(p => new { p.AgentId, p.Version }).IsUnique();
            prompt.HasIndex(p => p.AgentId).IsUnique().HasFilter("is_active").HasDatabaseName("ix_agent_prompts_one_active");
            prompt.Property(p => p.BusinessContext).HasJsonColumn();
            prompt.Property(p => p.Status).HasConversion<string>().HasMaxLength(20);
        });

        modelBuilder.Entity<AgentConversation>(conversation =>
        {
            conversation.ToTable("agent_conversations");
            conversation.HasKey(c => new { c.AgentId, c.ConversationId });
            conversation.HasIndex(c => new { c.TenantId, c.ConversationId });
        });

        modelBuilder.Entity<QuestionSample>(sample =>
        {
            sample.ToTable("question_samples");
            sample.HasKey(s => s.Id);
            sample.Property(s => s.Id).UseIdentityAlwaysColumn();
            sample.HasIndex(s => new { s.AgentId, s.Id });
            sample.Property(s => s.Text).HasMaxLength(2000);
        });

        modelBuilder.Entity<TenantPlan>(tenant =>
        {
            tenant.ToTable("tenant_plans");
            tenant.HasKey(t => t.TenantId);
        });
    }
}

public static class AgentDbContextExtensions
{
    /// <summary>Locks the tenant's plan row so concurrent creates check the agent limit one after another.</summary>
    public static async Task<TenantPlan?> LockTenantAsync(this AgentDbContext db, string tenantId, CancellationToken cancellationToken)
    {
        // Not composed (no LIMIT wrapped around it): the statement stays exactly as written. Names from the EF model; the value is a parameter.
        var sql = $"SELECT * FROM {db.TableOf<TenantPlan>()} WHERE {db.ColumnOf<TenantPlan>(t => t.TenantId)} = {{0}} FOR UPDATE";
        return (await db.Tenants.FromSqlRaw(sql, tenantId).ToListAsync(cancellationToken)).SingleOrDefault();
    }

    /// <summary>Locks one agent's row (tracked): its counters and prompt versions change one writer at a time.</summary>
    public static async Task<AiAgent?> LockAgentAsync(this AgentDbContext db, string agentId, string tenantId, CancellationToken cancellationToken)
    {
        var sql = $"SELECT * FROM {db.TableOf<AiAgent>()} WHERE {db.ColumnOf<AiAgent>(a => a.Id)} = {{0}} AND {db.ColumnOf<AiAgent>(a => a.TenantId)} = {{1}} FOR UPDATE";
        return (await db.Agents.FromSqlRaw(sql, agentId, tenantId).ToListAsync(cancellationToken)).SingleOrDefault();
    }
}
