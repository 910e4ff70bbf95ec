using SafeNotify.Crm.AppHost;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Without the tuning switches (the default, for <c>./run.sh</c>, the tests and a deployment) every process runs as .NET
/// and the operating system run it: every thread and every database session at the normal priority, in no CPU group of
/// ours, with .NET's own garbage collector and thread-pool settings.
/// </summary>
[Collection(SystemCollection.Name)]
public sealed class ProcessPriorityTests(SystemFixture system)
{
    private readonly SystemProcesses _processes = new(system);

    [Fact]
    public async Task Without_the_switch_every_thread_and_database_session_of_every_service_runs_at_normal_priority_in_no_idle_group()
    {
        foreach (var service in ResourceNames.Services.Prepend(ResourceNames.Gateway))
        {
            Assert.All(_processes.ThreadNicesOf(service), thread => Assert.True(thread.Nice == 0, $"{service}'s thread {thread.Name} runs at nice {thread.Nice}"));
            var group = SystemProcesses.CpuGroupOf(_processes.ServicePid(service));
            Assert.True(group is null || Path.GetFileName(group) != "safenotify-idle", $"{service} runs in the CPU group {group}");
        }

        // Every service holds pooled connections by now (each has at least polled its outbox).
        var sessions = await TestSupport.Eventually.ReturnsAsync(() => Task.FromResult<List<(string Role, int Nice, int? GroupNice)>?>(
                _processes.DatabaseSessions().ToList() is var all && ResourceNames.Services.All(s => all.Any(a => a.Role == s)) ? all : null),
            "a database session of every service");
        Assert.All(sessions, session => Assert.True(session.Nice == 0 && session.GroupNice is null or 0,
            $"a session of {session.Role} runs at nice {session.Nice} (its group at {session.GroupNice})"));
    }

    [Fact]
    public void Without_the_switch_the_services_keep_dotnets_own_garbage_collector_and_thread_pool_settings()
    {
        foreach (var service in ResourceNames.Services.Prepend(ResourceNames.Gateway))
        {
            Assert.Null(_processes.EnvironmentOf(service, "DOTNET_gcServer"));
            Assert.Null(_processes.EnvironmentOf(service, "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"));
        }
    }

    [Fact]
    public void By_default_every_process_keeps_every_trace_and_follows_the_decision_of_the_traces_first_span()
    {
        foreach (var service in ResourceNames.Services.Prepend(ResourceNames.Gateway))
        {
            Assert.Equal("parentbased_traceidratio", _processes.EnvironmentOf(service, "OTEL_TRACES_SAMPLER"));
            Assert.Equal("1", _processes.EnvironmentOf(service, "OTEL_TRACES_SAMPLER_ARG"));
        }
    }
}

/// <summary>The whole system with both tuning switches on (<c>Crm__Tuning__SmallMachine</c>, <c>Crm__Tuning__ProcessPriority</c>).</summary>
public sealed class TunedSystemFixture : SystemFixture
{
    protected override int ConsoleInstances => 1;

    protected override IEnumerable<string> Arguments => ["--Crm:Tuning:SmallMachine=true", "--Crm:Tuning:ProcessPriority=true"];
}

/// <summary>Runs alone, after the parallel collections: two whole systems at once would only slow each other down.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TunedSystemCollection : ICollectionFixture<TunedSystemFixture>
{
    public const string Name = "the whole system tuned for a small machine";
}

/// <summary>
/// With the switches on, on a machine out of CPU the edge that acknowledges Twilio keeps its share: the services that
/// only consume events run below normal priority (a higher nice value), Ingress and the gateway at the normal one; and
/// every process runs the workstation GC with thread-pool workers that do not spin.
/// </summary>
[Collection(TunedSystemCollection.Name)]
public sealed class TunedProcessPriorityTests(TunedSystemFixture system)
{
    private readonly SystemProcesses _processes = new(system);

    [Fact]
    public void Consumer_services_yield_the_cpu_to_the_webhook_edge_on_every_thread()
    {
        // On Linux a nice value is a thread's: the thread-pool workers doing a service's work must have it, not only
        // the main thread (setting the process's priority class alone lowered just that one).
        var threads = ResourceNames.Services.Prepend(ResourceNames.Gateway).ToDictionary(name => name, _processes.ThreadNicesOf);

        Assert.All(threads[ResourceNames.Gateway], thread => Assert.Equal(0, thread.Nice));
        Assert.All(threads[ResourceNames.Ingress], thread => Assert.Equal(0, thread.Nice));
        foreach (var consumer in ResourceNames.Consumers)
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
        Skip.IfNot(SystemProcesses.IdleCpuGroupsOffered(), "this machine has no writable cgroup cpu hierarchy with cpu.idle: the nice values are all there is");

        foreach (var consumer in ResourceNames.Consumers)
        {
            var group = SystemProcesses.CpuGroupOf(_processes.ServicePid(consumer));
            Assert.True(group is not null && Path.GetFileName(group) == "safenotify-idle", $"{consumer} runs in the CPU group {group}");
            Assert.Equal("1", File.ReadAllText(Path.Combine(group!, "cpu.idle")).Trim());
        }

        foreach (var edge in new[] { ResourceNames.Gateway, ResourceNames.Ingress })
        {
            var group = SystemProcesses.CpuGroupOf(_processes.ServicePid(edge));
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
            sessions = _processes.DatabaseSessions().GroupBy(s => s.Role).ToDictionary(g => g.Key, g => g.Select(s => (s.Nice, s.GroupNice)).ToList());
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

    [Fact]
    public void Every_process_runs_the_workstation_gc_and_thread_pool_workers_that_do_not_spin()
    {
        foreach (var service in ResourceNames.Services.Prepend(ResourceNames.Gateway))
        {
            Assert.Equal("0", _processes.EnvironmentOf(service, "DOTNET_gcServer"));
            Assert.Equal("0", _processes.EnvironmentOf(service, "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit"));
        }
    }
}
