using Microsoft.EntityFrameworkCore;

namespace SafeNotify.Crm.Messaging;

/// <summary>Implemented by each service's DbContext: its outbox and inbox live in its own schema.</summary>
public interface IMessagingDbContext
{
    DbSet<OutboxMessage> OutboxMessages { get; }
    DbSet<InboxMessage> InboxMessages { get; }
}

public static class MessagingModelBuilderExtensions
{
    /// <summary>Maps <c>outbox_messages</c> and <c>inbox_messages</c> into the context's default schema.</summary>
    public static ModelBuilder AddOutboxAndInbox(this ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<OutboxMessage>(outbox =>
        {
            outbox.ToTable(OutboxMessage.Table);
            outbox.HasKey(m => m.Sequence);
            outbox.Property(m => m.Sequence).HasColumnName("sequence").UseIdentityAlwaysColumn();
            outbox.Property(m => m.MessageId).HasColumnName("message_id");
            outbox.Property(m => m.MessageType).HasColumnName("message_type").HasMaxLength(300);
            outbox.Property(m => m.Body).HasColumnName("body").HasColumnType("jsonb");
            outbox.Property(m => m.OrderingKey).HasColumnName("ordering_key").HasMaxLength(300);
            outbox.Property(m => m.TraceParent).HasColumnName("trace_parent").HasMaxLength(100);
            outbox.Property(m => m.TraceState).HasColumnName("trace_state").HasMaxLength(500);
            outbox.Property(m => m.CreatedAt).HasColumnName("created_at");
            outbox.Property(m => m.NextAttemptAt).HasColumnName("next_attempt_at");
            outbox.Property(m => m.DispatchedAt).HasColumnName("dispatched_at");
            outbox.Property(m => m.FailedAt).HasColumnName("failed_at");
            outbox.Property(m => m.Attempts).HasColumnName("attempts");
            outbox.Property(m => m.LastError).HasColumnName("last_error").HasMaxLength(2000);
            outbox.HasIndex(m => m.MessageId).IsUnique();
            // The dispatcher walks the rows that are due, earliest first, and asks whether a key has an older pending
            // row: both through partial indexes that hold only pending rows, however many dispatched rows are kept.
            // Due time leads the first index: timers (a conversation's idle check, hours ahead) wait as pending rows,
            // and a walk in sequence order would read past every one of them on each pass.
            outbox.HasIndex(m => new { m.NextAttemptAt, m.Sequence })
                .HasDatabaseName("ix_outbox_messages_due")
                .HasFilter("dispatched_at IS NULL AND failed_at IS NULL");
            outbox.HasIndex(m => new { m.OrderingKey, m.Sequence })
                .HasDatabaseName("ix_outbox_messages_pending")
                .HasFilter("dispatched_at IS NULL AND failed_at IS NULL");
            outbox.HasIndex(m => m.FailedAt).HasDatabaseName("ix_outbox_messages_failed").HasFilter("failed_at IS NOT NULL");
            // For the purge of old dispatched rows only. Partial, so that it can never serve "dispatched_at IS NULL":
            // with statistics a busy table had outgrown, Postgres chose it over the due index to find pending rows,
            // reading every one of them and sorting them on each pass.
            outbox.HasIndex(m => m.DispatchedAt).HasDatabaseName("ix_outbox_messages_dispatched_at").HasFilter("dispatched_at IS NOT NULL");
        });

        modelBuilder.Entity<InboxMessage>(inbox =>
        {
            inbox.ToTable("inbox_messages");
            inbox.HasKey(m => new { m.MessageId, m.Consumer });
            inbox.Property(m => m.MessageId).HasColumnName("message_id");
            inbox.Property(m => m.Consumer).HasColumnName("consumer").HasMaxLength(200);
            inbox.Property(m => m.ProcessedAt).HasColumnName("processed_at");
            inbox.HasIndex(m => m.ProcessedAt).HasDatabaseName("ix_inbox_messages_processed_at");
        });

        return modelBuilder;
    }
}
