extern alias metrics;

using System.Diagnostics;
using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;
using SafeNotify.Crm.TestSupport;
using MetricsDb = metrics::SafeNotify.Crm.Metrics.Data.MetricsDbContext;
using MetricsProgram = metrics::Program;
using RollupRebuilder = metrics::SafeNotify.Crm.Metrics.Services.RollupRebuilder;

namespace SafeNotify.Crm.Benchmarks;

/// <summary>
/// GET /api/metrics for a tenant with a year of history at 1,000,000 messages. The history is written straight into
/// the Metrics schema with COPY (message facts, conversations, leads, as the consumers store them) and the rollups
/// are built from it by the service's own rebuild (the same contribution code the consumers use); then each period
/// is asked for the whole year, one request after another, through the service's HTTP pipeline (in process, over
/// its real PostgreSQL database; no gateway hop).
/// </summary>
public static class MetricsQueryBenchmark
{
    public sealed record Options(int Messages, int Requests, int Warmup, string OutputFile);

    private const string Tenant = "tnt_benchmark";
    private static readonly TimeSpan Bogota = TimeSpan.FromHours(-5);

    /// <summary>The year ends today in Bogotá, so the default request (the last 30 days) has data too.</summary>
    private static readonly DateOnly FirstDay = DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(Bogota).DateTime).AddDays(-364);

    public static async Task<int> RunAsync(Options options)
    {
        Console.WriteLine("Starting Metrics over a private PostgreSQL and RabbitMQ ...");
        // The service's content root, which WebApplicationFactory otherwise looks for next to the solution by assembly name.
        var repository = new DirectoryInfo(AppContext.BaseDirectory);
        while (repository is not null && !File.Exists(Path.Combine(repository.FullName, "SafeNotify.Crm.sln")))
        {
            repository = repository.Parent;
        }

        Environment.SetEnvironmentVariable("ASPNETCORE_TEST_CONTENTROOT_METRICS", Path.Combine(repository!.FullName, "services", "Metrics"));
        await using var service = new ServiceFactory<MetricsProgram, MetricsDb>("metrics");
        await service.InitializeAsync();

        var seeding = Stopwatch.StartNew();
        var seeded = await SeedAsync(service, options.Messages);
        var copied = seeding.Elapsed;
        Console.WriteLine($"Copied {seeded.Facts:N0} facts ({seeded.Messages:N0} messages), {seeded.Conversations:N0} conversations, {seeded.Leads:N0} leads in {copied.TotalSeconds:F1} s; rebuilding the rollups ...");
        var rows = await service.WithDbAsync(async db =>
        {
            await db.Database.ExecuteSqlRawAsync("ANALYZE metrics.metric_facts; ANALYZE metrics.conversation_facts; ANALYZE metrics.lead_facts");
            var built = await new RollupRebuilder(db).RebuildAsync(Tenant, CancellationToken.None);
            await db.Database.ExecuteSqlRawAsync("ANALYZE metrics.daily_rollups");
            return built;
        });
        var rebuilt = seeding.Elapsed - copied;
        Console.WriteLine($"Rebuilt {rows:N0} rollup rows in {rebuilt.TotalSeconds:F1} s.");

        using var client = service.ClientFor(Tenant);
        var year = $"from={FirstDay:yyyy-MM-dd}&to={FirstDay.AddYears(1).AddDays(-1):yyyy-MM-dd}";
        var checkedMessages = await TotalMessagesAsync(client, $"/api/metrics?period=MONTHLY&{year}");
        if (checkedMessages != seeded.Messages)
        {
            Console.Error.WriteLine($"The year's months sum to {checkedMessages} messages, not {seeded.Messages}.");
            return 1;
        }

        var results = new List<(string Query, int RowsReturned, double[] Latencies, double CpuMs)>();
        foreach (var query in new[]
                 {
                     $"/api/metrics?period=DAILY&{year}", $"/api/metrics?period=WEEKLY&{year}", $"/api/metrics?period=MONTHLY&{year}",
                     $"/api/metrics/agents/agt_1?period=DAILY&{year}", "/api/metrics",
                 })
        {
            var returned = await RowsAsync(client, query);
            for (var i = 0; i < options.Warmup; i++)
            {
                await TimeAsync(client, query);
            }

            var latencies = new double[options.Requests];
            var cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
            for (var i = 0; i < options.Requests; i++)
            {
                latencies[i] = await TimeAsync(client, query);
            }

            var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalMilliseconds / options.Requests;
            Array.Sort(latencies);
            results.Add((query, returned, latencies, cpuMs));
            Console.WriteLine($"{query}: {returned} rows, p50 {Percentile(latencies, 0.5):F1} ms, p99 {Percentile(latencies, 0.99):F1} ms, {cpuMs:F1} ms CPU per request");
        }

        var report = new StringBuilder()
            .AppendLine("# Metrics query benchmark")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- When: {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm} UTC, on {Environment.ProcessorCount} cores shared with other work (a busy machine: other builds and test runs were going on).")
            .AppendLine(CultureInfo.InvariantCulture, $"- History: one tenant (America/Bogota), {FirstDay:yyyy-MM-dd} to {FirstDay.AddYears(1).AddDays(-1):yyyy-MM-dd}: {seeded.Messages:N0} messages ({seeded.Facts:N0} facts with the model calls), {seeded.Conversations:N0} conversations, {seeded.Leads:N0} leads, 2 numbers, 3 agents.")
            .AppendLine(CultureInfo.InvariantCulture, $"- Seeding: COPY into the Metrics schema in {copied.TotalSeconds:F1} s; rollups built by the service's rebuild (the consumers' contribution code) in {rebuilt.TotalSeconds:F1} s: {rows:N0} daily rows (tenant, numbers, agents).")
            .AppendLine(CultureInfo.InvariantCulture, $"- Requests: the Metrics service in process over its real PostgreSQL (no gateway hop), one at a time, {options.Warmup} warm-up then {options.Requests} measured per query.")
            .AppendLine(CultureInfo.InvariantCulture, $"- Load average when the run ended: {LoadAverage()} (on {Environment.ProcessorCount} cores): the wall-clock figures include waiting for a core; the CPU column is the client and service process's own CPU time per request (PostgreSQL's not included).")
            .AppendLine()
            .AppendLine("| query | rows | p50 | p90 | p99 | max | CPU per request |")
            .AppendLine("| --- | --- | --- | --- | --- | --- | --- |");
        foreach (var (query, returned, latencies, cpuMs) in results)
        {
            report.AppendLine(CultureInfo.InvariantCulture,
                $"| `{query}` | {returned} | {Percentile(latencies, 0.5):F1} ms | {Percentile(latencies, 0.9):F1} ms | {Percentile(latencies, 0.99):F1} ms | {latencies[^1]:F1} ms | {cpuMs:F1} ms |");
        }

        Directory.CreateDirectory(Path.GetDirectoryName(options.OutputFile)!);
        await File.WriteAllTextAsync(options.OutputFile, report.ToString());
        Console.WriteLine($"Written to {options.OutputFile}");
        return 0;
    }

    private sealed record Seeded(int Messages, int Facts, int Conversations, int Leads);

    /// <summary>
    /// Conversations spread evenly over the year's days until the message count is reached: each has 5 customer
    /// messages and 5 replies (the AI's, or after a handoff in one conversation of five, 4 of the AI's and one human's),
    /// one model call per AI reply; nine in ten close; one in three records an outcome; one lead per three conversations.
    /// </summary>
    private static async Task<Seeded> SeedAsync(ServiceFactory<MetricsProgram, MetricsDb> service, int messages)
    {
        // Bulk loading (COPY) is refused on tables under row-level security: the seed is written as the server's superuser.
        var database = new NpgsqlConnectionStringBuilder(service.Services.GetRequiredService<IConfiguration>().GetConnectionString("metrics-db")).Database!;
        var connectionString = (await SharedServers.PostgresAsync()).ConnectionString(database);
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var tenant = new NpgsqlCommand(
            "INSERT INTO metrics.tenant_clocks (tenant_id, timezone, crm_enabled, updated_at) VALUES ($1, 'America/Bogota', true, now())", connection))
        {
            tenant.Parameters.AddWithValue(Tenant);
            await tenant.ExecuteNonQueryAsync();
        }

        var random = new Random(7);
        var conversationCount = messages / 10;
        var (facts, leads) = (0, 0);
        // A connection runs one COPY at a time: conversations go through a second one.
        await using var conversationConnection = new NpgsqlConnection(connectionString);
        await conversationConnection.OpenAsync();
        await using (var factWriter = await connection.BeginBinaryImportAsync(
            "COPY metrics.metric_facts (tenant_id, kind, key, occurred_at, conversation_id, number_id, agent_id, tokens, cost) FROM STDIN (FORMAT BINARY)"))
        await using (var conversationWriter = await conversationConnection.BeginBinaryImportAsync(
            "COPY metrics.conversation_facts (tenant_id, conversation_id, number_id, agent_id, opened_at, first_response_at, handed_off_at, closed_at, outcome_at, outcome, satisfaction_rating, conversion_value) FROM STDIN (FORMAT BINARY)"))
        {
            for (var c = 0; c < conversationCount; c++)
            {
                var day = FirstDay.AddDays(c * 365 / conversationCount);
                var opened = new DateTimeOffset(day.ToDateTime(new TimeOnly(7, 0)), Bogota).AddSeconds(random.Next(0, 15 * 3600));
                var conversation = $"conv_{c}";
                var number = c % 3 == 0 ? "num_2" : "num_1";
                var agent = $"agt_{1 + c % 3}";
                var handedOff = random.Next(5) == 0;
                var at = opened;
                DateTimeOffset? firstResponse = null;
                for (var m = 0; m < 5; m++)
                {
                    await WriteFactAsync(factWriter, "CustomerMessage", $"in_{c}_{m}", at, null, number, agent, 0, 0);
                    var human = handedOff && m == 4;
                    var reply = at.AddMilliseconds(human ? random.Next(30_000, 600_000) : random.Next(1_500, 25_000));
                    firstResponse ??= reply;
                    if (!human)
                    {
                        var tokens = random.Next(300, 1500);
                        await WriteFactAsync(factWriter, "AiReply", $"{conversation}:{m}:{reply.UtcTicks}", reply.AddMilliseconds(-300), conversation, null, agent, tokens, tokens * 0.000002m);
                    }

                    await WriteFactAsync(factWriter, human ? "HumanMessage" : "AiMessage", $"out_{c}_{m}", reply, conversation, null, null, 0, 0);
                    facts += human ? 2 : 3;
                    at = reply.AddSeconds(random.Next(20, 300));
                }

                var closed = random.Next(10) < 9 ? at.AddMinutes(30) : (DateTimeOffset?)null;
                var outcome = random.Next(3) == 0 ? at.AddMinutes(31) : (DateTimeOffset?)null;
                decimal? value = outcome is not null && random.Next(3) == 0 ? random.Next(20, 500) * 1000m : null;
                await conversationWriter.StartRowAsync();
                await conversationWriter.WriteAsync(Tenant, NpgsqlDbType.Text);
                await conversationWriter.WriteAsync(conversation, NpgsqlDbType.Text);
                await conversationWriter.WriteAsync(number, NpgsqlDbType.Text);
                await conversationWriter.WriteAsync(agent, NpgsqlDbType.Text);
                await WriteInstantAsync(conversationWriter, opened);
                await WriteInstantAsync(conversationWriter, firstResponse);
                await WriteInstantAsync(conversationWriter, handedOff ? opened.AddMinutes(5) : null);
                await WriteInstantAsync(conversationWriter, closed);
                await WriteInstantAsync(conversationWriter, outcome);
                await WriteNullableAsync(conversationWriter, outcome is null ? null : value is null ? "no sale" : "sale", NpgsqlDbType.Text);
                await WriteNullableAsync(conversationWriter, outcome is null ? null : (object)random.Next(1, 6), NpgsqlDbType.Integer);
                await WriteNullableAsync(conversationWriter, value, NpgsqlDbType.Numeric);
            }

            await factWriter.CompleteAsync();
            await conversationWriter.CompleteAsync();
        }

        await using (var leadWriter = await connection.BeginBinaryImportAsync(
            "COPY metrics.lead_facts (tenant_id, lead_id, number_id, created_at, qualified_at, converted_at) FROM STDIN (FORMAT BINARY)"))
        {
            for (var c = 0; c < conversationCount; c += 3)
            {
                var created = new DateTimeOffset(FirstDay.AddDays(c * 365 / conversationCount).ToDateTime(new TimeOnly(9, 0)), Bogota);
                var qualified = random.Next(10) < 4 ? created.AddHours(2) : (DateTimeOffset?)null;
                var converted = qualified is not null && random.Next(4) == 0 ? qualified.Value.AddDays(random.Next(0, 10)) : (DateTimeOffset?)null;
                await leadWriter.StartRowAsync();
                await leadWriter.WriteAsync(Tenant, NpgsqlDbType.Text);
                await leadWriter.WriteAsync($"lead_{c}", NpgsqlDbType.Text);
                await leadWriter.WriteAsync(c % 2 == 0 ? "num_1" : "num_2", NpgsqlDbType.Text);
                await WriteInstantAsync(leadWriter, created);
                await WriteInstantAsync(leadWriter, qualified);
                await WriteInstantAsync(leadWriter, converted);
                leads++;
            }

            await leadWriter.CompleteAsync();
        }

        return new Seeded(conversationCount * 10, facts, conversationCount, leads);
    }

    private static async Task WriteFactAsync(NpgsqlBinaryImporter writer, string kind, string key, DateTimeOffset at, string? conversation, string? number, string? agent, long tokens, decimal cost)
    {
        await writer.StartRowAsync();
        await writer.WriteAsync(Tenant, NpgsqlDbType.Text);
        await writer.WriteAsync(kind, NpgsqlDbType.Varchar);
        await writer.WriteAsync(key, NpgsqlDbType.Text);
        await WriteInstantAsync(writer, at);
        await WriteNullableAsync(writer, conversation, NpgsqlDbType.Text);
        await WriteNullableAsync(writer, number, NpgsqlDbType.Text);
        await WriteNullableAsync(writer, agent, NpgsqlDbType.Text);
        await writer.WriteAsync(tokens, NpgsqlDbType.Bigint);
        await writer.WriteAsync(cost, NpgsqlDbType.Numeric);
    }

    private static Task WriteInstantAsync(NpgsqlBinaryImporter writer, DateTimeOffset? at) =>
        at is null ? writer.WriteNullAsync() : writer.WriteAsync(at.Value.ToUniversalTime(), NpgsqlDbType.TimestampTz);

    private static Task WriteNullableAsync(NpgsqlBinaryImporter writer, object? value, NpgsqlDbType type) =>
        value is null ? writer.WriteNullAsync() : writer.WriteAsync(value, type);

    private static async Task<double> TimeAsync(HttpClient client, string query)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await client.GetAsync(query);
        await response.Content.ReadAsByteArrayAsync();
        var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        response.EnsureSuccessStatusCode();
        return elapsed;
    }

    private static async Task<int> RowsAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync(query);
        response.EnsureSuccessStatusCode();
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return body["items"]!.AsArray().Count;
    }

    private static async Task<long> TotalMessagesAsync(HttpClient client, string query)
    {
        using var response = await client.GetAsync(query);
        response.EnsureSuccessStatusCode();
        var body = System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        return body["items"]!.AsArray().Sum(row => row!["totalMessages"]!.GetValue<long>());
    }

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";

    private static double Percentile(double[] sorted, double quantile) =>
        sorted[Math.Clamp((int)Math.Ceiling(quantile * sorted.Length) - 1, 0, sorted.Length - 1)];
}
