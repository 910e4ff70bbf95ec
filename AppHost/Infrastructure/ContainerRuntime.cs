using System.Diagnostics;

namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>
/// Decides how Postgres and RabbitMQ run: as containers where an engine answers, otherwise as the
/// machine's own servers started by the AppHost. <c>Crm:Infrastructure</c> = <c>containers</c> or
/// <c>local</c> overrides the probe.
/// </summary>
internal static class ContainerRuntime
{
    public static bool UseContainers(string? setting) => setting?.ToLowerInvariant() switch
    {
        "containers" => true,
        "local" => false,
        _ => EngineAnswers(Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME") ?? "docker"),
    };

    private static bool EngineAnswers(string runtime)
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(runtime, "info --format {{.ServerVersion}}")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (probe is null)
            {
                return false;
            }

            if (!probe.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                probe.Kill(entireProcessTree: true);
                return false;
            }

            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false; // no such program
        }
    }
}
