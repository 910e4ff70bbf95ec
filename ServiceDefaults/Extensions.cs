using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using SafeNotify.Crm.ServiceDefaults;

namespace Microsoft.Extensions.Hosting;

/// <summary>
/// What every SafeNotify CRM process shares: telemetry, health, service discovery, resilience and
/// problem details. Each service calls <see cref="AddServiceDefaults"/> first and
/// <see cref="MapDefaultEndpoints"/> last.
/// </summary>
public static class ServiceDefaultsExtensions
{
    public const string HealthEndpointPath = "/health";
    public const string AlivenessEndpointPath = "/alive";

    /// <summary>Activity sources of our own code (outbox dispatch, Twilio calls, model calls).</summary>
    public const string ActivitySourceName = "SafeNotify.Crm";

    public static TBuilder AddServiceDefaults<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.ConfigureOpenTelemetry();
        builder.AddDefaultHealthChecks();
        builder.ApplyProcessPriority();

        builder.Services.AddServiceDiscovery();
        builder.Services.ConfigureHttpClientDefaults(http =>
        {
            http.AddStandardResilienceHandler();
            http.AddServiceDiscovery();
        });

        builder.Services.AddCrmProblemDetails();
        builder.AddCallerIdentity();
        builder.AddPublicApiDescription();

        // The API's JSON: camelCase fields, enums as the seed's UPPERCASE names (NEW, ACTIVE, AI_AGENT). Fields match
        // case-insensitively, so "name" and "Name" in one body would be the same field twice: refused, like any repeated key.
        builder.Services.ConfigureHttpJsonOptions(options =>
        {
            options.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseUpper));
            options.SerializerOptions.AllowDuplicateProperties = false;
        });
        return builder;
    }

    /// <summary>
    /// <c>Crm:ProcessPriority</c> (e.g. <c>Idle</c>): the AppHost gives it to the services that only consume
    /// events. When every process shares a small machine and the CPU runs out, the edge that acknowledges Twilio's
    /// webhooks (gateway, Ingress) and the database keep their share; the consumers take what is left, and their
    /// backlog waits, durable, in the broker's queues. Unset, the process keeps the priority it was started with.
    /// </summary>
    public static TBuilder ApplyProcessPriority<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        var priority = builder.Configuration["Crm:ProcessPriority"];
        if (string.IsNullOrEmpty(priority))
        {
            return builder;
        }

        if (!Enum.TryParse<System.Diagnostics.ProcessPriorityClass>(priority, ignoreCase: true, out var value) || !Enum.IsDefined(value))
        {
            throw new InvalidOperationException($"Crm:ProcessPriority '{priority}' is not a process priority (Idle, BelowNormal, Normal).");
        }

        ProcessPriority.Apply(value);
        builder.Services.AddHostedService<ProcessPriorityReport>();
        return builder;
    }

    public static TBuilder ConfigureOpenTelemetry<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Logging.AddOpenTelemetry(logging =>
        {
            logging.IncludeFormattedMessage = true;
            logging.IncludeScopes = true;
        });

        builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddRuntimeInstrumentation()
                .AddMeter("MassTransit")
                .AddMeter(ActivitySourceName))
            .WithTracing(tracing => tracing
                .AddSource(builder.Environment.ApplicationName)
                .AddSource(ActivitySourceName)
                .AddSource("MassTransit")
                .AddAspNetCoreInstrumentation(options =>
                    // Health probes every few seconds would drown the traces people look for.
                    options.Filter = context =>
                        !context.Request.Path.StartsWithSegments(HealthEndpointPath)
                        && !context.Request.Path.StartsWithSegments(AlivenessEndpointPath))
                .AddHttpClientInstrumentation());

        if (!string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            builder.Services.AddOpenTelemetry().UseOtlpExporter();
        }

        return builder;
    }

    public static TBuilder AddDefaultHealthChecks<TBuilder>(this TBuilder builder) where TBuilder : IHostApplicationBuilder
    {
        builder.Services.AddHealthChecks()
            .AddCheck("self", () => HealthCheckResult.Healthy(), ["live"]);
        return builder;
    }

    /// <summary>
    /// Health endpoints are mapped in every environment: the AppHost waits on them, and services are
    /// reachable only inside the system (the gateway does not route these paths of the services).
    /// </summary>
    public static WebApplication MapDefaultEndpoints(this WebApplication app)
    {
        app.MapOpenApi();
        app.MapHealthChecks(HealthEndpointPath);
        app.MapHealthChecks(AlivenessEndpointPath, new HealthCheckOptions
        {
            Predicate = check => check.Tags.Contains("live"),
        });
        return app;
    }
}
