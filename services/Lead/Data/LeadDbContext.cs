using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Lead.Data;

public sealed class LeadDbContext(DbContextOptions<LeadDbContext> options) : MessagingDbContext(options, Schema)
{
    public const string Schema = "lead";

    public DbSet<CustomerLead> Leads => Set<CustomerLead>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<ConversationMessage> Messages => Set<ConversationMessage>();
    public DbSet<LeadScoreEvent> ScoreEvents => Set<LeadScoreEvent>();
    public DbSet<LeadSettings> Settings => Set<LeadSettings>();

    /// <summary>The tenant's settings, or the defaults when it has not changed any.</summary>
    public async Task<LeadSettings> SettingsForAsync(string tenantId, CancellationToken cancellationToken) =>
        await Settings.AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenantId, cancellationToken) ?? LeadSettings.Defaults(tenantId);

    /// <summary>
    /// The tenant's conversation, locked until the transaction ends: API calls on one conversation take turns instead of
    /// racing to a row-version conflict (the consumers' changes still meet the row version, <c>xmin</c>, which <c>*</c> leaves out).
    /// </summary>
    public async Task<Conversation?> LockConversationAsync(string id, string tenantId, CancellationToken cancellationToken) =>
        (await Conversations.FromSql($"SELECT *, xmin FROM lead.crm_conversations WHERE id = {id} AND tenant_id = {tenantId} FOR UPDATE")
            .ToListAsync(cancellationToken)).SingleOrDefault();

    /// <summary>The signals already counted for the lead in this conversation: each counts once per conversation.</summary>
    public async Task<IReadOnlyCollection<string>> SignalsScoredAsync(string leadId, string conversationId, CancellationToken cancellationToken) =>
        await ScoreEvents.Where(e => e.LeadId == leadId && e.ConversationId == conversationId).Select(e => e.Signal).ToListAsync(cancellationToken);

    /// <summary>Saves with the score history the tracked leads wrote (<see cref="CustomerLead.TakeScoreChanges"/>).</summary>
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        foreach (var lead in ChangeTracker.Entries<CustomerLead>().Select(e => e.Entity).ToList())
        {
            ScoreEvents.AddRange(lead.TakeScoreChanges());
        }

        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CustomerLead>(lead =>
        {
            lead.ToTable("customer_leads");
            lead.HasKey(l => l.Id);
            // One lead per tenant and WhatsApp customer, whatever concurrent first messages race.
            lead.HasIndex(l => new { l.TenantId, l.CustomerId }).IsUnique().HasFilter("customer_id IS NOT NULL");
            lead.HasIndex(l => new { l.TenantId, l.Phone });
            lead.Property(l => l.LeadStatus).HasConversion<string>().HasMaxLength(20);
            lead.Property(l => l.LeadGrade).HasMaxLength(2);
            lead.Property(l => l.TotalSpent).HasPrecision(18, 2);
            lead.Property(l => l.Preferences).HasJsonColumn();
            lead.Property(l => l.SearchText).HasMaxLength(800);
        });

        modelBuilder.Entity<LeadScoreEvent>(score =>
        {
            score.ToTable("lead_score_events");
            score.HasKey(s => s.Id);
            score.HasIndex(s => new { s.LeadId, s.OccurredAt });
            score.HasIndex(s => new { s.LeadId, s.ConversationId, s.Signal });
            score.Property(s => s.Signal).HasMaxLength(60);
            score.Property(s => s.Description).HasMaxLength(200);
            score.Property(s => s.Evidence).HasMaxLength(400);
            score.Property(s => s.GradeAfter).HasMaxLength(2);
            score.Ignore(s => s.Reason);
        });

        modelBuilder.Entity<LeadSettings>(settings =>
        {
            settings.ToTable("lead_settings");
            settings.HasKey(s => s.TenantId);
            settings.Property(s => s.ScoringRules).HasJsonColumn();
        });

        modelBuilder.Entity<Conversation>(conversation =>
        {
            conversation.ToTable("crm_conversations");
            conversation.HasKey(c => c.Id);
            conversation.HasIndex(c => c.SessionId).IsUnique();
            conversation.HasIndex(c => new { c.TenantId, c.LastMessageAt });
            conversation.HasIndex(c => c.CustomerLeadId);
            // At most one open conversation per tenant, number and customer.
            conversation.HasIndex(c => new { c.TenantId, c.WhatsappNumberId, c.CustomerId }).IsUnique()
                .HasFilter("status IN ('Active', 'WaitingHuman')").HasDatabaseName("ix_crm_conversations_one_open");
            conversation.Property(c => c.Status).HasConversion<string>().HasMaxLength(20);
            conversation.Property(c => c.Priority).HasConversion<string>().HasMaxLength(20);
            conversation.Property(c => c.Owner).HasConversion<string>().HasMaxLength(20);
            conversation.Property(c => c.ConversionValue).HasPrecision(18, 2);
            conversation.Property(c => c.Version).IsRowVersion();
            conversation.Ignore(c => c.IsOpen);
        });

        modelBuilder.Entity<ConversationMessage>(message =>
        {
            message.ToTable("conversation_messages");
            message.HasKey(m => m.Id);
            message.HasIndex(m => new { m.ConversationId, m.CreatedAt });
            message.Property(m => m.ContentVariables).HasMaxLength(4000);
            message.HasIndex(m => m.InboundMessageId).IsUnique().HasFilter("inbound_message_id IS NOT NULL");
            message.HasIndex(m => m.TwilioSid);
            message.Property(m => m.Author).HasConversion<string>().HasMaxLength(20);
            message.Property(m => m.Media).HasJsonColumn();
        });
    }
}
