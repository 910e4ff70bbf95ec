using System.Diagnostics;
using System.Text;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.TestSupport;

/// <summary>
/// A server started from one of <c>AppHost/infra/*.sh</c> in a throw-away folder, stopped when disposed
/// (or when the test process exits). Its output is kept for failure messages.
/// </summary>
public abstract class ServerProcess : IAsyncDisposable
{
    private static readonly List<ServerProcess> Running = [];
    private readonly StringBuilder _output = new();
    private Process? _process;

    static ServerProcess()
    {
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            lock (Running)
            {
                // Often not reached: vstest kills a test host that does not exit at once. The scripts' watcher
                // then stops the server and removes its folder when it sees this process gone.
                foreach (var server in Running.ToList())
                {
                    server.SignalGroup(Sigterm);
                }
            }
        };
    }

    protected ServerProcess(string name)
    {
        // Traversable by the 'postgres' user the scripts drop to when run as root; readable by the owner only.
        StateDirectory = Directory.CreateTempSubdirectory($"safenotify-{name}-").FullName;
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(StateDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
                | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
        }

        Port = FreePorts.Next();
    }

    public string StateDirectory { get; }
    public int Port { get; }
    public string Output { get { lock (_output) { return _output.ToString(); } } }

    protected abstract string Script { get; }
    protected abstract IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>True once the server answers its protocol.</summary>
    protected abstract Task<bool> IsReadyAsync(CancellationToken cancellationToken);

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        // A session of its own: the whole tree (RabbitMQ's shell, subshell and Erlang VM) is one process group to signal.
        var start = new ProcessStartInfo("setsid", ["bash", Repository.InfraScript(Script)])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (key, value) in Environment)
        {
            start.Environment[key] = value;
        }

        // The script stops the server should this process die without stopping it (vstest kills test hosts).
        start.Environment["SAFENOTIFY_PARENT_PID"] = System.Environment.ProcessId.ToString();
        start.Environment["SAFENOTIFY_DELETE_ON_EXIT"] = StateDirectory;

        _process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Script}");
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        lock (Running)
        {
            Running.Add(this);
        }

        using var deadline = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        while (!await IsReadyAsync(deadline.Token))
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"{Script} exited with {_process.ExitCode}:\n{Output}");
            }

            if (deadline.IsCancellationRequested)
            {
                throw new TimeoutException($"{Script} did not become ready:\n{Output}");
            }

            await Task.Delay(100, CancellationToken.None);
        }
    }

    /// <summary>Stops the server the way an operator or a crash would: SIGTERM, then SIGKILL after a grace period.</summary>
    public async Task StopAsync()
    {
        if (_process is null)
        {
            return;
        }

        if (!_process.HasExited)
        {
            SignalGroup(Sigterm);
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            try
            {
                await _process.WaitForExitAsync(grace.Token);
            }
            catch (OperationCanceledException)
            {
                // it did not stop in time: the SIGKILL below ends it
            }
        }

        Kill(); // anything of the group still around after the script ended
        lock (Running)
        {
            Running.Remove(this);
        }
    }

    public virtual async ValueTask DisposeAsync()
    {
        await StopAsync();
        DeleteState();
        GC.SuppressFinalize(this);
    }

    private void DeleteState()
    {
        try
        {
            Directory.Delete(StateDirectory, recursive: true);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // a file still held open by a dying process: the temp folder is cleaned by the OS eventually
        }
    }

    protected void Kill() => SignalGroup(Sigkill);

    private const int Sigterm = 15;
    private const int Sigkill = 9;

    private void SignalGroup(int signal)
    {
        if (_process is { } process)
        {
            _ = SendSignal(-process.Id, signal); // a negative pid signals the process group
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            if (_output.Length < 200_000)
            {
                _output.AppendLine(line);
            }
        }
    }
}
