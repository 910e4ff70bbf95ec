using System.Globalization;
using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>The processes of a running system as the operating system sees them: threads, nice values, CPU groups, environment.</summary>
public sealed class SystemProcesses(SystemFixture system)
{
    /// <summary>The sessions of the system's Postgres server: its children titled "postgres: &lt;role&gt; &lt;database&gt; ...".</summary>
    public IEnumerable<(string Role, int Nice, int? GroupNice)> DatabaseSessions()
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
    public int ServicePid(string resource)
    {
        var pid = PidOf(resource);
        return Descendants(pid).Prepend(pid).Cast<int?>().FirstOrDefault(p => string.Equals(Command(p!.Value), resource, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No process of {resource} under pid {pid}.");
    }

    /// <summary>
    /// Whether this machine lets a process make a CPU group with an idle policy beside its own, found out by making one
    /// (and removing it), independently of the services' code.
    /// </summary>
    public static bool IdleCpuGroupsOffered()
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
    public static string? CpuGroupOf(int pid)
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
    public List<(string Name, int Nice)> ThreadNicesOf(string resource)
    {
        var service = ServicePid(resource);
        var threads = new List<(string Name, int Nice)>();
        foreach (var task in Directory.EnumerateDirectories($"/proc/{service}/task"))
        {
            try
            {
                // A thread's id names it under /proc too.
                var thread = int.Parse(Path.GetFileName(task), CultureInfo.InvariantCulture);
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
        return Convert.ToInt32(state.Snapshot.Properties.First(p => p.Name == "executable.pid").Value, CultureInfo.InvariantCulture);
    }

    // /proc/<pid>/stat: the 19th field is the nice value, the 4th the parent; the command name (2nd) is in parentheses and may hold spaces.
    private static string[] StatFields(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }

    private static int NiceOfPid(int pid) => int.Parse(StatFields(pid)[16], CultureInfo.InvariantCulture);

    /// <summary>The nice value of the process's session group ("/autogroup-N nice X"), or null where the kernel has no such groups.</summary>
    private static int? AutogroupNiceOf(int pid)
    {
        var path = $"/proc/{pid}/autogroup";
        if (!File.Exists(path))
        {
            return null;
        }

        var fields = File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return fields is [_, "nice", var nice] ? int.Parse(nice, CultureInfo.InvariantCulture) : null;
    }

    private static string ParentCommand(int pid) => Command(int.Parse(StatFields(pid)[1], CultureInfo.InvariantCulture));

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

    /// <summary>A variable of the environment the service's own process was started with, or null.</summary>
    public string? EnvironmentOf(string resource, string variable) =>
        File.ReadAllText($"/proc/{ServicePid(resource)}/environ").Split('\0')
            .Where(entry => entry.StartsWith(variable + "=", StringComparison.Ordinal)).Select(entry => entry[(variable.Length + 1)..]).FirstOrDefault();
}
