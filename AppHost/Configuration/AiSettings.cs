using Microsoft.Extensions.Configuration;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>Passes the model settings of the configuration contract (<c>AI__*</c>) on to the Agent service; the key as a secret.</summary>
internal static class AiSettings
{
    private static readonly string[] PlainSettings = ["Provider", "Endpoint", "Deployment", "Model"];

    public static void PassTo(IResourceBuilder<ProjectResource> agent, IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection("AI");
        foreach (var name in PlainSettings)
        {
            if (!string.IsNullOrWhiteSpace(section[name]))
            {
                agent.WithEnvironment($"AI__{name}", section[name]);
            }
        }

        if (!string.IsNullOrWhiteSpace(section["ApiKey"]))
        {
            agent.WithEnvironment("AI__ApiKey", builder.AddParameter("ai-api-key", section["ApiKey"]!, secret: true));
        }
    }
}
