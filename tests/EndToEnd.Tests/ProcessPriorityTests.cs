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
    public void Consumer_services_yield_the_cpu_to_the_webhook_edge()
    {
        var nice = ResourceNames.Services.Prepend(ResourceNames.Gateway).ToDictionary(name => name, NiceOf);

        Assert.Equal(0, nice[ResourceNames.Gateway]);
        Assert.Equal(0, nice[ResourceNames.Ingress]);
        foreach (var consumer in new[] { ResourceNames.Routing, ResourceNames.Agent, ResourceNames.Lead, ResourceNames.Metrics })
        {
            Assert.True(nice[consumer] > 0, $"{consumer} runs at nice {nice[consumer]}, not below normal priority");
        }
    }

    /// <summary>The nice value of the service's own process (the resource's process may be a launcher whose child it is).</summary>
    private int NiceOf(string resource)
    {
        Assert.True(system.App.ResourceNotifications.TryGetCurrentState(resource, out var state), $"{resource} is not running");
        var pid = Convert.ToInt32(state.Snapshot.Properties.First(p => p.Name == "executable.pid").Value, System.Globalization.CultureInfo.InvariantCulture);
        var service = Descendants(pid).Prepend(pid).Cast<int?>().FirstOrDefault(p => string.Equals(Command(p!.Value), resource, StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidOperationException($"No process of {resource} under pid {pid}.");
        // /proc/<pid>/stat: the 19th field is the nice value; the command name (2nd) is in parentheses and may hold spaces.
        var stat = File.ReadAllText($"/proc/{service}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return int.Parse(fields[16], System.Globalization.CultureInfo.InvariantCulture);
    }

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
