using System.Net;
using System.Net.Sockets;

namespace SafeNotify.Crm.AppHost.Infrastructure;

/// <summary>
/// TCP ports for local servers that bind them a moment after they are chosen (Postgres, RabbitMQ, the services'
/// direct endpoints, test stand-ins). Asking the OS for port 0 and closing the listener is not enough: the kernel may
/// hand the same port to the next such request, and any outgoing connection (hundreds, to Postgres and RabbitMQ) may
/// take it as its local port before the server binds it. Two systems booted at once then answered each other's
/// requests. So a port is drawn from below the kernel's ephemeral range, where outgoing connections never go, is
/// never handed out twice in one process, and is checked to be free when drawn.
/// </summary>
/// <remarks>Linked into tests/TestSupport as well, as <c>PostgresProvisioning.cs</c> is.</remarks>
internal static class FreePorts
{
    /// <summary>Above the well-known and usual registered servers' ports (Postgres 5432, RabbitMQ 5672 and 15672...).</summary>
    private const int Lowest = 20_000;

    private static readonly HashSet<int> HandedOut = [];
    private static readonly int EphemeralStart = ReadEphemeralStart();

    public static int Next()
    {
        lock (HandedOut)
        {
            for (var attempt = 0; attempt < 1_000; attempt++)
            {
                var port = Random.Shared.Next(Lowest, EphemeralStart);
                if (!HandedOut.Contains(port) && IsFree(port))
                {
                    HandedOut.Add(port);
                    return port;
                }
            }
        }

        throw new InvalidOperationException($"No free TCP port between {Lowest} and {EphemeralStart} after 1,000 tries.");
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>Linux says where its ephemeral range starts; elsewhere it is 49152 (IANA), and 32768 is safe for both.</summary>
    private static int ReadEphemeralStart()
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var start = File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries)[0], out var first)
            ? first
            : 32_768;
        // A machine configured with a very low range still gets a few thousand ports to draw from; the check catches the rest.
        return Math.Max(start, Lowest + 4_000);
    }
}
