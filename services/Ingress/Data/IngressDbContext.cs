using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Ingress.Data;

public sealed class IngressDbContext(DbContextOptions<IngressDbContext> options) : MessagingDbContext(options, Schema)
{
    public const string Schema = "ingress";

    public DbSet<InboundMessage> InboundMessages => Set<InboundMessage>();
    public DbSet<CustomerSequence> CustomerSequences => Set<CustomerSequence>();
    public DbSet<OutboundMessage> OutboundMessages => Set<OutboundMessage>();
    public DbSet<OutboundPart> OutboundParts => Set<OutboundPart>();
    public DbSet<SenderPacing> SenderPacing => Set<SenderPacing>();
    public DbSet<EarlyStatusCallback> EarlyStatusCallbacks => Set<EarlyStatusCallback>();

    protected override void ConfigureModel(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<InboundMessage>(message =>
        {
            message.HasKey(m => m.Id);
            message.HasIndex(m => m.MessageSid).IsUnique();
            // The 24-hour window: the customer's newest message to a number.
            message.HasIndex(m => new { m.To, m.CustomerId, m.ReceivedAt });
            message.Property(m => m.MessageSid).HasMaxLength(64);
            message.Property(m => m.Media).HasJsonColumn();
            message.Property(m => m.Location).HasJsonColumn();
            message.Property(m => m.RawPayload).HasJsonColumn();
        });

        modelBuilder.Entity<CustomerSequence>(sequence =>
        {
            sequence.HasKey(s => new { s.Number, s.CustomerId });
        });

        modelBuilder.Entity<OutboundMessage>(message =>
        {
            message.HasKey(m => m.OutboundId);
            message.HasIndex(m => new { m.State, m.UpdatedAt });
            // The (number, customer) queue of messages still being sent or waiting their turn.
            message.HasIndex(m => new { m.From, m.To, m.QueueSequence, m.RequestedAt, m.Sequence }).HasFilter("state = 'Pending'");
            // A message's predecessor in Lead's numbering, in whatever state.
            message.HasIndex(m => new { m.From, m.To, m.QueueSequence });
            message.Property(m => m.Sequence).UseIdentityAlwaysColumn();
            message.Property(m => m.State).HasConversion<string>().HasMaxLength(20);
            message.Property(m => m.Author).HasConversion<string>().HasMaxLength(20);
            message.HasMany(m => m.Parts).WithOne().HasForeignKey(p => p.OutboundId);
        });

        modelBuilder.Entity<OutboundPart>(part =>
        {
            part.HasKey(p => new { p.OutboundId, p.Index });
            part.HasIndex(p => p.TwilioSid).IsUnique().HasFilter("twilio_sid IS NOT NULL");
            part.Property(p => p.State).HasConversion<string>().HasMaxLength(20);
            part.Property(p => p.Version).IsRowVersion();
        });

        modelBuilder.Entity<SenderPacing>(pacing => pacing.HasKey(p => p.Number));

        modelBuilder.Entity<EarlyStatusCallback>(callback =>
        {
            // One row per status: a repeated callback is stored once, and every status is applied forward only.
            callback.HasKey(c => new { c.TwilioSid, c.Status });
            callback.HasIndex(c => c.ReceivedAt); // the purge of those never claimed
            callback.Property(c => c.TwilioSid).HasMaxLength(64);
            callback.Property(c => c.Status).HasMaxLength(32);
            callback.Property(c => c.ErrorCode).HasMaxLength(16);
        });
    }
}
