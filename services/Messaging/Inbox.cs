using System.Linq.Expressions;
using System.Reflection;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

public static class Inbox
{
    /// <summary>
    /// Records that <paramref name="consumer"/> handles <paramref name="messageId"/>, inside the caller's
    /// transaction. False means it was handled before (or is being handled by a concurrent delivery, whose
    /// commit this call waited for): the caller must change nothing.
    /// </summary>
    public static async Task<bool> TryRecordAsync<TDbContext>(this TDbContext db, Guid messageId, string consumer, CancellationToken cancellationToken)
        where TDbContext : DbContext, IMessagingDbContext
    {
        var table = db.Model.FindEntityType(typeof(InboxMessage))!.GetSchemaQualifiedTableName();
        // The table name comes from the EF model, never from input; the values are parameters.
        var sql = $"INSERT INTO {table} (message_id, consumer, processed_at) VALUES ({{0}}, {{1}}, {{2}}) ON CONFLICT DO NOTHING";
        var inserted = await db.Database.ExecuteSqlRawAsync(sql, [messageId, consumer, DateTimeOffset.UtcNow], cancellationToken);
        return inserted == 1;
    }
}

/// <summary>
/// A consumer whose effects commit exactly once: the inbox record, the state change and the messages it
/// publishes through the outbox go into one <see cref="UnitOfWork"/>. A redelivered message (same message id) finds
/// its inbox record and changes nothing. A failure rolls everything back and MassTransit retries.
/// The work runs for the message's tenant (its <c>TenantId</c>, when the contract has one): the row-level
/// security policies show and accept that tenant's rows only (see <see cref="TenantIsolation"/>).
/// </summary>
public abstract class TransactionalConsumer<TMessage, TDbContext>(TDbContext db) : IConsumer<TMessage>
    where TMessage : class
    where TDbContext : DbContext, IMessagingDbContext
{
    protected TDbContext Db { get; } = db;

    public async Task Consume(ConsumeContext<TMessage> context)
    {
        var messageId = context.MessageId
            ?? throw new InvalidOperationException($"{typeof(TMessage).Name} arrived without a message id; it cannot be deduplicated.");
        var cancellationToken = context.CancellationToken;
        if (Db is ServiceDbContext serviceDb)
        {
            serviceDb.WorkFor(MessageTenant<TMessage>.Of(context.Message));
        }

        await Db.RunAsync(async ct =>
        {
            if (await Db.TryRecordAsync(messageId, GetType().Name, ct))
            {
                await HandleAsync(context.Message, context, ct);
            }
        }, cancellationToken);
    }

    /// <summary>Change state and write outgoing messages with <see cref="Outbox.Publish{T}"/>; do not save.</summary>
    protected abstract Task HandleAsync(TMessage message, ConsumeContext<TMessage> context, CancellationToken cancellationToken);
}

/// <summary>The tenant a message belongs to: its <c>TenantId</c> property, when its contract has one.</summary>
internal static class MessageTenant<TMessage>
{
    private static readonly Func<TMessage, string?>? Read = Compile();

    public static string? Of(TMessage message) => Read?.Invoke(message);

    private static Func<TMessage, string?>? Compile()
    {
        var property = typeof(TMessage).GetProperty("TenantId", BindingFlags.Public | BindingFlags.Instance);
        if (property is null || property.PropertyType != typeof(string))
        {
            return null;
        }

        var message = Expression.Parameter(typeof(TMessage));
        return Expression.Lambda<Func<TMessage, string?>>(Expression.Property(message, property), message).Compile();
    }
}
