namespace SafeNotify.Crm.Messaging;

/// <summary>How much of the machine a service's consumers may take (section <c>Consumers</c>).</summary>
public sealed class ConsumerOptions
{
    /// <summary>
    /// The most units of work the service's consumers run at once, each applying up to
    /// <see cref="DeliveryBatches.MaxBatchSize"/> events; unset, each consumer runs its own. A bound keeps a backlog from
    /// taking more CPU than that from the processes beside it (the webhook edge); the backlog drains in larger batches.
    /// </summary>
    public int? ConcurrentUnitsOfWork { get; set; }
}
