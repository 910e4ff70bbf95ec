using System.Collections.Concurrent;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace SafeNotify.Crm.EndToEnd.Tests.Faults;

/// <summary>
/// Customers of one number writing steadily while a fault strikes: each sends its next message a few seconds (2-4 s,
/// from a seeded generator) after the previous one was acknowledged, and plays Twilio's retry: a webhook that gets no
/// 2xx (a connection refused, a 5xx while a service or the database is down) is sent again with the same MessageSid.
/// Message n of a customer says "mensaje n", which the model stand-in's echo carries into the reply that answers it.
/// </summary>
public sealed partial class CustomerStream
{
    private readonly FaultFixture _system;
    private readonly string _number;
    private readonly Random _random;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<string, int> _written = new();
    private readonly List<Task> _customers = [];

    public CustomerStream(FaultFixture system, string number, int customers, int seed)
    {
        // The customers are new to the system: each test's seed draws numbers of its own.
        _system = system;
        _number = number;
        _random = new Random(seed);
        Customers = Enumerable.Range(0, customers).Select(_ => "+5732" + _random.Next(10_000_000, 99_999_999)).ToList();
    }

    public IReadOnlyList<string> Customers { get; }

    /// <summary>How many messages each customer has written (each acknowledged by the webhook).</summary>
    public IReadOnlyDictionary<string, int> Written => _written;

    public static string Text(int index) => $"Hola, sigo aquí: mensaje {index}";

    /// <summary>The customer message a reply answers, as the echo carries it; null for a reply that does not echo one.</summary>
    public static int? Answers(string? reply) => reply is not null && Echo().Match(reply) is { Success: true } match ? int.Parse(match.Groups[1].Value) : null;

    public void Start()
    {
        foreach (var customer in Customers)
        {
            // Each customer's own pauses, drawn up front so that the run does not depend on the tasks' timing.
            var pauses = Enumerable.Range(0, 200).Select(_ => TimeSpan.FromMilliseconds(_random.Next(2000, 4000))).ToList();
            _customers.Add(Task.Run(() => WriteAsync(customer, pauses)));
        }
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_customers);
    }

    /// <summary>Messages acknowledged whose reply has not reached Twilio yet: work in flight in the system right now.</summary>
    public async Task<int> UnansweredAsync()
    {
        var unanswered = 0;
        foreach (var customer in Customers)
        {
            var answered = (await RepliesAsync(customer)).Select(Answers).Max() ?? 0;
            unanswered += Math.Max(0, _written.GetValueOrDefault(customer) - answered);
        }

        return unanswered;
    }

    /// <summary>What Twilio got from our number for <paramref name="customer"/>, oldest first.</summary>
    public async Task<List<string>> RepliesAsync(string customer) =>
        (await _system.TwilioStandIn.GetFromJsonAsync<JsonArray>($"/_standin/messages?from={Uri.EscapeDataString(_number)}&to={Uri.EscapeDataString(customer)}"))!
        .OrderBy(m => m!["createdAt"]!.GetValue<DateTimeOffset>())
        .Select(m => m!["body"]!.GetValue<string>())
        .ToList();

    /// <summary>How many customer messages were on their way when the fault struck (<see cref="WaitForWorkInFlightAsync"/>).</summary>
    public int InFlightAtFault { get; private set; }

    /// <summary>Waits until some customer message is on its way (acknowledged, its reply not at Twilio yet).</summary>
    public async Task WaitForWorkInFlightAsync() =>
        InFlightAtFault = await TestSupport.Eventually.ReturnsAsync<int?>(async () => await UnansweredAsync() is > 0 and var count ? count : null,
            "a customer message on its way through the system", TimeSpan.FromSeconds(15)) ?? 0;

    private async Task WriteAsync(string customer, List<TimeSpan> pauses)
    {
        for (var index = 1; index <= pauses.Count && !_stop.IsCancellationRequested; index++)
        {
            await SendUntilAcknowledgedAsync(customer, index);
            _written[customer] = index;
            try
            {
                await Task.Delay(pauses[index - 1], _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>As Twilio does: a webhook not acknowledged with 2xx is sent again, with the same MessageSid.</summary>
    private async Task SendUntilAcknowledgedAsync(string customer, int index)
    {
        var messageSid = $"SM{Guid.NewGuid():N}";
        var deadline = DateTime.UtcNow + FaultFixture.RecoveryTimeout;
        while (true)
        {
            int status;
            try
            {
                (_, status) = await _system.SendAsCustomerAsync(customer, _number, Text(index), messageSid);
            }
            catch (HttpRequestException)
            {
                status = 0; // the stand-in could not reach the gateway: a connection failure, which Twilio retries
            }

            if (status is >= 200 and < 300)
            {
                return;
            }

            Assert.True(status is 0 or >= 500 or 429, $"A webhook was refused with {status}, which Twilio would not retry.");
            Assert.True(DateTime.UtcNow < deadline, $"The webhook of {customer}'s message {index} was never acknowledged.");
            await Task.Delay(500);
        }
    }

    [GeneratedRegex(@"mensaje (\d+)\s*$")]
    private static partial Regex Echo();
}
