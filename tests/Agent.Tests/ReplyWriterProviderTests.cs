using System.ClientModel;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Agent.Model;
using SafeNotify.Crm.Agent.Services;
using SafeNotify.Crm.ModelStandIn;
using static SafeNotify.Crm.Agent.Tests.Seed;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>
/// The service's ReplyWriter and ChatClientFactory, built from configuration as the service binds it, running the real
/// Azure.AI.OpenAI and OpenAI clients against the model stand-in: Azure OpenAI (<c>AI:Provider=AzureOpenAI</c>) and
/// an OpenAI-compatible server with one model for every agent (<c>AI:Model</c>).
/// </summary>
public sealed class ReplyWriterProviderTests : IAsyncLifetime
{
    private const string ApiKey = "azure-key-0123456789";
    private const string Deployment = "my-deployment";
    private const decimal PromptPer1K = 0.25m;
    private const decimal CompletionPer1K = 2m;

    private WebApplication _model = null!;

    private ModelStandInState ModelState => _model.Services.GetRequiredService<ModelStandInState>();

    public async Task InitializeAsync()
    {
        _model = ModelStandInApp.Build(["--urls", "http://127.0.0.1:0"], options => options.ApiKey = ApiKey);
        await _model.StartAsync();
    }

    public async Task DisposeAsync() => await _model.DisposeAsync();

    [Fact]
    public async Task Through_Azure_OpenAI_the_deployment_answers_with_the_tokens_it_reported_priced_from_configuration()
    {
        var agent = DrBotModel(model: "gpt-4o-mini"); // Azure calls the deployment, whatever the agent's model
        var prompt = Prompt(agent);
        var request = ReplyRequest(agent.TenantId, agent.Id, Customer("Hola"), Bot("¡Hola! Soy DrBot."), Customer("¿Tienen cita el sábado?"));

        var reply = await Writer().WriteAsync(agent, prompt, request, CancellationToken.None);

        var seen = Assert.Single(ModelState.Requests);
        Assert.Equal(("azure", Deployment), (seen.Kind, seen.Deployment));
        Assert.Equal($"/openai/deployments/{Deployment}/chat/completions", seen.Path);
        Assert.False(string.IsNullOrEmpty(seen.ApiVersion));
        Assert.Equal(("system", prompt.SystemPrompt), (seen.Messages[0].Role, seen.Messages[0].Content));
        Assert.Equal(request.RecentTurns.Select(t => t.Text), seen.Messages.Where(m => m.Role != "system").Select(m => m.Content));

        Assert.Equal($"[{Deployment}] ¿Tienen cita el sábado?", reply.Text);
        Assert.Equal(Deployment, reply.Model);
        Assert.Equal(StandInUsage.PromptTokens(seen), reply.PromptTokens);
        Assert.Equal(StandInUsage.CompletionTokens(reply.Text), reply.CompletionTokens);
        Assert.Equal(StandInUsage.Cost(reply.PromptTokens, reply.CompletionTokens, PromptPer1K, CompletionPer1K), reply.Cost);
    }

    [Fact]
    public async Task Through_Azure_OpenAI_a_hung_deployment_is_abandoned_at_the_configured_timeout()
    {
        var agent = DrBotModel();
        ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Hang));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            Writer(timeout: TimeSpan.FromSeconds(1)).WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None));
        Assert.Single(ModelState.Requests); // given up, not retried
    }

    [Fact]
    public async Task Through_Azure_OpenAI_the_configured_key_is_what_the_deployment_checks()
    {
        var agent = DrBotModel();

        var refused = await Assert.ThrowsAsync<ClientResultException>(() =>
            Writer(apiKey: "wrong-key").WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None));
        Assert.Equal(401, refused.Status); // so the key the other tests send is the one checked
    }

    [Fact]
    public async Task A_local_server_model_set_in_AI_Model_answers_for_every_agent_and_is_priced_by_its_name()
    {
        const string localModel = "llama-3.1-8b-local";
        var agent = DrBotModel(model: "gpt-4o");
        var request = ReplyRequest(agent.TenantId, agent.Id, Customer("¿Hacen ortodoncia invisible?"));
        var writer = Writer(settings: new()
        {
            ["AI:Provider"] = "OpenAI",
            ["AI:Endpoint"] = _model.Urls.First() + "/v1",
            ["AI:Model"] = localModel,
            [$"AI:Prices:{localModel}:PromptPer1K"] = "0.01",
            [$"AI:Prices:{localModel}:CompletionPer1K"] = "0.02",
        });

        var reply = await writer.WriteAsync(agent, Prompt(agent), request, CancellationToken.None);

        var seen = Assert.Single(ModelState.Requests);
        Assert.Equal(("openai", localModel), (seen.Kind, seen.Model));
        Assert.Equal(localModel, reply.Model);
        Assert.Equal($"[{localModel}] ¿Hacen ortodoncia invisible?", reply.Text);
        Assert.Equal(StandInUsage.Cost(reply.PromptTokens, reply.CompletionTokens, 0.01m, 0.02m), reply.Cost);
    }

    private ReplyWriter Writer(TimeSpan? timeout = null, string apiKey = ApiKey, Dictionary<string, string?>? settings = null)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["AI:Provider"] = "AzureOpenAI",
            ["AI:Endpoint"] = _model.Urls.First(),
            ["AI:ApiKey"] = apiKey,
            ["AI:Deployment"] = Deployment,
            ["AI:Timeout"] = (timeout ?? TimeSpan.FromSeconds(20)).ToString("c"),
            [$"AI:Prices:{Deployment}:PromptPer1K"] = PromptPer1K.ToString(System.Globalization.CultureInfo.InvariantCulture),
            [$"AI:Prices:{Deployment}:CompletionPer1K"] = CompletionPer1K.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }).AddInMemoryCollection(settings ?? []).Build();
        var options = Options.Create(configuration.GetSection("AI").Get<AiOptions>()!);
        return new ReplyWriter(new ChatClientFactory(options, NullLoggerFactory.Instance), new PriceTable(configuration), options);
    }

    private static AgentPrompt Prompt(AiAgent agent) => new()
    {
        Id = "prm_test",
        AgentId = agent.Id,
        TenantId = agent.TenantId,
        Version = 1,
        SystemPrompt = PromptComposer.Compose(agent),
        TriggerReason = "initial",
        IsActive = true,
    };
}
