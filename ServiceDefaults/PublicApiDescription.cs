using Microsoft.AspNetCore.OpenApi;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.OpenApi;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// Each service describes its own public API (OpenAPI at /openapi/v1.json); the gateway serves the five
/// documents at /openapi/{service}.json and a browsable reference at /docs. The documents describe the API
/// as clients see it: through the gateway (no server address of their own) with a bearer API key.
/// </summary>
public static class PublicApiDescription
{
    public const string KeyScheme = "ApiKey";

    public static IHostApplicationBuilder AddPublicApiDescription(this IHostApplicationBuilder builder)
    {
        var service = builder.Environment.ApplicationName;
        builder.Services.AddOpenApi(options => options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = $"SafeNotify CRM: {service}";
            document.Servers = [];
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[KeyScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "A tenant's API key (sn_live_…) or the operator key (sn_op_…, /api/admin only).",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(KeyScheme, document)] = [] }];
            return Task.CompletedTask;
        }));
        return builder;
    }
}
