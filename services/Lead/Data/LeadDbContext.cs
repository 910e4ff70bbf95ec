using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Lead.Model;
using SafeNotify.Crm.Messaging;

namespace SafeNotify.Crm.Lead.Data;

public sealed class LeadDbContext(DbContextOptions<LeadDbContext> options) : ServiceDbContext(options, Schema)
{
    public const string Schema = "lead";

    public DbSet<CustomerLead> Leads => Set<CustomerLead>();
    public DbSet<Conversation> Conversations => Set<Conversation>();
    public DbSet<ConversationMessage> Messages => Set<ConversationMessage>();

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
        });

        modelBuilder.Entity<Conversation>(conversation =>
        {
            conversation.ToTable("crm_conversations");
            conversation.HasKey(c => c.Id);
            conversation.HasIndex(c => c.SessionId).IsUnique();
            conversation.HasIndex(c => new { c.TenantId, c.LastMessageAt });
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
            message.HasIndex(m => m.InboundMessageId).IsUnique().HasFilter("inbound_message_id IS NOT NULL");
            message.HasIndex(m => m.TwilioSid);
            message.Property(m => m.Author).HasConversion<string>().HasMaxLength(20);
            message.Property(m => m.Media).HasJsonColumn();
        });
    }
}
