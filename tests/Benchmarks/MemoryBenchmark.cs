using System.Globalization;
using System.Text;
using Aspire.Hosting;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>
/// Memory of the whole system: the resident set (VmRSS) of every resource's process (the pid Aspire reports in its
/// snapshot, plus that process's children: a project runs as <c>dotnet run</c> → the app), and of everything this
/// process started (orchestrator included), at rest and at the peak of an end-to-end load.
/// </summary>
public static class MemoryBenchmark
{
    public sealed record Options(int Rate, int Seconds, int RestSeconds, int Tenants, int NumbersPerTenant, int Replicas, string OutputFile);

    public static async Task<int> RunAsync(Options options)
    {
        ThreadPool.SetMinThreads(200, 200);
        Console.WriteLine("Starting the system (AppHost on throw-away state) ...");
        await using var system = await RunningSystem.StartAsync($"--Crm:Replicas={options.Replicas}");
        var numbers = await EndToEndBenchmark.PrepareAsync(system, options.Tenants, options.NumbersPerTenant);

        Console.WriteLine($"At rest for {options.RestSeconds} s ...");
        await Task.Delay(TimeSpan.FromSeconds(options.RestSeconds));
        var resources = await ResourcePidsAsync(system.App);
        var atRest = Sample(resources);

        // Under load: sample every second while the end-to-end load runs, keep each process's peak.
        var peak = new Dictionary<string, (long TreePss, long Rss)>(atRest);
        var sampling = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!sampling.IsCancellationRequested)
            {
                foreach (var (name, now) in Sample(resources))
                {
                    var before = peak.GetValueOrDefault(name);
                    peak[name] = (Math.Max(before.TreePss, now.TreePss), Math.Max(before.Rss, now.Rss));
                }

                await Task.Delay(1000).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        });
        var outcome = await EndToEndBenchmark.LoadAsync(system, numbers, options.Rate, options.Seconds, 0, TimeSpan.FromSeconds(60));
        await sampling.CancelAsync();
        await sampler;
        var afterLoad = Sample(resources);

        var report = Report(options, resources, atRest, peak, afterLoad, outcome);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutputFile)!);
        await File.WriteAllTextAsync(options.OutputFile, report);
        Console.WriteLine($"Written to {options.OutputFile}");
        return 0;
    }

    /// <summary>The process id of every resource instance (replicas apart), from the orchestrator's snapshots.</summary>
    public static async Task<Dictionary<string, int>> ResourcePidsAsync(DistributedApplication app)
    {
        var pids = new Dictionary<string, int>();
        using var enough = new CancellationTokenSource(TimeSpan.FromSeconds(3));
        try
        {
            await foreach (var update in app.ResourceNotifications.WatchAsync(enough.Token))
            {
                var pid = update.Snapshot.Properties.FirstOrDefault(p => p.Name == "executable.pid")?.Value;
                if (pid is not null && int.TryParse(Convert.ToString(pid, CultureInfo.InvariantCulture), out var id))
                {
                    pids[update.ResourceId] = id;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return pids;
    }

    /// <summary>
    /// Per resource: the proportional set size (PSS, from /proc/&lt;pid&gt;/smaps_rollup) of its process and descendants,
    /// in KiB, and the VmRSS of its own process. PSS splits shared pages among the processes that share them, so the
    /// figures add up (Postgres's backends all map its shared buffers: their RSS summed would count them many times).
    /// </summary>
    private static Dictionary<string, (long TreePss, long Rss)> Sample(Dictionary<string, int> resources)
    {
        var parents = new Dictionary<int, int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), out var pid) && ParentOf(pid) is { } parent)
            {
                parents[pid] = parent;
            }
        }

        long Tree(int root) => parents.Keys.Where(pid => pid == root || Descends(pid, root, parents)).Sum(pid => Field(pid, "smaps_rollup", "Pss:"));
        var sample = resources.ToDictionary(r => r.Key, r => (Tree(r.Value), Field(r.Value, "status", "VmRSS:")));
        sample[ThisProcess] = (Field(Environment.ProcessId, "smaps_rollup", "Pss:"), Field(Environment.ProcessId, "status", "VmRSS:"));
        return sample;
    }

    private const string ThisProcess = "(the benchmark itself: loader + AppHost in process)";

    private static bool Descends(int pid, int ancestor, Dictionary<int, int> parents)
    {
        for (var depth = 0; depth < 64 && parents.TryGetValue(pid, out var parent) && parent > 1; depth++)
        {
            if (parent == ancestor)
            {
                return true;
            }

            pid = parent;
        }

        return false;
    }

    private static int? ParentOf(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // pid (comm) state ppid ...: comm may hold spaces and parentheses, so read after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or FormatException or ArgumentOutOfRangeException)
        {
            return null;
        }
    }

    private static long Field(int pid, string file, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/{file}").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }

    private static string Report(Options options, Dictionary<string, int> resources, Dictionary<string, (long TreePss, long Rss)> atRest,
        Dictionary<string, (long TreePss, long Rss)> peak, Dictionary<string, (long TreePss, long Rss)> afterLoad, EndToEndBenchmark.Outcome outcome)
    {
        static string Mb(long kb) => (kb / 1024.0).ToString("0", CultureInfo.InvariantCulture) + " MB";
        static string Cell((long TreePss, long Rss) v) => $"{Mb(v.TreePss)} ({Mb(v.Rss)})";
        var rows = new StringBuilder();
        var perResource = resources.Keys.Order(StringComparer.Ordinal).ToList();
        foreach (var name in perResource.Append(ThisProcess))
        {
            var label = name == ThisProcess ? name : $"{name} (pid {resources[name]})";
            rows.AppendLine(CultureInfo.InvariantCulture, $"| {label} | {Cell(atRest[name])} | {Cell(peak[name])} | {Cell(afterLoad[name])} |");
        }

        (long, long) Sum(Dictionary<string, (long TreePss, long Rss)> sample) => (perResource.Sum(n => sample[n].TreePss), perResource.Sum(n => sample[n].Rss));
        rows.AppendLine(CultureInfo.InvariantCulture, $"| **the system's resources together** | **{Cell(Sum(atRest))}** | **{Cell(Sum(peak))}** | **{Cell(Sum(afterLoad))}** |");
        return $"""
            # Memory of the whole system

            - When: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, on {Environment.ProcessorCount} cores, {options.Replicas} instance(s) per service.
            - Each cell: PSS of the resource's process and its children (a project runs as `dotnet run` → the app; Postgres as its
              postmaster and backends), and in brackets the VmRSS of the resource's own process (the pid in Aspire's snapshot).
              PSS shares out pages that processes share, so the figures add up; RSS would count Postgres's shared buffers once per backend.
            - At rest: {options.RestSeconds} s after start with {options.Tenants} tenants × {options.NumbersPerTenant} numbers set up. Under load: the peak of
              one-second samples during the end-to-end load at {options.Rate} messages/s for {options.Seconds} s (offline responder), and after it.
            - The load: {outcome.Answered} of {outcome.Sent} answered, p50 {EndToEndBenchmark.Percentile(outcome.Latencies, 0.5):0} ms, p99 {EndToEndBenchmark.Percentile(outcome.Latencies, 0.99):0} ms.
            - Not counted: the orchestrator (DCP) processes, which Aspire starts detached.

            | resource | at rest | peak under load | after the load |
            | --- | --- | --- | --- |
            {rows.ToString().TrimEnd()}

            """;
    }
}
