using System.Net;
using System.Net.Sockets;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The ports every local server of a test run binds (Postgres, RabbitMQ, the services, the stand-ins). A port handed
/// out twice, or one an outgoing connection took first, made one system answer another's requests.
/// </summary>
public sealed class FreePortsTests
{
    [Fact]
    public void Ports_are_never_handed_out_twice_and_never_from_the_range_outgoing_connections_use()
    {
        // Far more than one test run draws: with the OS's port 0 this many repeat a few and all are ephemeral.
        var ports = Enumerable.Range(0, 2_000).Select(_ => FreePorts.Next()).ToList();

        Assert.Equal(ports.Count, ports.Distinct().Count());
        Assert.All(ports, port => Assert.InRange(port, 20_000, EphemeralStart() - 1));
    }

    [Fact]
    public void A_port_handed_out_is_free_to_bind()
    {
        var port = FreePorts.Next();

        using var listener = new TcpListener(IPAddress.Loopback, port);
        listener.Start();
        Assert.Equal(port, ((IPEndPoint)listener.LocalEndpoint).Port);
    }

    private static int EphemeralStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        return File.Exists(range) ? int.Parse(File.ReadAllText(range).Split('\t', ' ')[0]) : 32_768;
    }
}
