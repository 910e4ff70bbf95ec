using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Lowers this whole process's CPU priority. On Linux a nice value belongs to a thread, and
/// <see cref="Process.PriorityClass"/> sets only the main thread's: the thread-pool workers that do all of a
/// service's work kept competing at normal priority (measured: a consumer's 25 pool workers at nice 0, its main
/// thread at 10). So every thread is given the value, and threads started later inherit it from their creator.
/// </summary>
internal static class ProcessPriority
{
    public static void Apply(ProcessPriorityClass priority)
    {
        using (var process = Process.GetCurrentProcess())
        {
            process.PriorityClass = priority; // the whole process elsewhere; the main thread on Linux
        }

        if (!OperatingSystem.IsLinux() || NiceOf(priority) is not { } nice)
        {
            return;
        }

        // A thread started during a pass by a thread not yet reniced is found by the next pass; threads started
        // after the last pass are all started by reniced threads.
        var pass = 0;
        while (RenicedThreads(nice) > 0 && ++pass < 5)
        {
            // another pass: the last one changed something, so a thread may have started meanwhile
        }
    }

    /// <summary>The nice value .NET gives the class on Unix; only lowering is done here (raising needs privileges).</summary>
    private static int? NiceOf(ProcessPriorityClass priority) => priority switch
    {
        ProcessPriorityClass.Idle => 19,
        ProcessPriorityClass.BelowNormal => 10,
        _ => null,
    };

    private static int RenicedThreads(int nice)
    {
        var changed = 0;
        foreach (var task in Directory.EnumerateDirectories("/proc/self/task"))
        {
            if (int.TryParse(Path.GetFileName(task), NumberStyles.None, CultureInfo.InvariantCulture, out var threadId)
                && NiceOfThread(task) is { } current && current < nice
                && SetPriority(PriorityProcess, threadId, nice) == 0)
            {
                changed++;
            }
        }

        return changed;
    }

    /// <summary>The thread's nice value: the 19th field of its stat line, counted after the parenthesised name (which may hold spaces).</summary>
    private static int? NiceOfThread(string task)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return int.Parse(fields[16], CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
            return null; // the thread ended meanwhile
        }
    }

    private const int PriorityProcess = 0; // PRIO_PROCESS: with a thread id, that one thread

    [DllImport("libc", EntryPoint = "setpriority", SetLastError = true)]
    private static extern int SetPriority(int which, int who, int prio);
}
