using MassTransit;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Metrics.Apis;
using SafeNotify.Crm.Metrics.Data;
using SafeNotify.Crm.Metrics.Services;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Metrics.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<MetricsDbContext>("metrics-db", MetricsDbContext.Schema);
        builder.AddServiceMessaging<MetricsDbContext>("metrics", bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddScoped<FactRecorder>();
        builder.Services.AddScoped<RollupRebuilder>();
        return builder;
    }

    public static WebApplication MapMetricsServiceApi(this WebApplication app) => app.MapMetricsApi();
}
