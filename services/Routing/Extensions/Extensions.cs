using MassTransit;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.Routing.Apis;
using SafeNotify.Crm.Routing.Data;
using SafeNotify.Crm.Routing.Services;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<RoutingDbContext>("routing-db", RoutingDbContext.Schema);
        builder.AddServiceMessaging<RoutingDbContext>("routing", bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddOptions<OperatorOptions>().BindConfiguration("Crm");
        builder.Services.AddOptions<ApiKeyOptions>().BindConfiguration("Crm:ApiKeys");
        builder.Services.AddOptions<ConsoleAddress>().BindConfiguration(ConsoleAddress.Section); // for the first owner's invitation link
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RoutingDirectory>();
        builder.Services.AddHostedService<RoutingDirectoryListener>();
        return builder;
    }

    public static WebApplication MapRoutingApi(this WebApplication app)
    {
        app.MapAdminTenantsApi();
        app.MapApiKeysApi();
        app.MapAdminAuditApi();
        app.MapTenantApi();
        app.MapNumbersApi();
        app.MapInternalApiKeysApi();
        return app;
    }
}
