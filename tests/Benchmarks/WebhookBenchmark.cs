using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>
/// Webhook acknowledgement under a steady load: signed Twilio webhooks at a fixed rate (open loop: each request
/// is sent at its scheduled time whether or not earlier ones have answered, and its latency counts from that
/// time, so a stall is not hidden), to a number with autoReply off outside its business hours, so every message
/// is stored and routed but not answered. Afterwards every message must have been routed.
/// </summary>
public static class WebhookBenchmark
{
    /// <param name="LatenciesFile">
    /// Where to write each request at the rate as CSV, when given, to see where in the run the slow ones fall: its scheduled
    /// time from the measured window's start (negative in the lead-in), its latency, and its HTTP status (-1 when no
    /// answer came).
    /// </param>
    /// <param name="LeadInSeconds">Seconds at the rate before the measured window (reported apart).</param>
    public sealed record Options(int Rate, int Seconds, int WarmupSeconds, int WarmupRate, string Target, string OutputFile, string? LatenciesFile = null,
        int LeadInSeconds = 5);

    public static async Task<int> RunAsync(Options options)
    {
        // Hundreds of requests in flight: do not wait for the thread pool to grow into it.
        ThreadPool.SetMinThreads(200, 200);
        Console.WriteLine($"Starting the system (AppHost on throw-away state) ...");
        await using var system = await RunningSystem.StartAsync();
        var (tenantKey, number) = await PrepareTenantAsync(system);

        var publicBase = system.Gateway.BaseAddress!.ToString().TrimEnd('/');
        var target = options.Target == ResourceNames.Ingress ? system.EndpointOf(ResourceNames.Ingress) : system.Gateway.BaseAddress!;
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = target,
            Timeout = TimeSpan.FromSeconds(30),
        };

        // Warm-up, at a rate the whole system keeps up with: a fresh process spends its first minutes compiling (tiered
        // JIT and its rejits took two thirds of the services' CPU in the first minute here), which is a start-up cost,
        // not the cost of a message. Then wait until the warm-up's messages are all routed, so the measured phase
        // starts from an empty backlog.
        var warmup = options.WarmupRate * options.WarmupSeconds;
        Console.WriteLine($"Warming up: {warmup} webhooks at {options.WarmupRate}/s ...");
        var warmed = await SendAtAsync(http, Enumerable.Range(0, warmup).Select(i => Build(system, publicBase, number, i)).ToArray(), options.WarmupRate);
        if (await WaitForRoutedAsync(system, tenantKey, warmup, TimeSpan.FromMinutes(5)) < warmup || warmed.Statuses.Any(s => s != 200))
        {
            Console.Error.WriteLine("The warm-up's messages were not all acknowledged and routed.");
            return 1;
        }

        // The measured window is the steady state at the rate: the schedule starts LeadInSeconds earlier, at the same
        // rate and without a pause, and those first requests (the jump from the warm-up's rate, while connection
        // pools and the consumers' database sessions grow) are reported on their own line, not in the percentiles.
        var leadIn = options.Rate * options.LeadInSeconds;
        var total = options.Rate * options.Seconds;
        Console.WriteLine($"Sending {leadIn + total} webhooks at {options.Rate}/s to {options.Target} ({options.LeadInSeconds} s lead-in, then {options.Seconds} s measured) ...");
        var all = await SendAtAsync(http, Enumerable.Range(warmup, leadIn + total).Select(i => Build(system, publicBase, number, i)).ToArray(), options.Rate);
        var lead = new Phase(all.Latencies[..leadIn], all.Statuses[..leadIn], options.LeadInSeconds);
        var run = new Phase(all.Latencies[leadIn..], all.Statuses[leadIn..], all.Elapsed - options.LeadInSeconds);

        // Nothing lost: every acknowledged message reaches Routing and is counted for the tenant. A backlog the
        // consumers could not keep up with drains now; how long that takes is part of the report.
        var routeWatch = Stopwatch.StartNew();
        var routed = await WaitForRoutedAsync(system, tenantKey, warmup + leadIn + total, TimeSpan.FromMinutes(15)) - warmup - leadIn;
        routeWatch.Stop();

        var measured = run.Latencies.Order().ToArray();
        var failures = run.Statuses.Count(s => s != 200);
        var report = Report(options, total, run.Elapsed, measured, failures, run.Statuses, routed, routeWatch.Elapsed, lead);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutputFile)!);
        await File.WriteAllTextAsync(options.OutputFile, report);
        Console.WriteLine($"Written to {options.OutputFile}");
        if (options.LatenciesFile is { } latenciesFile)
        {
            await File.WriteAllLinesAsync(latenciesFile, all.Latencies.Select((latency, i) => string.Create(CultureInfo.InvariantCulture,
                $"{(i - leadIn) * 1000.0 / options.Rate:0.0},{latency:0.00},{all.Statuses[i]}")).Prepend("scheduled_ms,latency_ms,status"));
            Console.WriteLine($"Latencies written to {latenciesFile}");
        }

        return failures == 0 && routed == total ? 0 : 1;
    }

    private sealed record Phase(double[] Latencies, int[] Statuses, double Elapsed);

    /// <summary>Sends the webhooks at <paramref name="rate"/> per second, open loop; each latency counts from its scheduled time.</summary>
    private static async Task<Phase> SendAtAsync(HttpClient http, (string Body, string Signature)[] requests, int rate)
    {
        var latencies = new double[requests.Length];
        var statuses = new int[requests.Length];
        var sends = new Task[requests.Length];
        var ticksPerRequest = (double)Stopwatch.Frequency / rate;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        // The schedule runs on a thread of its own: a thread-pool thread spinning here would starve the very
        // continuations that complete the requests, and the loader would measure itself.
        var scheduler = new Thread(() =>
        {
            for (var i = 0; i < requests.Length; i++)
            {
                var due = start + (long)(i * ticksPerRequest);
                OpenLoop.WaitUntil(due);
                sends[i] = SendAsync(http, requests[i], due, i, latencies, statuses);
            }
        }) { IsBackground = true, Name = "load schedule" };
        scheduler.Start();
        scheduler.Join();

        await Task.WhenAll(sends);
        return new Phase(latencies, statuses, (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency);
    }

    private static async Task<(string Key, string Number)> PrepareTenantAsync(RunningSystem system)
    {
        var tenant = await system.CallAsync(HttpMethod.Post, "/api/admin/tenants", RunningSystem.OperatorKey,
            new { safeNotifyUserId = "bench-" + Guid.NewGuid().ToString("N")[..8], name = "Benchmark", crmPlan = "enterprise" });
        var key = tenant["apiKey"]!.GetValue<string>();
        var agent = await system.CallAsync(HttpMethod.Post, "/api/agents", key, new
        {
            name = "Recepción", personalityPrompt = "Amable.", businessPrompt = "Negocio de prueba.", objectivesPrompt = "Atender.",
        });
        var number = "+5760" + Random.Shared.Next(10_000_000, 99_999_999);
        // Never open, autoReply off: stored and routed, nobody answers.
        await system.CallAsync(HttpMethod.Post, "/api/numbers", key, new
        {
            phoneNumber = number, displayName = "Benchmark", autoReply = false, businessHours = new { },
            defaultAgentId = agent["id"]!.GetValue<string>(),
        });
        return (key, number);
    }

    private static (string Body, string Signature) Build(RunningSystem system, string publicBase, string number, int i)
    {
        var customer = "+5731" + (10_000_000 + i % 2000).ToString(CultureInfo.InvariantCulture);
        var form = TwilioSigner.InboundForm(system.AccountSid, customer, number, $"Hola, mensaje {i}");
        var body = string.Join("&", form.Select(p => $"{Uri.EscapeDataString(p.Key)}={Uri.EscapeDataString(p.Value)}"));
        return (body, TwilioSigner.Sign(system.AuthToken, publicBase + "/webhooks/twilio/whatsapp", form));
    }

    private static async Task SendAsync(HttpClient http, (string Body, string Signature) webhook, long due, int i, double[] latencies, int[] statuses)
    {
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/webhooks/twilio/whatsapp")
            {
                Content = new StringContent(webhook.Body, Encoding.UTF8, "application/x-www-form-urlencoded"),
            };
            request.Headers.Add("X-Twilio-Signature", webhook.Signature);
            using var response = await http.SendAsync(request);
            await response.Content.ReadAsByteArrayAsync();
            statuses[i] = (int)response.StatusCode;
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            statuses[i] = -1;
        }

        latencies[i] = (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency;
    }

    private static async Task<int> WaitForRoutedAsync(RunningSystem system, string key, int expected, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        var routed = 0;
        while (DateTime.UtcNow < deadline)
        {
            var metrics = await system.CallAsync(HttpMethod.Get, "/api/metrics?period=MONTHLY", key);
            routed = metrics["items"]!.AsArray().Sum(row => row!["customerMessages"]!.GetValue<int>());
            if (routed >= expected)
            {
                break;
            }

            await Task.Delay(500);
        }

        return routed;
    }

    private static string Report(Options options, int total, double elapsed, double[] measured, int failures, int[] statuses,
        int routed, TimeSpan routeTime, Phase lead)
    {
        static double Percentile(double[] sorted, double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        double P(double q) => Percentile(measured, q);
        var leadSorted = lead.Latencies.Order().ToArray();
        var codes = string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{(g.Key < 0 ? "connection error" : g.Key.ToString(CultureInfo.InvariantCulture))}: {g.Count()}"));
        return $"""
            # Webhook acknowledgement benchmark

            - When: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, on {Environment.ProcessorCount} cores; the loader runs on the same machine.
            - Target: {options.Target} (`POST /webhooks/twilio/whatsapp`, signed), {options.Rate} webhooks/s, open loop,
              {options.Seconds} s measured ({measured.Length} requests), after a warm-up of {options.WarmupSeconds} s at {options.WarmupRate}/s
              whose messages were all routed first, then a lead-in of {options.LeadInSeconds} s at {options.Rate}/s straight into the
              measured window (the jump from {options.WarmupRate}/s; reported below, not in the percentiles).
            - The whole system running (AppHost, throw-away state, Release build, services in the Production environment,
              Postgres durable); the number has autoReply off and is closed, so each message is stored and routed but not answered.

            | measured | value |
            | --- | --- |
            | achieved rate | {total / elapsed:0} webhooks/s |
            | p50 | {P(0.50):0.0} ms |
            | p90 | {P(0.90):0.0} ms |
            | p99 | {P(0.99):0.0} ms |
            | p99.9 | {P(0.999):0.0} ms |
            | max | {measured.DefaultIfEmpty(double.NaN).Max():0.0} ms |
            | failed (measured window) | {failures} |
            | lead-in ({lead.Latencies.Length} requests, not measured above) | p50 {Percentile(leadSorted, 0.5):0.0} ms, p99 {Percentile(leadSorted, 0.99):0.0} ms, max {leadSorted.DefaultIfEmpty(double.NaN).Max():0.0} ms, {lead.Statuses.Count(s => s != 200)} failed |
            | answers | {codes} |
            | routed afterwards | {routed} of {total} ({routeTime.TotalSeconds:0.0} s after the last send) |

            """;
    }
}
