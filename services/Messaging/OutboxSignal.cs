using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace SafeNotify.Crm.Messaging;

/// <summary>
/// Wakes the dispatcher of <typeparamref name="TDbContext"/> the moment a transaction that wrote outbox
/// rows commits, so a hop costs milliseconds instead of a polling interval. Wakes coalesce: many commits
/// while the dispatcher is busy cause one more pass, not one per commit.
/// </summary>
public sealed class OutboxSignal<TDbContext> where TDbContext : DbContext
{
    private readonly Channel<bool> _wakes = Channel.CreateBounded<bool>(
        new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _wakes.Writer.TryWrite(true);

    /// <summary>Waits for a wake or the timeout, whichever comes first.</summary>
    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timeoutSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeoutSource.CancelAfter(timeout);
        try
        {
            await _wakes.Reader.ReadAsync(timeoutSource.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            // The timeout: poll anyway, for rows written by another instance or before a crash.
        }
    }
}

/// <summary>Notices outbox rows being saved and rings <see cref="OutboxSignal{TDbContext}"/> once they are committed.</summary>
public sealed class OutboxCommitInterceptor<TDbContext>(OutboxSignal<TDbContext> signal)
    : SaveChangesInterceptor, IDbTransactionInterceptor
    where TDbContext : DbContext
{
    private sealed class Pending
    {
        public bool Saving;
        public bool AwaitingCommit;
    }

    private readonly ConditionalWeakTable<DbContext, Pending> _pending = [];

    public override InterceptionResult<int> SavingChanges(DbContextEventData eventData, InterceptionResult<int> result)
    {
        NoteOutboxRows(eventData.Context);
        return result;
    }

    public override ValueTask<InterceptionResult<int>> SavingChangesAsync(
        DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        NoteOutboxRows(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override int SavedChanges(SaveChangesCompletedEventData eventData, int result)
    {
        Saved(eventData.Context);
        return result;
    }

    public override ValueTask<int> SavedChangesAsync(SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        Saved(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public void TransactionCommitted(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData) => Committed(eventData.Context);

    public Task TransactionCommittedAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Committed(eventData.Context);
        return Task.CompletedTask;
    }

    public void TransactionRolledBack(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData)
    {
        if (eventData.Context is { } context)
        {
            _pending.Remove(context);
        }
    }

    public Task TransactionRolledBackAsync(System.Data.Common.DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        TransactionRolledBack(transaction, eventData);
        return Task.CompletedTask;
    }

    private void NoteOutboxRows(DbContext? context)
    {
        if (context is null)
        {
            return;
        }

        foreach (var entry in context.ChangeTracker.Entries<OutboxMessage>())
        {
            if (entry.State == EntityState.Added)
            {
                _pending.GetOrCreateValue(context).Saving = true;
                return;
            }
        }
    }

    private void Saved(DbContext? context)
    {
        if (context is null || !_pending.TryGetValue(context, out var pending) || !pending.Saving)
        {
            return;
        }

        pending.Saving = false;
        if (context.Database.CurrentTransaction is null)
        {
            _pending.Remove(context);
            signal.Notify();
        }
        else
        {
            pending.AwaitingCommit = true;
        }
    }

    private void Committed(DbContext? context)
    {
        if (context is not null && _pending.TryGetValue(context, out var pending) && pending.AwaitingCommit)
        {
            _pending.Remove(context);
            signal.Notify();
        }
    }
}
