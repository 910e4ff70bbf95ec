using MassTransit;
using SafeNotify.Crm.Ingress.Apis;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Services;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Ingress.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<IngressDbContext>("ingress-db", IngressDbContext.Schema);
        builder.AddServiceMessaging<IngressDbContext>("ingress", bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<TwilioOptions>().BindConfiguration("Twilio");
        builder.Services.AddSingleton<TwilioClients>();
        builder.Services.AddSingleton<TwilioSignatureChecker>();
        builder.Services.AddOptions<InboundStoreOptions>().BindConfiguration("InboundStore");
        builder.Services.AddSingleton<InboundStore>();
        builder.Services.AddHostedService(services => services.GetRequiredService<InboundStore>());
        builder.Services.AddScoped<DeliveryStatusRecorder>();
        builder.Services.AddScoped<SenderPacer>();
        builder.Services.AddScoped<OutboundSender>();
        builder.Services.AddSingleton<SendQueueWatch>();
        builder.Services.AddHealthChecks().AddCheck<SendQueueHealthCheck>("send-queues", tags: ["ready"]);
        return builder;
    }

    public static WebApplication MapIngressApi(this WebApplication app)
    {
        app.MapTwilioWebhooksApi();
        app.MapOutboundMessagesApi();
        return app;
    }
}
