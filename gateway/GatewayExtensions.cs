using Microsoft.Extensions.Caching.Memory;

namespace SafeNotify.Crm.Gateway;

public static class GatewayExtensions
{
    public static WebApplicationBuilder AddGateway(this WebApplicationBuilder builder)
    {
        builder.Services.AddReverseProxy()
            .LoadFromConfig(builder.Configuration.GetSection("ReverseProxy"))
            .AddServiceDiscoveryDestinationResolver();

        builder.Services.AddMemoryCache();
        builder.Services.AddSingleton<IdentityTokenCache>();
        builder.Services.AddHttpClient<ApiKeyResolver>(client => client.BaseAddress = new Uri("http://routing"));
        return builder;
    }

    /// <summary>Any /api path no service owns is a plain 404, in the same problem shape as every other error.</summary>
    public static WebApplication MapUnknownApiRoutes(this WebApplication app)
    {
        app.MapFallback("/api/{**path}", () => Results.Problem(statusCode: StatusCodes.Status404NotFound, title: "No such API route."));
        return app;
    }
}
