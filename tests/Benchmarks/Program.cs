using System.Globalization;
using SafeNotify.Crm.Benchmarks;

// dotnet run -c Release --project tests/Benchmarks -- webhooks [--rate 500] [--seconds 30] [--warmup 5] [--target gateway|ingress]
// dotnet run -c Release --project tests/Benchmarks -- agent-choice [--messages 200000]
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
            int.Parse(Option("warmup", "5"), CultureInfo.InvariantCulture),
            target,
            Path.GetFullPath(Path.Combine(resultsFolder, $"webhooks-{target}.md"))));
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
    default:
        Console.Error.WriteLine($"Unknown benchmark '{command}'. Known: webhooks, metrics-query, agent-choice.");
        return 2;
}
