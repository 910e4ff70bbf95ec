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
    public sealed record Options(int Rate, int Seconds, int WarmupSeconds, string Target, string OutputFile);

    public static async Task<int> RunAsync(Options options)
    {
        // Hundreds of requests in flight: do not wait for the thread pool to grow into it.
        ThreadPool.SetMinThreads(200, 200);
        Console.WriteLine($"Starting the system (AppHost on throw-away state) ...");
        await using var system = await RunningSystem.StartAsync();
        var (tenantKey, number) = await PrepareTenantAsync(system);

        var publicBase = system.Gateway.BaseAddress!.ToString().TrimEnd('/');
        var target = options.Target == ResourceNames.Ingress ? system.EndpointOf(ResourceNames.Ingress) : system.Gateway.BaseAddress!;
        var total = options.Rate * (options.WarmupSeconds + options.Seconds);
        var measuredFrom = options.Rate * options.WarmupSeconds;
        var requests = Enumerable.Range(0, total).Select(i => Build(system, publicBase, number, i)).ToArray();

        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1024, PooledConnectionIdleTimeout = TimeSpan.FromMinutes(2) })
        {
            BaseAddress = target,
            Timeout = TimeSpan.FromSeconds(30),
        };

        Console.WriteLine($"Sending {total} webhooks at {options.Rate}/s to {options.Target} ({options.WarmupSeconds} s warm-up, {options.Seconds} s measured) ...");
        var latencies = new double[total];
        var statuses = new int[total];
        var sends = new Task[total];
        var ticksPerRequest = (double)Stopwatch.Frequency / options.Rate;
        var start = Stopwatch.GetTimestamp() + Stopwatch.Frequency / 10;
        // The schedule runs on a thread of its own: a thread-pool thread spinning here would starve the very
        // continuations that complete the requests, and the loader would measure itself.
        var scheduler = new Thread(() =>
        {
            for (var i = 0; i < total; i++)
            {
                var due = start + (long)(i * ticksPerRequest);
                OpenLoop.WaitUntil(due);
                sends[i] = SendAsync(http, requests[i], due, i, latencies, statuses);
            }
        }) { IsBackground = true, Name = "load schedule" };
        scheduler.Start();
        scheduler.Join();

        await Task.WhenAll(sends);
        var elapsed = (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency;

        // Nothing lost: every acknowledged message reaches Routing and is counted for the tenant.
        var routeWatch = Stopwatch.StartNew();
        var routed = await WaitForRoutedAsync(system, tenantKey, total, TimeSpan.FromMinutes(2));
        routeWatch.Stop();

        var measured = latencies.Skip(measuredFrom).Order().ToArray();
        var failures = statuses.Skip(measuredFrom).Count(s => s != 200);
        var report = Report(options, total, elapsed, measured, failures, statuses, routed, routeWatch.Elapsed);
        Console.WriteLine(report);
        Directory.CreateDirectory(Path.GetDirectoryName(options.OutputFile)!);
        await File.WriteAllTextAsync(options.OutputFile, report);
        Console.WriteLine($"Written to {options.OutputFile}");
        return failures == 0 && routed == total ? 0 : 1;
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
        int routed, TimeSpan routeTime)
    {
        double P(double q) => measured.Length == 0 ? double.NaN : measured[Math.Min(measured.Length - 1, (int)Math.Ceiling(q * measured.Length) - 1)];
        var codes = string.Join(", ", statuses.GroupBy(s => s).OrderBy(g => g.Key).Select(g => $"{(g.Key < 0 ? "connection error" : g.Key.ToString(CultureInfo.InvariantCulture))}: {g.Count()}"));
        return $"""
            # Webhook acknowledgement benchmark

            - When: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, on {Environment.ProcessorCount} cores; the loader runs on the same machine.
            - Target: {options.Target} (`POST /webhooks/twilio/whatsapp`, signed), {options.Rate} webhooks/s, open loop,
              {options.WarmupSeconds} s warm-up then {options.Seconds} s measured ({measured.Length} requests).
            - The whole system running (AppHost, throw-away state, Release build); the number has autoReply off and is closed,
              so each message is stored and routed but not answered.

            | measured | value |
            | --- | --- |
            | achieved rate | {total / elapsed:0} webhooks/s |
            | p50 | {P(0.50):0.0} ms |
            | p90 | {P(0.90):0.0} ms |
            | p99 | {P(0.99):0.0} ms |
            | p99.9 | {P(0.999):0.0} ms |
            | max | {measured.DefaultIfEmpty(double.NaN).Max():0.0} ms |
            | failed (measured window) | {failures} |
            | answers | {codes} |
            | routed afterwards | {routed} of {total} ({routeTime.TotalSeconds:0.0} s after the last send) |

            """;
    }
}
