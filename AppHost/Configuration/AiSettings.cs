using Microsoft.Extensions.Configuration;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>
/// Passes the model settings of the configuration contract (<c>AI__*</c>: provider, endpoint, timeouts, retries,
/// breaker, prices, ...) on to the Agent service as they are set; the key as a secret.
/// </summary>
internal static class AiSettings
{
    public static void PassTo(IResourceBuilder<ProjectResource> agent, IDistributedApplicationBuilder builder)
    {
        foreach (var (key, value) in builder.Configuration.GetSection("AI").AsEnumerable(makePathsRelative: true))
        {
            if (string.IsNullOrWhiteSpace(value) || key.Equals("ApiKey", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            agent.WithEnvironment("AI__" + key.Replace(":", "__", StringComparison.Ordinal), value);
        }

        if (!string.IsNullOrWhiteSpace(builder.Configuration["AI:ApiKey"]))
        {
            agent.WithEnvironment("AI__ApiKey", builder.AddParameter("ai-api-key", builder.Configuration["AI:ApiKey"]!, secret: true));
        }
    }
}
