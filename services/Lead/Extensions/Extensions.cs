using MassTransit;
using SafeNotify.Crm.Lead.Apis;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Lead.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<LeadDbContext>("lead-db", LeadDbContext.Schema);
        builder.AddServiceMessaging<LeadDbContext>("lead", bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddSingleton(TimeProvider.System);
        return builder;
    }

    public static WebApplication MapLeadApi(this WebApplication app)
    {
        app.MapLeadsApi();
        app.MapConversationsApi();
        return app;
    }
}
