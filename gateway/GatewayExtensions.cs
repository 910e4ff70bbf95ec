using Scalar.AspNetCore;
using Microsoft.Extensions.Caching.Memory;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Gateway;

public static class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();

        builder.Services.AddMemoryCache();
        builder.AddIdentitySigner(IdentityTokens.GatewayIssuer);
        builder.Services.AddSingleton<IdentityTokenCache>();
        builder.Services.AddHttpClient<ApiKeyResolver>(client => client.BaseAddress = new Uri("http://routing"));
        return builder;
    }

    /// <summary>
    /// The public API's reference at /docs: one OpenAPI document per service, each fetched from the service
    /// through the proxy at /openapi/{service}.json (routes in appsettings.json).
    /// </summary>
    public static WebApplication MapApiReference(this WebApplication app)
    {
        app.MapScalarApiReference("/docs", options => options
            .WithTitle("SafeNotify CRM API")
            .AddDocument("routing", "Tenants, keys and WhatsApp numbers (Routing)", isDefault: true)
            .AddDocument("agent", "AI agents and prompts (Agent)")
            .AddDocument("lead", "Leads and conversations (Lead)")
            .AddDocument("metrics", "Metrics (Metrics)")
            .AddDocument("ingress", "Twilio webhooks and outbound messages (Ingress)")
            .AddDocument("webapp", "Staff console accounts (WebApp)"));
        return app;
    }

    /// <summary>
    /// Any /api path no service owns is a plain 404, in the same problem shape as every other error. A route of its own
    /// (not a fallback), so that it comes before the console, which takes every path nothing else does.
    /// </summary>
    public static WebApplication MapUnknownApiRoutes(this WebApplication app)
    {
        app.Map("/api/{**path}", () => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such API route."));
        return app;
    }
}
