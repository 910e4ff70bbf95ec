using Aspire.Hosting.ApplicationModel;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// On a machine out of CPU the edge that acknowledges Twilio keeps its share: the services that only consume events run
/// below normal priority (a higher nice value), Ingress and the gateway at the normal one.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ProcessPriorityTests(SystemFixture system)
{
    [Fact]
    public void Consumer_services_yield_the_cpu_to_the_webhook_edge_on_every_thread()
    {
        // On Linux a nice value is a thread's: the thread-pool workers doing a service's work must have it, not only
        // the main thread (setting the process's priority class alone lowered just that one).
        var threads = ResourceNames.Services.Prepend(ResourceNames.Gateway).ToDictionary(name => name, ThreadNicesOf);

        Assert.All(threads[ResourceNames.Gateway], thread => Assert.Equal(0, thread.Nice));
        Assert.All(threads[ResourceNames.Ingress], thread => Assert.Equal(0, thread.Nice));
        foreach (var consumer in new[] { ResourceNames.Routing, ResourceNames.Agent, ResourceNames.Lead, ResourceNames.Metrics })
        {
            Assert.Contains(threads[consumer], thread => thread.Name.StartsWith(".NET TP Worker", StringComparison.Ordinal));
            Assert.All(threads[consumer], thread => Assert.True(thread.Nice > 0,
                $"{consumer}'s thread {thread.Name} runs at nice {thread.Nice}, not below normal priority"));
        }
    }

    [SkippableFact]
    public void Where_the_machine_offers_an_idle_cpu_group_the_consumer_services_run_in_it_and_the_edge_does_not()
    {
        // A nice value only weighs: a woken thread of the edge still waited for a running consumer's time slice. In a
        // group whose CPU policy is idle, the consumers run only on a CPU nothing else wants.
        Skip.IfNot(IdleCpuGroupsOffered(), "this machine has no writable cgroup cpu hierarchy with cpu.idle: the nice values are all there is");

        foreach (var consumer in ResourceNames.Consumers)
        {
            var group = CpuGroupOf(ServicePid(consumer));
            Assert.True(group is not null && Path.GetFileName(group) == "safenotify-idle", $"{consumer} runs in the CPU group {group}");
            Assert.Equal("1", File.ReadAllText(Path.Combine(group!, "cpu.idle")).Trim());
        }

        foreach (var edge in new[] { ResourceNames.Gateway, ResourceNames.Ingress })
        {
            var group = CpuGroupOf(ServicePid(edge));
            Assert.True(group is null || !File.Exists(Path.Combine(group, "cpu.idle")) || File.ReadAllText(Path.Combine(group, "cpu.idle")).Trim() == "0",
                $"{edge} runs in the idle CPU group {group}");
        }
    }

    [Fact]
    public async Task The_consumer_services_database_sessions_yield_the_cpu_too_and_the_edges_do_not()
    {
        // Every service holds pooled connections by now (each has consumed, or at least polled its outbox); the
        // server lowers a new session's priority within a second.
        // Where the kernel shares the CPU between session groups first (autogroup), each session is a group of its
        // own, so the group's nice value must be lowered too: the session's alone changes nothing between groups.
        var sessions = new Dictionary<string, List<(int Nice, int? GroupNice)>>();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        do
        {
            await Task.Delay(500);
            sessions = DatabaseSessions().GroupBy(s => s.Role).ToDictionary(g => g.Key, g => g.Select(s => (s.Nice, s.GroupNice)).ToList());
        }
        while (DateTime.UtcNow < deadline
            && !ResourceNames.Consumers.All(c => sessions.TryGetValue(c, out var n) && n.All(v => v.Nice > 0 && v.GroupNice is null or > 0)));

        Assert.True(sessions.TryGetValue(ResourceNames.Ingress, out var ingress), "Ingress has no database session");
        Assert.All(ingress, value => Assert.Equal((0, value.GroupNice is null ? null : 0), value));
        foreach (var consumer in ResourceNames.Consumers)
        {
            Assert.True(sessions.TryGetValue(consumer, out var values), $"{consumer} has no database session");
            Assert.All(values, value => Assert.True(value.Nice > 0, $"a session of {consumer} runs at nice {value.Nice}"));
            Assert.All(values, value => Assert.True(value.GroupNice is null or > 0, $"a session of {consumer} is in a session group at nice {value.GroupNice}"));
        }
    }

    /// <summary>The sessions of the system's Postgres server: its children titled "postgres: &lt;role&gt; &lt;database&gt; ...".</summary>
    private IEnumerable<(string Role, int Nice, int? GroupNice)> DatabaseSessions()
    {
        var server = Descendants(PidOf(ResourceNames.Postgres)).First(pid => Command(pid) == "postgres" && ParentCommand(pid) != "postgres");
        foreach (var session in Descendants(server))
        {
            var title = File.ReadAllText($"/proc/{session}/cmdline").Split('\0')[0].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (title is ["postgres:", var role, _, ..] && ResourceNames.Services.Contains(role))
            {
                yield return (role, NiceOfPid(session), AutogroupNiceOf(session));
            }
        }
    }

    /// <summary>The service's own process (the resource's process may be a launcher whose child it is).</summary>
    private int ServicePid(string resource)
    {
        var pid = PidOf(resource);
        return Descendants(pid).Prepend(pid).Cast<int?>().FirstOrDefault(p => string.Equals(Command(p!.Value), resource, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No process of {resource} under pid {pid}.");
    }

    /// <summary>
    /// Whether this machine lets a process make a CPU group with an idle policy beside its own, found out by making one
    /// (and removing it), independently of the services' code.
    /// </summary>
    private static bool IdleCpuGroupsOffered()
    {
        if (CpuGroupOf(Environment.ProcessId) is not { } own)
        {
            return false;
        }

        var probe = Path.Combine(own, "probe-" + Guid.NewGuid().ToString("N")[..8]);
        try
        {
            Directory.CreateDirectory(probe);
            File.WriteAllText(Path.Combine(probe, "cpu.idle"), "1");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
        finally
        {
            try
            {
                Directory.Delete(probe);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // never made
            }
        }
    }

    /// <summary>The directory of the CPU control group of a process: cgroup v2's where its root has the cpu controller, else v1's cpu hierarchy.</summary>
    private static string? CpuGroupOf(int pid)
    {
        const string root = "/sys/fs/cgroup";
        foreach (var line in File.ReadAllLines($"/proc/{pid}/cgroup"))
        {
            var fields = line.Split(':', 3);
            var path = fields[2].TrimStart('/');
            if (fields[1].Length == 0 && File.Exists($"{root}/cgroup.controllers") && File.ReadAllText($"{root}/cgroup.controllers").Split(' ', StringSplitOptions.TrimEntries).Contains("cpu"))
            {
                return Path.Combine(root, path);
            }

            if (fields[1].Split(',').Contains("cpu") && Directory.Exists(Path.Combine(root, fields[1])))
            {
                return Path.Combine(root, fields[1], path);
            }
        }

        return null;
    }

    /// <summary>The nice value of every thread of the service's own process.</summary>
    private List<(string Name, int Nice)> ThreadNicesOf(string resource)
    {
        var service = ServicePid(resource);
        var threads = new List<(string Name, int Nice)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{service}/task"))
        {
            try
            {
                // A thread's id names it under /proc too.
                var thread = int.Parse(Path.GetFileName(task), System.Globalization.CultureInfo.InvariantCulture);
                threads.Add((Command(thread), NiceOfPid(thread)));
            }
            catch (IOException)
            {
                // the thread ended meanwhile
            }
        }

        return threads;
    }

    private int PidOf(string resource)
    {
        Assert.True(system.App.ResourceNotifications.TryGetCurrentState(resource, out var state), $"{resource} is not running");
        return Convert.ToInt32(state.Snapshot.Properties.First(p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    // /proc/<pid>/stat: the 19th field is the nice value, the 4th the parent; the command name (2nd) is in parentheses and may hold spaces.
    private static string[] StatFields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static int NiceOfPid(int pid) => int.Parse(StatFields(pid)[16], System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The nice value of the process's session group ("/autogroup-N nice X"), or null where the kernel has no such groups.</summary>
    private static int? AutogroupNiceOf(int pid)
    {
        var path = $"/proc/{pid}/autogroup";
        if (!File.Exists(path))
        {
            return null;
        }

        var fields = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields is [_, "nice", var nice] ? int.Parse(nice, System.Globalization.CultureInfo.InvariantCulture) : null;
    }

    private static string ParentCommand(int pid) => Command(int.Parse(StatFields(pid)[1], System.Globalization.CultureInfo.InvariantCulture));

    private static string Command(int pid) => File.ReadAllText($"/proc/{pid}/comm").Trim();

    private static IEnumerable<int> Descendants(int pid)
    {
        foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
        {
            var children = File.Exists(Path.Combine(task, "children")) ? File.ReadAllText(Path.Combine(task, "children")) : "";
            foreach (var child in children.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse))
            {
                yield return child;
                foreach (var grandchild in Descendants(child))
                {
                    yield return grandchild;
                }
            }
        }
    }
}
