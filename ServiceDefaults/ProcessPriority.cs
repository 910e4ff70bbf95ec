using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Lowers this whole process's CPU priority. On Linux a nice value belongs to a thread, and
/// <see cref="Process.PriorityClass"/> sets only the main thread's: the thread-pool workers that do all of a
/// service's work kept competing at normal priority (measured: a consumer's 25 pool workers at nice 0, its main
/// thread at 10). So every thread is given the value, and threads started later inherit it from their creator.
/// At <see cref="ProcessPriorityClass.Idle"/> the process also joins the idle CPU group where the machine offers one
/// (<see cref="IdleCpuGroup"/>).
/// </summary>
internal static class ProcessPriority
{
    /// <summary>Where the process's CPU priority now comes from, for the start-up log.</summary>
    public static string Placement { get; private set; } = "the priority it was started with";

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

        Placement = $"nice {nice} on every thread";
        if (priority == ProcessPriorityClass.Idle)
        {
            Placement += IdleCpuGroup.TryJoin(out var detail) ? $", and the idle CPU group {detail}" : $"; no idle CPU group ({detail})";
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

/// <summary>Says once, at start, where the service's CPU priority comes from (the nice value, the idle CPU group).</summary>
internal sealed partial class ProcessPriorityReport(ILogger<ProcessPriorityReport> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        LogPlacement(logger, ProcessPriority.Placement);
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Information, Message = "CPU priority: {Placement}")]
    private static partial void LogPlacement(ILogger logger, string placement);
}
