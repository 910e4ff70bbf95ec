using Microsoft.Extensions.Configuration;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>
/// Tuning for one small machine that every process of the system shares (a 2-core development box): opt-in, so that
/// <c>./run.sh</c>, the tests and a deployment run .NET's and the operating system's defaults.
/// <list type="bullet">
/// <item><c>Crm:Tuning:SmallMachine</c>: every project runs the workstation GC (the server GC's large gen0 budget makes
/// each collection long when several services share two cores) and thread-pool workers that sleep as soon as they run
/// out of work instead of spinning first (on a busy small machine the spinning took a large share of a consumer
/// service's CPU).</item>
/// <item><c>Crm:Tuning:ProcessPriority</c>: the services that only consume events, and their database sessions, run at
/// the lowest CPU priority (and in an idle CPU group where the kernel allows), so that when the CPU runs out the edge
/// that acknowledges Twilio's webhooks keeps it, and the backlog waits, durable, in the queues.</item>
/// </list>
/// </summary>
internal sealed record Tuning(bool SmallMachine, bool ProcessPriority)
{
    public static Tuning From(IConfiguration config) =>
        new(config.GetValue("Crm:Tuning:SmallMachine", false), config.GetValue("Crm:Tuning:ProcessPriority", false));

    /// <summary>The login roles whose database sessions run below normal priority (infra/postgres.sh): none unless asked.</summary>
    public IEnumerable<string> BelowNormalDatabaseRoles => ProcessPriority ? ResourceNames.Consumers : [];

    public IResourceBuilder<ProjectResource> ApplyTo(IResourceBuilder<ProjectResource> project)
    {
        if (SmallMachine)
        {
            project.WithEnvironment("DOTNET_gcServer", "0")
                .WithEnvironment("DOTNET_ThreadPool_UnfairSemaphoreSpinLimit", "0");
        }

        if (ProcessPriority && ResourceNames.Consumers.Contains(project.Resource.Name))
        {
            // The lowest priority, not just below normal: at nice 10 the consumers still filled every pause between the
            // edge's database round trips when webhooks came in faster than the machine could handle them all.
            project.WithEnvironment("Crm__ProcessPriority", "Idle");
        }

        return project;
    }
}
