using MassTransit;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Agent.Apis;
using SafeNotify.Crm.Agent.Data;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Agent.Extensions;

public static class Extensions
{
    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<AgentDbContext>("agent-db", AgentDbContext.Schema);
        builder.AddServiceMessaging<AgentDbContext>("agent", bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddOptions<AiOptions>().BindConfiguration("AI").ValidateOnStart();
        builder.Services.AddSingleton<IValidateOptions<AiOptions>, AiOptionsValidator>();
        builder.Services.AddSingleton<ChatClientFactory>();
        builder.Services.AddSingleton<PriceTable>();
        builder.Services.AddSingleton<ModelResilience>();
        builder.Services.AddOptions<PromptOptions>().BindConfiguration("Prompts");
        builder.Services.AddScoped<PromptVersions>();
        builder.Services.AddScoped<ReplyWriter>();
        return builder;
    }

    public static WebApplication MapAgentApi(this WebApplication app)
    {
        app.MapAgentsApi();
        return app;
    }
}
