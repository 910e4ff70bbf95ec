using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>The model settings (<c>AI__*</c>) are checked when the service starts, not at each customer's message.</summary>
public sealed class ProviderSettingsTests
{
    [Theory]
    [InlineData("Gemini", null, null, null, "Gemini")]
    [InlineData("OpenAI", "http://127.0.0.1:9/v1", null, null, "AI__ApiKey")]
    [InlineData("AzureOpenAI", "http://127.0.0.1:9", "key", null, "AI__Deployment")]
    [InlineData("AzureOpenAI", null, "key", "my-deployment", "AI__Endpoint")]
    public async Task A_misconfigured_model_provider_stops_the_service_at_start_saying_what_is_missing(
        string provider, string? endpoint, string? apiKey, string? deployment, string named)
    {
        await using var service = new MisconfiguredAgentService(provider, endpoint, apiKey, deployment);

        var error = await Assert.ThrowsAnyAsync<Exception>(service.InitializeAsync);

        var validation = Assert.IsType<OptionsValidationException>(Unwrap(error));
        Assert.Contains(named, validation.Message);
    }

    [Theory]
    [InlineData("Offline", null, null, null)]
    [InlineData("openai", "http://127.0.0.1:9/v1", "key", null)]
    [InlineData("AzureOpenAI", "http://127.0.0.1:9", "key", "my-deployment")]
    public void Complete_settings_of_each_provider_are_accepted(string provider, string? endpoint, string? apiKey, string? deployment)
    {
        var options = new Services.AiOptions { Provider = provider, Endpoint = endpoint, ApiKey = apiKey, Deployment = deployment };

        Assert.True(new Services.AiOptionsValidator().Validate(null, options).Succeeded, options.Problem());
    }

    private static Exception Unwrap(Exception error)
    {
        while (error is not OptionsValidationException && error.InnerException is { } inner)
        {
            error = inner;
        }

        return error is AggregateException { InnerExceptions: [var only] } ? only : error;
    }

    private sealed class MisconfiguredAgentService(string provider, string? endpoint, string? apiKey, string? deployment) : AgentService
    {
        protected override void ConfigureService(IWebHostBuilder builder)
        {
            // Nowhere: should it start after all, it must not take the shared broker's messages from the other tests.
            builder.UseSetting("ConnectionStrings:messaging", "amqp://nobody:nothing@127.0.0.1:9/");
            builder.UseSetting("AI:Provider", provider);
            builder.UseSetting("AI:Endpoint", endpoint);
            builder.UseSetting("AI:ApiKey", apiKey);
            builder.UseSetting("AI:Deployment", deployment);
        }
    }
}
