using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Lead.Data;

public sealed class LeadDbContext(DbContextOptions<LeadDbContext> options) : MessagingDbContext(options, Schema), IConversationStore
{
    public const string Schema = "lead";

    public DbSet<CustomerLead> Leads => Set<CustomerLead>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<ConversationMessage> Messages => Set<ConversationMessage>();
    public DbSet<LeadScoreEvent> ScoreEvents => Set<LeadScoreEvent>();
    public DbSet<LeadSettings> Settings => Set<LeadSettings>();
    public DbSet<StaffMember> StaffMembers => Set<StaffMember>();

    /// <summary>The tenant's settings, or the defaults when it has not changed any.</summary>
    public async Task<LeadSettings> SettingsForAsync(string tenantId, CancellationToken cancellationToken) =>
        await Settings.AsNoTracking().FirstOrDefaultAsync(s => s.TenantId == tenantId, cancellationToken) ?? LeadSettings.Defaults(tenantId);

    public async Task<IReadOnlyList<ConversationTurn>> RecentTurnsAsync(string tenantId, string conversationId, int count, CancellationToken cancellationToken)
    {
        var turns = await Messages.AsNoTracking()
            .Where(m => m.ConversationId == conversationId && m.TenantId == tenantId && m.Body != null)
            .OrderByDescending(m => m.CreatedAt).ThenByDescending(m => m.Sequence)
            .Take(count)
            .Select(m => new ConversationTurn(m.Author, m.Body!, m.CreatedAt))
            .ToListAsync(cancellationToken);
        turns.Reverse();
        return turns;
    }

    public Task<CustomerLead> LeadAsync(string tenantId, string leadId, CancellationToken cancellationToken) =>
        Leads.FirstAsync(l => l.Id == leadId && l.TenantId == tenantId, cancellationToken);

    /// <summary>
    /// The lead of the customer who wrote <paramref name="message"/>: theirs, or one entered by hand with their phone
    /// (which becomes theirs on first contact), told they wrote; a new one, added, when there is none.
    /// </summary>
    public async Task<CustomerLead> LeadWhoWroteAsync(InboundMessageRouted message, LeadSettings settings, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var phone = Validators.IsE164(message.CustomerPhone) ? message.CustomerPhone : null; // a WhatsApp username id has no phone
        var lead = await Leads.FirstOrDefaultAsync(l => l.TenantId == message.TenantId && l.CustomerId == message.CustomerId, cancellationToken)
            ?? (phone is null ? null : await Leads.FirstOrDefaultAsync(l => l.TenantId == message.TenantId && l.CustomerId == null && l.Phone == phone, cancellationToken));
        if (lead is not null)
        {
            lead.CustomerWrote(message.CustomerId, phone, message.ProfileName, now);
            return lead;
        }

        lead = CustomerLead.FirstContact(message.TenantId, message.CustomerId, phone, message.ProfileName, message.NumberId, settings, now);
        Leads.Add(lead);
        return lead;
    }

    /// <summary>
    /// The customer's open conversation on the number. The open statuses are written as the one-open-conversation index's
    /// own filter (status IN (...)), so that index answers: with an OR the planner reads every conversation of the tenant.
    /// </summary>
    public Task<Conversation?> OpenConversationAsync(string tenantId, string numberId, string customerId, CancellationToken cancellationToken) =>
        Conversations.FirstOrDefaultAsync(c => c.TenantId == tenantId && c.WhatsappNumberId == numberId && c.CustomerId == customerId
            && new[] { ConversationStatus.Active, ConversationStatus.WaitingHuman }.Contains(c.Status), cancellationToken);

    /// <summary>A tenant's conversation by id (tracked), or null.</summary>
    public Task<Conversation?> ConversationAsync(string tenantId, string conversationId, CancellationToken cancellationToken) =>
        Conversations.FirstOrDefaultAsync(c => c.Id == conversationId && c.TenantId == tenantId, cancellationToken);

    public async Task<DateTimeOffset?> LastCustomerMessageAtAsync(string tenantId, string numberId, string customerId, CancellationToken cancellationToken) =>
        await Conversations.Where(c => c.TenantId == tenantId && c.WhatsappNumberId == numberId && c.CustomerId == customerId)
            .MaxAsync(c => c.LastCustomerMessageAt, cancellationToken);

    /// <summary>How many messages went to the customer from the number in their conversations so far (see <see cref="Conversation.SendSequence"/>).</summary>
    public async Task<long> SendsBeforeAsync(string tenantId, string numberId, string customerId, CancellationToken cancellationToken) =>
        await Conversations.Where(c => c.TenantId == tenantId && c.WhatsappNumberId == numberId && c.CustomerId == customerId)
            .MaxAsync(c => (long?)c.SendSequence, cancellationToken) ?? 0;

    /// <summary>
    /// The ordering key of a conversation (its number and customer: the lock its customer messages take), or null when
    /// the tenant has no such conversation. A conversation's number and customer never change, so reading it unlocked is safe.
    /// </summary>
    public async Task<string?> ConversationKeyAsync(string tenantId, string conversationId, CancellationToken cancellationToken) =>
        await Conversations.AsNoTracking().Where(c => c.Id == conversationId && c.TenantId == tenantId)
            .Select(c => new { c.WhatsappNumberId, c.CustomerId }).FirstOrDefaultAsync(cancellationToken) is { } conversation
            ? OrderingKeys.Conversation(tenantId, conversation.WhatsappNumberId, conversation.CustomerId)
            : null;

    /// <summary>
    /// The tenant's conversation, locked until the transaction ends: API calls on one conversation take turns instead of
    /// racing to a row-version conflict (the consumers' changes still meet the row version, <c>xmin</c>, which <c>*</c> leaves out).
    /// </summary>
    public async Task<StaffMember?> LockStaffMemberAsync(string tenantId, string staffId, CancellationToken cancellationToken)
    {
        var sql = $"SELECT * FROM {this.TableOf<StaffMember>()} "
            + $"WHERE {this.ColumnOf<StaffMember>(m => m.TenantId)} = {{0}} AND {this.ColumnOf<StaffMember>(m => m.StaffId)} = {{1}} FOR UPDATE";
        return (await StaffMembers.FromSqlRaw(sql, tenantId, staffId).ToListAsync(cancellationToken)).SingleOrDefault();
    }

    /// <summary>An active member of the business's staff, whom a conversation or a lead may be assigned to; null otherwise.</summary>
    public Task<StaffMember?> ActiveStaffMemberAsync(string tenantId, string staffId, CancellationToken cancellationToken) =>
        StaffMembers.AsNoTracking().FirstOrDefaultAsync(m => m.TenantId == tenantId && m.StaffId == staffId && m.Active, cancellationToken);

    public async Task<Conversation?> LockConversationAsync(string id, string tenantId, CancellationToken cancellationToken)
    {
        // Names from the EF model; the values are parameters.
        var sql = $"SELECT *, {this.ColumnOf<Conversation>(c => c.Version)} FROM {this.TableOf<Conversation>()} "
            + $"WHERE {this.ColumnOf<Conversation>(c => c.Id)} = {{0}} AND {this.ColumnOf<Conversation>(c => c.TenantId)} = {{1}} FOR UPDATE";
        return (await Conversations.FromSqlRaw(sql, id, tenantId).ToListAsync(cancellationToken)).SingleOrDefault();
    }

    /// <summary>The signals already counted for the lead in this conversation: each counts once per conversation.</summary>
    public async Task<IReadOnlyCollection<string>> SignalsScoredAsync(string leadId, string conversationId, CancellationToken cancellationToken) =>
        await ScoreEvents.Where(e => e.LeadId == leadId && e.ConversationId == conversationId).Select(e => e.Signal).ToListAsync(cancellationToken);

    /// <summary>Saves with the score history the tracked leads wrote and the messages the tracked conversations appended.</summary>
    public override Task<int> SaveChangesAsync(bool acceptAllChangesOnSuccess, CancellationToken cancellationToken = default)
    {
        foreach (var lead in ChangeTracker.Entries<CustomerLead>().Select(e => e.Entity).ToList())
        {
            ScoreEvents.AddRange(lead.TakeScoreChanges());
        }

        foreach (var conversation in ChangeTracker.Entries<Conversation>().Select(e => e.Entity).ToList())
        {
            Messages.AddRange(conversation.TakeAppended());
        }

        return base.SaveChangesAsync(acceptAllChangesOnSuccess, cancellationToken);
    }

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<CustomerLead>(lead =>
        {
            lead.ToTable("customer_leads");
            lead.HasKey(l => l.Id);
            lead.Property(l => l.AssignedStaffId).HasMaxLength(40);
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

        modelBuilder.Entity<StaffMember>(member =>
        {
            member.ToTable("staff_members");
            member.HasKey(m => new { m.TenantId, m.StaffId });
            member.Property(m => m.StaffId).HasMaxLength(40);
            member.Property(m => m.DisplayName).HasMaxLength(100);
            member.Property(m => m.Role).HasMaxLength(20);
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
            conversation.Property(c => c.AssignedStaffId).HasMaxLength(40);
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
