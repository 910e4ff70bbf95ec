using System.Globalization;
using Microsoft.Extensions.Configuration;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>
/// Every project's telemetry: exported to the dashboard unless <c>Crm:ExportTelemetry</c> is false (tests and benchmarks
/// run without one; services still trace, so trace context still flows), and traces sampled at the parent-based ratio
/// <c>Crm:Telemetry:TraceSampleRatio</c>: the first span of a trace (a webhook, an API call, a timer) decides, and every
/// span after it in every service follows, so a trace is kept whole or not at all. 1.0 unless asked, a whole trace per
/// message; a busy deployment keeps a share.
/// </summary>
internal sealed record Telemetry(bool Export, double TraceSampleRatio)
{
    public static Telemetry From(IConfiguration config)
    {
        var ratio = config.GetValue("Crm:Telemetry:TraceSampleRatio", 1.0);
        if (ratio is < 0 or > 1 || double.IsNaN(ratio))
        {
            throw new InvalidOperationException($"Crm:Telemetry:TraceSampleRatio must be between 0 and 1 (the share of traces kept), not {ratio}.");
        }

        return new Telemetry(config.GetValue("Crm:ExportTelemetry", true), ratio);
    }

    public IResourceBuilder<T> ApplyTo<T>(IResourceBuilder<T> resource) where T : IResourceWithEnvironment
    {
        if (!Export)
        {
            resource.WithEnvironment("OTEL_EXPORTER_OTLP_ENDPOINT", "");
        }

        // OpenTelemetry's own settings, read by its SDK in every project (they replace the orchestrator's always_on).
        return resource
            .WithEnvironment("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
            .WithEnvironment("OTEL_TRACES_SAMPLER_ARG", TraceSampleRatio.ToString(CultureInfo.InvariantCulture));
    }
}
