using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.ModelStandIn;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>
/// The Agent service configured for an OpenAI-compatible provider (<c>AI:Provider=OpenAI</c>), calling the model
/// stand-in on a real port through the real OpenAI client. It runs on a broker of its own: on the shared one its
/// queues would compete with the Offline service's for the same messages.
/// </summary>
public sealed class ModelBackedAgentService : AgentService
{
    public const string ApiKey = "sk-agent-tests-0123456789";
    public const string Model = "gpt-4o-mini";
    public const decimal PromptPer1K = 0.5m;
    public const decimal CompletionPer1K = 1.5m;

    public const int MaxRetries = 2;

    /// <summary>Short, so a hung model fails a reply quickly; the retries of a 500 fit well inside it.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(3);

    private readonly RabbitMqServer _broker = new();
    private WebApplication? _model;

    public ModelStandInState ModelState => _model!.Services.GetRequiredService<ModelStandInState>();

    public override async Task InitializeAsync()
    {
        _model = ModelStandInApp.Build(["--urls", "http://127.0.0.1:0"], options => options.ApiKey = ApiKey);
        await _model.StartAsync();
        await _broker.StartAsync();
        Broker = _broker.ConnectionString;
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_model is not null)
        {
            await _model.DisposeAsync();
        }

        await _broker.DisposeAsync();
    }

    protected override void ConfigureService(IWebHostBuilder builder)
    {
        builder.UseSetting("AI:Provider", "OpenAI");
        builder.UseSetting("AI:Endpoint", _model!.Urls.First() + "/v1");
        builder.UseSetting("AI:ApiKey", ApiKey);
        builder.UseSetting("AI:Timeout", Timeout.ToString("c", CultureInfo.InvariantCulture));
        builder.UseSetting("AI:MaxRetries", MaxRetries.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting("AI:RetryDelay", "00:00:00.1");
        // The circuit breaker has its own tests; here a few failing tests in a row must not open it for the next ones.
        builder.UseSetting("AI:BreakerMinimumThroughput", "1000");
        builder.UseSetting($"AI:Prices:{Model}:PromptPer1K", PromptPer1K.ToString(CultureInfo.InvariantCulture));
        builder.UseSetting($"AI:Prices:{Model}:CompletionPer1K", CompletionPer1K.ToString(CultureInfo.InvariantCulture));
    }
}

[CollectionDefinition(Name)]
public sealed class ModelBackedAgentCollection : ICollectionFixture<ModelBackedAgentService>
{
    public const string Name = "agent service with a model";
}
