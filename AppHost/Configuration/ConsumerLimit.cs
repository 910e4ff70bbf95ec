using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>
/// <c>Crm:ConcurrentUnitsOfWork</c>: the most units of work each service's consumers run at once (unset: one per
/// consumer). A backlog then takes no more of the machine than that from the webhook edge beside it, and drains in
/// larger batches.
/// </summary>
internal sealed record ConsumerLimit(int? ConcurrentUnitsOfWork)
{
    public static ConsumerLimit From(IConfiguration config)
    {
        var limit = config.GetValue<int?>("Crm:ConcurrentUnitsOfWork");
        return limit is < 1
            ? throw new InvalidOperationException($"Crm:ConcurrentUnitsOfWork must be at least 1, not {limit}.")
            : new ConsumerLimit(limit);
    }

    public IResourceBuilder<ProjectResource> ApplyTo(IResourceBuilder<ProjectResource> project) => ConcurrentUnitsOfWork is { } limit
        ? project.WithEnvironment("Consumers__ConcurrentUnitsOfWork", limit.ToString(CultureInfo.InvariantCulture))
        : project;
}
