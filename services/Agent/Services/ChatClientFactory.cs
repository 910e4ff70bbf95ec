using Microsoft.Extensions.Options;
using System.ClientModel;
using System.ClientModel.Primitives;
using Azure.AI.OpenAI;
using Microsoft.Extensions.AI;
using OpenAI;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>The model settings of the configuration contract (<c>AI__*</c>).</summary>
public sealed class AiOptions
{
    /// <summary><c>AzureOpenAI</c>, <c>OpenAI</c> (any OpenAI-compatible endpoint) or <c>Offline</c> (default).</summary>
    public string Provider { get; set; } = "Offline";

    public string? Endpoint { get; set; }
    public string? ApiKey { get; set; }

    /// <summary>Azure OpenAI: the deployment to call.</summary>
    public string? Deployment { get; set; }

    /// <summary>OpenAI-compatible: the model to call for every agent (for a local server); unset, each agent's own.</summary>
    public string? Model { get; set; }

    /// <summary>The whole budget of one reply, retries included; past it the customer gets the fallback message.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>One call to the model; a call that takes longer is abandoned and retried (within <see cref="Timeout"/>).</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries of a 429, a 5xx, a 408 or a lost connection, with exponential backoff and jitter (a 429's Retry-After is honoured).</summary>
    public int MaxRetries { get; set; } = 2;

    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest Retry-After honoured; a longer one is cut to this.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The circuit opens when at least this share of at least <see cref="BreakerMinimumThroughput"/> calls in <see cref="BreakerSamplingDuration"/> failed.</summary>
    public double BreakerFailureRatio { get; set; } = 0.5;

    public int BreakerMinimumThroughput { get; set; } = 10;
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>While open, replies get the fallback at once instead of waiting on a model that is down.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>The model's context window in tokens: the prompt, the customer context, the recent turns and the reply must fit.</summary>
    public int ContextWindowTokens { get; set; } = 16_000;

    /// <summary>What is wrong with these settings, in words an operator can act on; null when they can work.</summary>
    public string? Problem()
    {
        if (Timeout <= TimeSpan.Zero || AttemptTimeout <= TimeSpan.Zero)
        {
            return "AI__Timeout and AI__AttemptTimeout must be positive.";
        }

        if (MaxRetries < 0 || BreakerMinimumThroughput < 2 || BreakerFailureRatio is <= 0 or > 1 || BreakDuration < TimeSpan.FromMilliseconds(500)
            || BreakerSamplingDuration < TimeSpan.FromMilliseconds(500) || ContextWindowTokens < 1000)
        {
            return "AI__MaxRetries >= 0, AI__BreakerMinimumThroughput >= 2, AI__BreakerFailureRatio in (0, 1], AI__BreakDuration and AI__BreakerSamplingDuration >= 0.5 s, AI__ContextWindowTokens >= 1000.";
        }

        if (!string.IsNullOrWhiteSpace(Endpoint) && !Uri.TryCreate(Endpoint, UriKind.Absolute, out _))
        {
            return $"AI__Endpoint '{Endpoint}' is not an absolute URL.";
        }

        return Provider switch
        {
            _ when Provider.Equals("Offline", StringComparison.OrdinalIgnoreCase) => null,
            _ when Provider.Equals("OpenAI", StringComparison.OrdinalIgnoreCase) =>
                string.IsNullOrWhiteSpace(ApiKey) ? "AI__ApiKey is required for a model provider." : null,
            _ when Provider.Equals("AzureOpenAI", StringComparison.OrdinalIgnoreCase) =>
                string.IsNullOrWhiteSpace(Endpoint) ? "AI__Endpoint is required for Azure OpenAI."
                : string.IsNullOrWhiteSpace(ApiKey) ? "AI__ApiKey is required for a model provider."
                : string.IsNullOrWhiteSpace(Deployment) ? "AI__Deployment is required for Azure OpenAI."
                : null,
            _ => $"AI__Provider '{Provider}' is not one of AzureOpenAI, OpenAI, Offline.",
        };
    }
}

/// <summary>
/// Checked at start: a typo in AI__Provider or a missing key would otherwise start a healthy-looking service
/// whose every reply fails.
/// </summary>
public sealed class AiOptionsValidator : IValidateOptions<AiOptions>
{
    public ValidateOptionsResult Validate(string? name, AiOptions options) =>
        options.Problem() is { } problem ? ValidateOptionsResult.Fail(problem) : ValidateOptionsResult.Success;
}

/// <summary>
/// One abstraction for every provider (Microsoft.Extensions.AI): Azure OpenAI through Azure.AI.OpenAI,
/// any OpenAI-compatible endpoint through the OpenAI client, or the offline responder. Model calls are
/// traced (gen_ai spans) so they show in the message's trace.
/// </summary>
public sealed class ChatClientFactory(IOptions<AiOptions> options, ILoggerFactory loggers)
{
    private readonly AiOptions _options = options.Value;
    private readonly Lazy<OpenAIClient?> _openAi = new(() => CreateOpenAiClient(options.Value));

    public bool IsOffline => _options.Provider.Equals("Offline", StringComparison.OrdinalIgnoreCase);

    /// <summary>The client that writes this agent's replies, and the model name its usage is priced by.</summary>
    public (IChatClient Client, string Model) For(string agentModel, AgentProfile profile)
    {
        if (IsOffline)
        {
            return (Instrument(new OfflineResponder(profile)), OfflineResponder.ModelName);
        }

        var model = _options.Provider.Equals("AzureOpenAI", StringComparison.OrdinalIgnoreCase)
            ? _options.Deployment ?? throw new InvalidOperationException("AI__Deployment is required for Azure OpenAI.")
            : _options.Model ?? agentModel;
        return (Instrument(_openAi.Value!.GetChatClient(model).AsIChatClient()), model);
    }

    private IChatClient Instrument(IChatClient client) =>
        client.AsBuilder().UseOpenTelemetry(loggers, Microsoft.Extensions.Hosting.ServiceDefaultsExtensions.ActivitySourceName).Build();

    private static OpenAIClient? CreateOpenAiClient(AiOptions options)
    {
        var endpoint = string.IsNullOrWhiteSpace(options.Endpoint) ? null : new Uri(options.Endpoint);
        var key = new ApiKeyCredential(options.ApiKey ?? throw new InvalidOperationException("AI__ApiKey is required for a model provider."));
        // The clients' own retries are off: ModelResilience retries, backs off and breaks the circuit for every provider alike.
        var noRetries = new ClientRetryPolicy(maxRetries: 0);
        if (options.Provider.Equals("AzureOpenAI", StringComparison.OrdinalIgnoreCase))
        {
            return new AzureOpenAIClient(endpoint ?? throw new InvalidOperationException("AI__Endpoint is required for Azure OpenAI."), key,
                new AzureOpenAIClientOptions { RetryPolicy = noRetries });
        }

        if (options.Provider.Equals("OpenAI", StringComparison.OrdinalIgnoreCase))
        {
            return new OpenAIClient(key, new OpenAIClientOptions { Endpoint = endpoint, RetryPolicy = noRetries });
        }

        throw new InvalidOperationException($"AI__Provider '{options.Provider}' is not one of AzureOpenAI, OpenAI, Offline.");
    }
}
