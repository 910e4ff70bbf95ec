using System.Diagnostics;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>The load schedule of the open-loop benchmarks: requests leave on time, whatever the system answers.</summary>
internal static class OpenLoop
{
    /// <summary>Sleeps until close to <paramref name="due"/> (a <see cref="Stopwatch"/> timestamp), then spins: the schedule must not drift under load.</summary>
    public static void WaitUntil(long due)
    {
        while (true)
        {
            var remaining = (due - Stopwatch.GetTimestamp()) * 1000.0 / Stopwatch.Frequency;
            if (remaining <= 0)
            {
                return;
            }

            if (remaining > 2)
            {
                Thread.Sleep(1);
            }
            else
            {
                Thread.SpinWait(50);
            }
        }
    }
}
