using System.Globalization;
using SafeNotify.Crm.Benchmarks;

// dotnet run -c Release --project tests/Benchmarks -- webhooks [--rate 500] [--seconds 30] [--warmup 60] [--warmup-rate 20] [--lead-in 5] [--target gateway|ingress] [--latencies file.csv]
// dotnet run -c Release --project tests/Benchmarks -- agent-choice [--messages 200000]
// dotnet run -c Release --project tests/Benchmarks -- end-to-end [--rate 100] [--seconds 60] [--warmup 5] [--tenants 6] [--numbers 5] [--model-latency-ms 300] [--replicas 1] [--tuning SmallMachine,ProcessPriority] [--customer-spacing 15] [--trace-sample-ratio 1] [--concurrent-units-of-work N]
// dotnet run -c Release --project tests/Benchmarks -- memory [--rate 100] [--seconds 30] [--rest 20] [--tenants 6] [--numbers 5] [--replicas 1]
var command = args.FirstOrDefault() ?? "webhooks";
string Option(string name, string fallback)
{
    var index = Array.IndexOf(args, "--" + name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : fallback;
}

var resultsFolder = Path.Combine(AppContext.BaseDirectory, "..", "..", "..", "results");
switch (command)
{
    case "webhooks":
        var target = Option("target", "gateway");
        return await WebhookBenchmark.RunAsync(new WebhookBenchmark.Options(
            int.Parse(Option("rate", "500"), CultureInfo.InvariantCulture),
            int.Parse(Option("seconds", "30"), CultureInfo.InvariantCulture),
            int.Parse(Option("warmup", "60"), CultureInfo.InvariantCulture),
            int.Parse(Option("warmup-rate", "20"), CultureInfo.InvariantCulture),
            target,
            Path.GetFullPath(Path.Combine(resultsFolder, $"webhooks-{target}.md")),
            Option("latencies", "") is { Length: > 0 } latencies ? Path.GetFullPath(latencies) : null,
            int.Parse(Option("lead-in", "5"), CultureInfo.InvariantCulture)));
    case "metrics-query":
        // dotnet run -c Release --project tests/Benchmarks -- metrics-query [--messages 1000000] [--requests 300] [--warmup 100]
        return await MetricsQueryBenchmark.RunAsync(new MetricsQueryBenchmark.Options(
            int.Parse(Option("messages", "1000000"), CultureInfo.InvariantCulture),
            int.Parse(Option("requests", "300"), CultureInfo.InvariantCulture),
            int.Parse(Option("warmup", "100"), CultureInfo.InvariantCulture),
            Path.GetFullPath(Path.Combine(resultsFolder, "metrics-query.md"))));
    case "agent-choice":
        return await AgentChoiceBenchmark.RunAsync(new AgentChoiceBenchmark.Options(
            int.Parse(Option("messages", "200000"), CultureInfo.InvariantCulture),
            Path.GetFullPath(Path.Combine(resultsFolder, "agent-choice.md"))));
    case "end-to-end":
        // Without --model-latency-ms the Agent answers with its offline responder; with it, through the model stand-in.
        int? modelLatency = Option("model-latency-ms", "") is { Length: > 0 } ms ? int.Parse(ms, CultureInfo.InvariantCulture) : null;
        return await EndToEndBenchmark.RunAsync(new EndToEndBenchmark.Options(
            int.Parse(Option("rate", "100"), CultureInfo.InvariantCulture),
            int.Parse(Option("seconds", "60"), CultureInfo.InvariantCulture),
            int.Parse(Option("warmup", "5"), CultureInfo.InvariantCulture),
            int.Parse(Option("tenants", "6"), CultureInfo.InvariantCulture),
            int.Parse(Option("numbers", "5"), CultureInfo.InvariantCulture),
            modelLatency,
            int.Parse(Option("replicas", "1"), CultureInfo.InvariantCulture),
            Path.GetFullPath(Path.Combine(resultsFolder, modelLatency is null ? "end-to-end-offline.md" : "end-to-end-model.md")),
            // The AppHost's opt-in tuning switches (Crm__Tuning__*), named as in the configuration: none unless asked for.
            Option("tuning", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            int.Parse(Option("customer-spacing", EndToEndBenchmark.CustomerSpacingSeconds.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture),
            double.Parse(Option("trace-sample-ratio", "1"), CultureInfo.InvariantCulture),
            Option("concurrent-units-of-work", "") is { Length: > 0 } units ? int.Parse(units, CultureInfo.InvariantCulture) : null));
    case "memory":
        return await MemoryBenchmark.RunAsync(new MemoryBenchmark.Options(
            int.Parse(Option("rate", "100"), CultureInfo.InvariantCulture),
            int.Parse(Option("seconds", "30"), CultureInfo.InvariantCulture),
            int.Parse(Option("rest", "20"), CultureInfo.InvariantCulture),
            int.Parse(Option("tenants", "6"), CultureInfo.InvariantCulture),
            int.Parse(Option("numbers", "5"), CultureInfo.InvariantCulture),
            int.Parse(Option("replicas", "1"), CultureInfo.InvariantCulture),
            Path.GetFullPath(Path.Combine(resultsFolder, "memory.md"))));
    default:
        Console.Error.WriteLine($"Unknown benchmark '{command}'. Known: webhooks, metrics-query, agent-choice, end-to-end, memory.");
        return 2;
}
