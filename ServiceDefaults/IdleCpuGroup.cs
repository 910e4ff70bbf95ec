using System.Globalization;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// A control group whose CPU policy is idle (<c>cpu.idle = 1</c>, the group form of SCHED_IDLE): its threads run only
/// on a CPU that nothing else wants, and a thread of the webhook edge (the gateway, Ingress, their database sessions)
/// that wakes up takes the CPU from them at once. A nice value only weighs: the kernel let a running consumer finish
/// its time slice (about 1.4 ms here) before a woken thread of the edge ran, and a webhook wakes some twenty threads
/// on its way, so on a shared two-core machine the consumers still set the webhook's latency.
/// <para>
/// The group is a child, named <c>safenotify-idle</c>, of this process's own CPU group (cgroup v2, or v1's cpu
/// hierarchy), shared by every consumer service of the machine and left in place for the next start. Joining needs
/// write access to that hierarchy (root, or a delegated group); where it is missing or the kernel has no
/// <c>cpu.idle</c> (before Linux 5.15), the nice value is all there is. The consumers' database sessions keep a nice
/// value only (infra/postgres.sh): a session in the idle group that holds a lock Postgres shares between sessions
/// (the WAL's, a buffer's) would hold up the edge's commits until a CPU falls idle (measured: p99 350 ms).
/// </para>
/// </summary>
internal static class IdleCpuGroup
{
    public const string Name = "safenotify-idle";

    /// <summary>Moves this process (every thread; later ones inherit it) into the idle group: its path, or why not.</summary>
    public static bool TryJoin(out string detail)
    {
        detail = "no CPU control group hierarchy is mounted at /sys/fs/cgroup";
        foreach (var parent in OwnCpuGroups())
        {
            var group = Path.Combine(parent, Name);
            var existed = Directory.Exists(group);
            try
            {
                Directory.CreateDirectory(group);
                File.WriteAllText(Path.Combine(group, "cpu.idle"), "1");
                File.WriteAllText(Path.Combine(group, "cgroup.procs"), Environment.ProcessId.ToString(CultureInfo.InvariantCulture));
                detail = group;
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                detail = $"{group}: {ex.Message}";
                if (!existed && Directory.Exists(group))
                {
                    TryRemove(group); // made here and of no use (a group without the cpu controller): leave nothing behind
                }
            }
        }

        return false;
    }

    private static void TryRemove(string group)
    {
        try
        {
            Directory.Delete(group);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // another process joined it meanwhile
        }
    }

    /// <summary>
    /// The CPU groups this process is in, as directories: cgroup v2's (one hierarchy, "0::/path") where its root
    /// offers the cpu controller, and v1's cpu hierarchy ("N:cpu,cpuacct:/path", mounted by its controllers' names).
    /// </summary>
    private static IEnumerable<string> OwnCpuGroups()
    {
        const string root = "/sys/fs/cgroup";
        if (!File.Exists("/proc/self/cgroup"))
        {
            yield break;
        }

        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var fields = line.Split(':', 3);
            if (fields.Length != 3)
            {
                continue;
            }

            var path = fields[2].TrimStart('/');
            if (fields[1].Length == 0)
            {
                var controllers = Path.Combine(root, "cgroup.controllers");
                if (File.Exists(controllers) && File.ReadAllText(controllers).Split(' ', StringSplitOptions.TrimEntries).Contains("cpu"))
                {
                    yield return Path.Combine(root, path);
                }
            }
            else if (fields[1].Split(',').Contains("cpu") && Directory.Exists(Path.Combine(root, fields[1])))
            {
                yield return Path.Combine(root, fields[1], path);
            }
        }
    }
}
