using System.Diagnostics;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>The load schedule of the open-loop benchmarks: requests leave on time, whatever the system answers.</summary>
internal static class OpenLoop
{
    /// <summary>
    /// Sleeps until <paramref name="due"/> (a <see cref="Stopwatch"/> timestamp). Never spins: at 500 requests/s a
    /// loader that spins for the last milliseconds before each send keeps a whole core busy, taking it from the
    /// system it measures. A request may so leave up to one sleep tick (about 1 ms) late; its latency counts from
    /// <paramref name="due"/>, so that slack is charged to the system, never hidden.
    /// </summary>
    public static void WaitUntil(long due)
    {
        while (Stopwatch.GetTimestamp() < due)
        {
            Thread.Sleep(1);
        }
    }
}
