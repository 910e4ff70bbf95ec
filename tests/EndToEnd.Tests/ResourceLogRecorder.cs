using System.Collections.Concurrent;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Logging;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Keeps the most recent console lines of every resource (the AppHost forwards them as log entries), so a test that
/// fails on a machine nobody can log into says what the servers and services were complaining about at the time.
/// </summary>
public sealed partial class ResourceLogRecorder : ILoggerProvider
{
    private const string ResourceCategoryPrefix = "AppHost.Resources.";
    private const int Capacity = 20_000;
    private readonly ConcurrentQueue<Line> _lines = new();

    public ILogger CreateLogger(string categoryName) =>
        categoryName.StartsWith(ResourceCategoryPrefix, StringComparison.Ordinal)
            ? new Recorder(this, categoryName[ResourceCategoryPrefix.Length..])
            : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

    /// <summary>
    /// The troubled lines since a moment, oldest first: warnings, errors, process starts and exits. Stack frames are
    /// left out and a line repeated by the same resource is shown once, with its count.
    /// </summary>
    public string Troubles(DateTime sinceUtc, int maxLines = 150)
    {
        var lines = _lines
            .Where(l => l.AtUtc >= sinceUtc)
            .Select(l => l with { Text = Plain(l.Text) })
            .Where(l => (l.Level >= LogLevel.Warning || Trouble().IsMatch(l.Text)) && !StackFrame().IsMatch(l.Text))
            .GroupBy(l => (l.Resource, l.Text))
            .Select(g => $"{g.First().AtUtc:HH:mm:ss.fff} {g.Key.Resource}: {Shorten(g.Key.Text)}{(g.Count() > 1 ? $" (x{g.Count()})" : "")}")
            .ToList();
        return string.Join('\n', lines.Skip(Math.Max(0, lines.Count - maxLines)));
    }

    /// <summary>Without colour codes and without the console line's own number and timestamp.</summary>
    private static string Plain(string text) => ConsolePrefix().Replace(AnsiCodes().Replace(text, ""), "").Trim();

    private static string Shorten(string text) => text.Length > 300 ? text[..300] : text;

    public void Dispose()
    {
    }

    private void Record(string resource, LogLevel level, string text)
    {
        _lines.Enqueue(new Line(DateTime.UtcNow, resource, level, text));
        while (_lines.Count > Capacity && _lines.TryDequeue(out _))
        {
        }
    }

    [GeneratedRegex(@"warn|fail|error|exception|crit|Starting process|Executing command|exited|previous server", RegexOptions.IgnoreCase)]
    private static partial Regex Trouble();

    [GeneratedRegex(@"^(at |--- End of)")]
    private static partial Regex StackFrame();

    [GeneratedRegex(@"\x1B\[[0-9;]*m")]
    private static partial Regex AnsiCodes();

    [GeneratedRegex(@"^\d+: \d{4}-\d\d-\d\dT[0-9:.]+Z\s?")]
    private static partial Regex ConsolePrefix();

    private sealed record Line(DateTime AtUtc, string Resource, LogLevel Level, string Text);

    private sealed class Recorder(ResourceLogRecorder owner, string resource) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Record(resource, logLevel, formatter(state, exception));
    }
}
