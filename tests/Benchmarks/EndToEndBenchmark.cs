using Aspire.Hosting.Testing;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>
/// End to end, from the webhook to the Twilio stand-in receiving the reply: signed webhooks at a fixed rate (open
/// loop) spread over tenants × numbers × customers, every number answering with its agent, and the reply to each
/// message found among the stand-in's sent messages. The latency of a message runs from its scheduled send to the
/// first reply the stand-in received for its (number, customer) after it was sent. Customers are many enough that
/// each writes again only after the customer spacing (<see cref="CustomerSpacingSeconds"/> unless asked otherwise),
/// far longer than a reply takes, so a reply is never credited to the next message of its customer. A spacing longer
/// than the run has every customer write once, so every message gets a reply of its own however late: two versions
/// then do the same work, which compares their CPU per message when one of them lags.
/// </summary>
public static class EndToEndBenchmark
{
    public const int CustomerSpacingSeconds = 15;

    public sealed record Options(int Rate, int Seconds, int WarmupSeconds, int Tenants, int NumbersPerTenant, int? ModelLatencyMs, int Replicas, string OutputFile,
        IReadOnlyList<string> Tuning, int CustomerSpacing = CustomerSpacingSeconds, double TraceSampleRatio = 1.0,
        int? ConcurrentUnitsOfWork = null);

    public sealed record Outcome(int Sent, int Failed, int Answered, double Elapsed, double[] Latencies, IReadOnlyList<(int Second, double P50, double P99, int Answered, int Sent)> Windows,
        double? LastReplyLagSeconds, TimeSpan DrainTime)
    {
        /// <summary>When the first webhook was due.</summary>
        public DateTimeOffset StartedAt { get; init; }

        /// <summary>
        /// Every message the Twilio stand-in received once the system was quiet: a reply that covers several messages of
        /// its customer counts once, so this says how much sending the run took.
        /// </summary>
        public int RepliesSent { get; init; }
    }

    private static async Task<int> RepliesSentAsync(RunningSystem system, DateTimeOffset since)
    {
        using var standIn = system.App.CreateHttpClient(ResourceNames.TwilioStandIn);
        return (await standIn.GetFromJsonAsync<JsonArray>($"/_standin/messages?since={Uri.EscapeDataString(since.AddSeconds(-1).ToString("o", CultureInfo.InvariantCulture))}"))!.Count;
    }

    public static async Task<int> RunAsync(Options options)
    {
        ThreadPool.SetMinThreads(200, 200);
        await using var model = options.ModelLatencyMs is { } latency ? await ModelForBenchmark.StartAsync(latency) : null;
        Console.WriteLine($"Starting the system (AppHost on throw-away state{(model is null ? ", offline responder" : $", model stand-in at {options.ModelLatencyMs} ms")}, {options.Replicas} instance(s) per service) ...");
        await using var system = await RunningSystem.StartAsync([.. model?.AppHostArguments ?? [], $"--Crm:Replicas={options.Replicas}",
            $"--Crm:Telemetry:TraceSampleRatio={options.TraceSampleRatio.ToString(CultureInfo.InvariantCulture)}",
            .. options.ConcurrentUnitsOfWork is { } units ? [$"--Crm:ConcurrentUnitsOfWork={units}"] : Array.Empty<string>(),
            .. options.Tuning.Select(name => $"--Crm:Tuning:{name}=true")]);
        var numbers = await PrepareAsync(system, options.Tenants, options.NumbersPerTenant);
        // CPU from the first webhook until every reply has arrived and every outbox and queue is empty.
        var resources = await MemoryBenchmark.ResourcePidsAsync(system.App);
        var cpuBefore = ProcessCpu.Sample(resources);
        var run = Stopwatch.StartNew();
        var outcome = await LoadAsync(system, numbers, options.Rate, options.WarmupSeconds + options.Seconds, options.WarmupSeconds, TimeSpan.FromSeconds(120),
            customerSpacing: options.CustomerSpacing);
        var quiet = await WaitQuietAsync(system, TimeSpan.FromMinutes(2));
        var cpu = new CpuUse(ProcessCpu.Sample(resources).Since(cpuBefore), run.Elapsed, quiet);
        var report = Report(options, numbers.Count, outcome with { RepliesSent = await RepliesSentAsync(system, outcome.StartedAt) }, cpu);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutputFile)!);
        await File.WriteAllTextAsync(options.OutputFile, report);
        Console.WriteLine($"Written to {options.OutputFile}");
        return outcome.Failed == 0 && outcome.Answered == outcome.Sent ? 0 : 1;
    }

    /// <summary><paramref name="tenants"/> tenants with an agent and <paramref name="numbersPerTenant"/> numbers each, always open, answering.</summary>
    public static async Task<IReadOnlyList<string>> PrepareAsync(RunningSystem system, int tenants, int numbersPerTenant)
    {
        var numbers = new List<string>();
        for (var t = 0; t < tenants; t++)
        {
            var tenant = await system.CallAsync(HttpMethod.Post, "/api/admin/tenants", RunningSystem.OperatorKey,
                new { safeNotifyUserId = "bench-" + Guid.NewGuid().ToString("N")[..8], name = $"Benchmark {t + 1}", crmPlan = "enterprise" });
            var key = tenant["apiKey"]!.GetValue<string>();
            var agent = await system.CallAsync(HttpMethod.Post, "/api/agents", key, new
            {
                name = "Recepción", personalityPrompt = "Amable.", businessPrompt = "Negocio de prueba.", objectivesPrompt = "Atender.",
                // The bot books by itself: an agent that cannot would hand every customer to a person after the first
                // message ("quiero una cita"), and the bot, rightly, would not answer that customer again.
                businessRules = new { canScheduleAppointments = true },
            });
            for (var n = 0; n < numbersPerTenant; n++)
            {
                var number = "+5760" + Random.Shared.Next(10_000_000, 99_999_999).ToString(CultureInfo.InvariantCulture);
                await system.CallAsync(HttpMethod.Post, "/api/numbers", key, new
                {
                    phoneNumber = number, displayName = $"Línea {n + 1}", defaultAgentId = agent["id"]!.GetValue<string>(),
                });
                numbers.Add(number);
            }
        }

        return numbers;
    }

    /// <summary>Sends <paramref name="rate"/> webhooks a second for <paramref name="seconds"/> and matches every message with its reply.</summary>
    public static async Task<Outcome> LoadAsync(RunningSystem system, IReadOnlyList<string> numbers, int rate, int seconds, int warmupSeconds, TimeSpan drainTimeout,
        Action<int>? everySecond = null, int customerSpacing = CustomerSpacingSeconds)
    {
        var total = rate * seconds;
        var customersPerNumber = Math.Max(4, rate * customerSpacing / numbers.Count);
        var publicBase = system.Gateway.BaseAddress!.ToString().TrimEnd('/');
        var messages = Enumerable.Range(0, total).Select(i =>
        {
            var number = numbers[i % numbers.Count];
            var customer = "+5731" + (10_000_000 + (i / numbers.Count) % customersPerNumber + 1000 * (i % numbers.Count)).ToString(CultureInfo.InvariantCulture);
            var form = TwilioSigner.InboundForm(system.AccountSid, customer, number, $"Hola, quiero una cita ({i})");
            var body = string.Join("&", form.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
            return (Number: number, Customer: customer, Body: body, Signature: TwilioSigner.Sign(system.AuthToken, publicBase + "/webhooks/twilio/whatsapp", form));
        }).ToArray();

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = system.Gateway.BaseAddress,
            Timeout = TimeSpan.FromSeconds(30),
        };
        using var standIn = system.App.CreateHttpClient(ResourceNames.TwilioStandIn);

        Console.WriteLine($"Sending {total} webhooks at {rate}/s over {numbers.Count} numbers × {customersPerNumber} customers ({warmupSeconds} s warm-up) ...");
        var sentAt = new DateTimeOffset[total];
        var statuses = new int[total];
        var sends = new Task[total];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var startTicks = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        var startWall = DateTimeOffset.UtcNow.AddMilliseconds(100);
        var scheduler = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var due = startTicks + (long)(i * ticksPerRequest);
                OpenLoop.WaitUntil(due);
                sentAt[i] = startWall + TimeSpan.FromSeconds((double)(due - startTicks) / Stopwatch.Frequency);
                if (i % rate == 0)
                {
                    everySecond?.Invoke(i / rate);
                }

                sends[i] = SendAsync(http, messages[i].Body, messages[i].Signature, i, statuses);
            }
        }) { IsBackground = true, Name = "load schedule" };
        scheduler.Start();
        scheduler.Join();
        await Task.WhenAll(sends);
        var elapsed = (DateTimeOffset.UtcNow - startWall).TotalSeconds;
        var lastSend = DateTimeOffset.UtcNow;

        // Drain: wait until every acknowledged message has its reply at the stand-in (or the timeout).
        var latencies = new double[total];
        var answered = 0;
        var drain = Stopwatch.StartNew();
        DateTimeOffset? lastReply = null;
        while (true)
        {
            var sent = (await standIn.GetFromJsonAsync<JsonArray>($"/_standin/messages?since={Uri.EscapeDataString(startWall.AddSeconds(-1).ToString("o", CultureInfo.InvariantCulture))}"))!;
            var replies = sent.Select(m => (From: Bare(m!["from"]?.GetValue<string>()), To: Bare(m["to"]!.GetValue<string>()), At: m["createdAt"]!.GetValue<DateTimeOffset>()))
                .GroupBy(m => (m.From, m.To)).ToDictionary(g => g.Key, g => g.Select(m => m.At).Order().ToArray());
            answered = 0;
            for (var i = 0; i < total; i++)
            {
                latencies[i] = double.NaN;
                if (statuses[i] != 200 || !replies.TryGetValue((messages[i].Number, messages[i].Customer), out var times))
                {
                    continue;
                }

                var index = Array.BinarySearch(times, sentAt[i]);
                index = index < 0 ? ~index : index;
                if (index < times.Length)
                {
                    latencies[i] = (times[index] - sentAt[i]).TotalMilliseconds;
                    answered++;
                }
            }

            lastReply = replies.Values.SelectMany(t => t).DefaultIfEmpty().Max();
            if (answered >= statuses.Count(s => s == 200) || drain.Elapsed > drainTimeout)
            {
                break;
            }

            await Task.Delay(1000);
        }

        // Backlog: the latency of the messages sent in each 5-second window of the measured part.
        var measuredFrom = rate * warmupSeconds;
        var windows = Enumerable.Range(measuredFrom, total - measuredFrom)
            .GroupBy(i => i / rate / 5 * 5)
            .Select(g =>
            {
                var done = g.Select(i => latencies[i]).Where(l => !double.IsNaN(l)).Order().ToArray();
                return (Second: g.Key, P50: Percentile(done, 0.5), P99: Percentile(done, 0.99), Answered: done.Length, Sent: g.Count());
            }).ToList();
        return new Outcome(total, statuses.Count(s => s != 200), answered, elapsed,
            latencies.Skip(measuredFrom).Where(l => !double.IsNaN(l)).Order().ToArray(), windows,
            lastReply is { } last && last > lastSend ? (last - lastSend).TotalSeconds : 0, drain.Elapsed) { StartedAt = startWall };
    }

    private static string Bare(string? address) => address is null ? "" : address.StartsWith("whatsapp:", StringComparison.Ordinal) ? address["whatsapp:".Length..] : address;

    public static double Percentile(double[] sorted, double q) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];

    private static async Task SendAsync(HttpClient http, string body, string signature, int i, int[] statuses)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/whatsapp")
            {
                Content = new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
            request.Headers.Add("X-Twilio-Signature", signature);
            using var response = await http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            statuses[i] = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            statuses[i] = -1;
        }
    }

    /// <summary>Grows when the p50 of the last measured windows is well above that of the first ones (replies lag more and more).</summary>
    public static string BacklogVerdict(Outcome outcome)
    {
        var windows = outcome.Windows.Where(w => w.Sent > 0).ToList();
        if (windows.Count < 2)
        {
            return "too short to tell";
        }

        var first = windows[0].P50;
        var last = windows[^1].P50;
        var unanswered = outcome.Sent - outcome.Failed - outcome.Answered;
        return unanswered > 0 || last > 2 * first + 100
            ? $"GROWS: p50 went from {first:0} ms (first window) to {last:0} ms (last window); {unanswered} unanswered"
            : $"steady: p50 {first:0} ms in the first window, {last:0} ms in the last; replies kept up";
    }

    /// <summary>The CPU each group of processes used over <paramref name="Wall"/>, and whether the system was quiet at its end.</summary>
    public sealed record CpuUse(IReadOnlyDictionary<string, double> Seconds, TimeSpan Wall, bool Quiet);

    /// <summary>Waits until every outbox, Ingress's sends and every queue have nothing left to do; false if that did not come in time.</summary>
    public static async Task<bool> WaitQuietAsync(RunningSystem system, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if ((await SystemSnapshot.TakeAsync(system.App, system.StateDirectory)).IsQuiet)
            {
                return true;
            }

            await Task.Delay(500);
        }

        return false;
    }

    /// <summary>CPU by group: seconds, milliseconds per answered message, and the share of the machine over the run.</summary>
    public static string CpuTable(CpuUse cpu, int answered)
    {
        var machine = cpu.Wall.TotalSeconds * Environment.ProcessorCount;
        var rows = cpu.Seconds.OrderBy(g => ProcessCpu.IsSystem(g.Key) ? 0 : 1).ThenByDescending(g => g.Value).Select(g =>
            $"| {g.Key} | {g.Value:0.0} s | {1000 * g.Value / Math.Max(1, answered):0.0} ms | {100 * g.Value / machine:0} % |");
        var system = cpu.Seconds.Where(g => ProcessCpu.IsSystem(g.Key)).Sum(g => g.Value);
        return $"""
            CPU from the first webhook until {(cpu.Quiet ? "every outbox and queue was empty" : "the wait for empty outboxes and queues gave up")} ({cpu.Wall.TotalSeconds:0} s; per answered message; share of the machine's {Environment.ProcessorCount} cores):

            | processes | CPU | per message | share |
            | --- | --- | --- | --- |
            | **the system** (services, gateway, Postgres, RabbitMQ) | {system:0.0} s | **{1000 * system / Math.Max(1, answered):0.0} ms** | {100 * system / machine:0} % |
            {string.Join("\n", rows)}

            """;
    }

    private static string Report(Options options, int numbers, Outcome outcome, CpuUse cpu)
    {
        var lat = outcome.Latencies;
        var windowRows = string.Join("\n", outcome.Windows.Select(w =>
            $"| {w.Second}-{w.Second + 5} s | {w.Sent} | {w.Answered} | {w.P50:0} ms | {w.P99:0} ms |"));
        return $"""
            # End-to-end benchmark: webhook → reply at the Twilio stand-in ({(options.ModelLatencyMs is { } ms ? $"model stand-in at {ms} ms" : "offline responder")})

            - When: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, on {Environment.ProcessorCount} cores; the loader runs on the same machine.
            - Load: {options.Rate} signed webhooks/s through the gateway, open loop, {options.WarmupSeconds} s warm-up then {options.Seconds} s measured,
              over {options.Tenants} tenants × {options.NumbersPerTenant} numbers ({numbers} numbers; each customer writes every ~{options.CustomerSpacing} s).
            - Tuning switches: {(options.Tuning.Count == 0 ? "none (.NET's defaults)" : string.Join(", ", options.Tuning))}; traces sampled at {options.TraceSampleRatio:0.###} (parent-based); units of work per service at once: {options.ConcurrentUnitsOfWork?.ToString(CultureInfo.InvariantCulture) ?? "one per consumer"}.
            - {options.Replicas} instance(s) of each service; replies by {(options.ModelLatencyMs is { } l ? $"the model stand-in (OpenAI API, {l} ms per completion)" : "the offline responder")}.
            - Latency: from a message's scheduled send to the stand-in receiving the reply to it.

            | measured | value |
            | --- | --- |
            | sent | {outcome.Sent} ({outcome.Sent / outcome.Elapsed:0} webhooks/s achieved) |
            | webhooks not acknowledged with 200 | {outcome.Failed} |
            | answered | {outcome.Answered} of {outcome.Sent - outcome.Failed} |
            | messages sent to customers (a reply covering several of a customer's messages counts once) | {outcome.RepliesSent} |
            | throughput (answered / sending time) | {outcome.Answered / outcome.Elapsed:0} messages/s |
            | p50 | {Percentile(lat, 0.50):0} ms |
            | p90 | {Percentile(lat, 0.90):0} ms |
            | p99 | {Percentile(lat, 0.99):0} ms |
            | max | {lat.DefaultIfEmpty(double.NaN).Max():0} ms |
            | last reply after the last send | {outcome.LastReplyLagSeconds:0.0} s |
            | backlog | {BacklogVerdict(outcome)} |

            Latency by the second the messages were sent (measured part):

            | sent during | messages | answered | p50 | p99 |
            | --- | --- | --- | --- | --- |
            {windowRows}

            {CpuTable(cpu, outcome.Answered)}
            """;
    }
}

/// <summary>The model stand-in on a local port, answering every completion after a fixed latency, for the AppHost's Agent.</summary>
public sealed class ModelForBenchmark : IAsyncDisposable
{
    private const string ApiKey = "sk-benchmark-0123456789";
    private readonly WebApplication _app;

    private ModelForBenchmark(WebApplication app) => _app = app;

    public IReadOnlyList<string> AppHostArguments =>
        ["--AI:Provider=OpenAI", $"--AI:Endpoint={_app.Urls.First()}/v1", $"--AI:ApiKey={ApiKey}", "--AI:Model=gpt-4o-mini"];

    public static async Task<ModelForBenchmark> StartAsync(int latencyMs)
    {
        var app = SafeNotify.Crm.ModelStandIn.ModelStandInApp.Build(["--urls", "http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"], options => options.ApiKey = ApiKey);
        await app.StartAsync();
        app.Services.GetRequiredService<SafeNotify.Crm.ModelStandIn.ModelStandInState>().SetBehaviour(new SafeNotify.Crm.ModelStandIn.ModelBehaviour(LatencyMs: latencyMs));
        return new ModelForBenchmark(app);
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
