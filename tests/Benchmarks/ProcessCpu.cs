using System.Globalization;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>
/// CPU time spent by the system's processes, grouped as a reader of the figures wants them: each service (its replicas
/// together), the gateway, Postgres and RabbitMQ (every process of theirs), the Twilio stand-in, the orchestrator and
/// what else this process started, and this process itself (the loader, the model stand-in and the AppHost run in it).
/// A group's time is its processes' user and system time, plus what their children that ended have left in them (a
/// Postgres backend or autovacuum worker that exits hands its time to the server), read from /proc.
/// </summary>
public sealed class ProcessCpu
{
    public const string Orchestrator = "orchestrator and other processes";
    public const string Loader = "loader (this process)";

    private static readonly double TicksPerSecond = ClockTicks();

    private readonly Dictionary<string, double> _seconds;

    private ProcessCpu(Dictionary<string, double> seconds) => _seconds = seconds;

    public IReadOnlyDictionary<string, double> Seconds => _seconds;

    /// <summary>CPU seconds used by each group so far; <paramref name="resources"/> maps a resource instance to its process.</summary>
    public static ProcessCpu Sample(IReadOnlyDictionary<string, int> resources)
    {
        var stats = new Dictionary<int, (int Parent, double Seconds)>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && Stat(pid) is { } stat)
            {
                stats[pid] = stat;
            }
        }

        var groups = new Dictionary<string, double>();
        var counted = new HashSet<int>();
        foreach (var (resource, root) in resources.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var tree = stats.Keys.Where(pid => pid == root || Descends(pid, root, stats)).ToList();
            groups[GroupOf(resource)] = groups.GetValueOrDefault(GroupOf(resource)) + tree.Sum(pid => stats[pid].Seconds);
            counted.UnionWith(tree);
        }

        var self = Environment.ProcessId;
        groups[Loader] = stats.TryGetValue(self, out var own) ? own.Seconds : 0;
        groups[Orchestrator] = stats.Keys.Where(pid => !counted.Contains(pid) && pid != self && Descends(pid, self, stats)).Sum(pid => stats[pid].Seconds);
        return new ProcessCpu(groups);
    }

    /// <summary>What each group used between <paramref name="before"/> and this sample.</summary>
    public IReadOnlyDictionary<string, double> Since(ProcessCpu before) =>
        _seconds.ToDictionary(g => g.Key, g => g.Value - before._seconds.GetValueOrDefault(g.Key));

    /// <summary>The groups that run the product (every service, the gateway, Postgres, RabbitMQ), as opposed to the tools around it.</summary>
    public static bool IsSystem(string group) => group is not (Orchestrator or Loader) && group != Resource.TwilioStandIn;

    /// <summary>A replica's resource id ("lead-abcd1234") belongs to its service's group ("lead").</summary>
    private static string GroupOf(string resource) =>
        Resource.All.FirstOrDefault(name => resource == name || resource.StartsWith(name + "-", StringComparison.Ordinal)) ?? resource;

    private static bool Descends(int pid, int ancestor, Dictionary<int, (int Parent, double Seconds)> stats)
    {
        for (var depth = 0; depth < 64 && stats.TryGetValue(pid, out var stat) && stat.Parent > 1; depth++)
        {
            if (stat.Parent == ancestor)
            {
                return true;
            }

            pid = stat.Parent;
        }

        return false;
    }

    /// <summary>/proc/&lt;pid&gt;/stat: after "pid (comm) ", field 2 is the parent, 12-15 utime, stime, cutime, cstime in clock ticks.</summary>
    private static (int Parent, double Seconds)? Stat(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = fields[11..15].Sum(f => long.Parse(f, CultureInfo.InvariantCulture));
            return (int.Parse(fields[1], CultureInfo.InvariantCulture), ticks / TicksPerSecond);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static double ClockTicks()
    {
        try
        {
            using var getconf = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true })!;
            return double.Parse(getconf.StandardOutput.ReadToEnd().Trim(), CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or FormatException)
        {
            return 100; // Linux's USER_HZ nearly everywhere
        }
    }

    /// <summary>The resource names of the AppHost, as groups.</summary>
    private static class Resource
    {
        public const string TwilioStandIn = SafeNotify.Crm.AppHost.ResourceNames.TwilioStandIn;

        public static readonly string[] All =
        [
            .. SafeNotify.Crm.AppHost.ResourceNames.Services, SafeNotify.Crm.AppHost.ResourceNames.Gateway,
            SafeNotify.Crm.AppHost.ResourceNames.Postgres, SafeNotify.Crm.AppHost.ResourceNames.RabbitMq, TwilioStandIn,
        ];
    }
}
