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
    public async Task Through_Azure_OpenAI_a_hung_deployment_is_abandoned_at_the_configured_timeout_and_the_customer_gets_the_fallback()
    {
        var agent = DrBotModel();
        var writer = Writer(timeout: TimeSpan.FromSeconds(1));
        // A first call that answers: the client's cold start (JIT, connection) is not what the timeout measures. On a
        // busy machine the cold start alone can outlast the 1 s budget, so warm up until one call makes it in time.
        var warm = false;
        for (var attempt = 0; attempt < 5 && !warm; attempt++)
        {
            warm = (await writer.WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None)).FallbackReason is null;
        }

        Assert.True(warm, "the model stand-in never answered within 1 s");
        ModelState.ClearRequests();
        ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Hang));

        var reply = await writer.WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None);

        Assert.Equal((ReplyWriter.FallbackSpanish, true), (reply.Text, reply.NeedsHuman));
        Assert.Contains("in time", reply.FallbackReason);
        Assert.InRange(reply.LatencyMs, 900, 3000);
        Assert.Equal((0, 0, 0m), (reply.PromptTokens, reply.CompletionTokens, reply.Cost));
        Assert.Single(ModelState.Requests); // the budget was spent: given up, not retried
    }

    [Fact]
    public async Task Through_Azure_OpenAI_a_5xx_is_retried_with_backoff_and_when_it_persists_the_customer_gets_the_fallback_in_their_language()
    {
        var agent = DrBotModel();
        ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Status500));

        var reply = await Writer(settings: new() { ["AI:MaxRetries"] = "2", ["AI:RetryDelay"] = "00:00:00.2" })
            .WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hi, can I book a cleaning?")), CancellationToken.None);

        Assert.Equal((ReplyWriter.FallbackEnglish, true), (reply.Text, reply.NeedsHuman));
        Assert.Contains("500", reply.FallbackReason);
        var calls = ModelState.Requests;
        Assert.Equal(3, calls.Count);
        Assert.All(calls, c => Assert.Equal(("azure", Deployment), (c.Kind, c.Deployment)));
        Assert.True(calls[1].ReceivedAt - calls[0].ReceivedAt >= TimeSpan.FromMilliseconds(50), "the retry waited");
    }

    [Fact]
    public async Task Through_Azure_OpenAI_a_5xx_that_passes_is_retried_and_only_the_answered_calls_tokens_are_counted()
    {
        var agent = DrBotModel();
        ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Status500, Count: 1));
        var request = ReplyRequest(agent.TenantId, agent.Id, Customer("¿Atienden los sábados?"));

        var reply = await Writer(settings: new() { ["AI:RetryDelay"] = "00:00:00.05" }).WriteAsync(agent, Prompt(agent), request, CancellationToken.None);

        Assert.Null(reply.FallbackReason);
        Assert.Equal($"[{Deployment}] ¿Atienden los sábados?", reply.Text);
        Assert.Equal(2, ModelState.Requests.Count);
        Assert.Equal(StandInUsage.PromptTokens(ModelState.Requests[1]), reply.PromptTokens);
        Assert.Equal(StandInUsage.Cost(reply.PromptTokens, reply.CompletionTokens, PromptPer1K, CompletionPer1K), reply.Cost);
    }

    [Fact]
    public async Task Through_Azure_OpenAI_the_configured_key_is_what_the_deployment_checks()
    {
        var agent = DrBotModel();

        var refused = await Writer(apiKey: "wrong-key").WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None);

        Assert.Contains("401", refused.FallbackReason); // so the key the other tests send is the one checked
        Assert.True(refused.NeedsHuman);
    }

    [Fact]
    public async Task When_the_model_keeps_failing_the_circuit_opens_and_replies_fall_back_at_once_without_calling_it()
    {
        var agent = DrBotModel();
        ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Status500));
        var writer = Writer(settings: new()
        {
            ["AI:MaxRetries"] = "0",
            ["AI:BreakerMinimumThroughput"] = "2",
            ["AI:BreakerFailureRatio"] = "0.5",
            ["AI:BreakDuration"] = "00:00:30",
        });

        var first = await writer.WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None);
        var second = await writer.WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None);
        ModelState.ResetBehaviour(); // the model is back, but the circuit stays open for its break
        var third = await writer.WriteAsync(agent, Prompt(agent), ReplyRequest(agent.TenantId, agent.Id, Customer("Hola")), CancellationToken.None);

        Assert.Contains("500", first.FallbackReason);
        Assert.Contains("500", second.FallbackReason);
        Assert.Contains("circuit", third.FallbackReason);
        Assert.Equal(ReplyWriter.FallbackSpanish, third.Text);
        Assert.True(third.LatencyMs < 500, $"fell back in {third.LatencyMs} ms");
        Assert.Equal(2, ModelState.Requests.Count);
    }

    [Fact]
    public async Task Recent_turns_are_bounded_by_the_models_budget_keeping_the_newest()
    {
        var agent = DrBotModel();
        var prompt = Prompt(agent);
        const int window = 2_000;
        var turns = Enumerable.Range(1, 12)
            .Select(i => i % 2 == 1 ? Customer($"mensaje {i}: " + new string('a', 600)) : Bot($"respuesta {i}: " + new string('b', 600)))
            .ToArray();
        var request = ReplyRequest(agent.TenantId, agent.Id, turns);

        await Writer(settings: new() { ["AI:ContextWindowTokens"] = window.ToString(System.Globalization.CultureInfo.InvariantCulture) })
            .WriteAsync(agent, prompt, request, CancellationToken.None);

        var seen = Assert.Single(ModelState.Requests);
        var conversation = seen.Messages.Where(m => m.Role != "system").Select(m => m.Content).ToList();
        Assert.InRange(conversation.Count, 1, turns.Length - 1);                              // older turns were dropped,
        Assert.Equal(request.RecentTurns.TakeLast(conversation.Count).Select(t => t.Text), conversation); // the newest kept, in order
        var used = seen.Messages.Sum(m => ReplyWriter.EstimateTokens(m.Content)) + agent.MaxTokensPerMessage;
        Assert.True(used <= window, $"{used} tokens for a window of {window}");
        var oneMore = ReplyWriter.EstimateTokens(request.RecentTurns[^(conversation.Count + 1)].Text);
        Assert.True(used + oneMore > window, "one more turn would not have fitted");
    }

    [Fact]
    public void A_single_turn_longer_than_the_budget_still_reaches_the_model_by_its_newest_words()
    {
        var turns = new[] { new Contracts.ConversationTurn(Contracts.MessageAuthor.Customer, "inicio " + new string('x', 20_000) + " final", DateTimeOffset.UtcNow) };

        var messages = ReplyWriter.Messages("system", "context", turns, replyTokens: 500, contextWindowTokens: 2_000);

        var sent = Assert.Single(messages, m => m.Role == Microsoft.Extensions.AI.ChatRole.User).Text;
        Assert.EndsWith(" final", sent);
        Assert.DoesNotContain("inicio", sent);
        Assert.True(messages.Sum(m => ReplyWriter.EstimateTokens(m.Text)) + 500 <= 2_000);
    }

    [Theory]
    [InlineData(10_000)] // a system prompt larger than the whole window
    [InlineData(5_944)]  // 1,490 tokens: with the context (6) and the reply (500), 4 tokens are left, a message's framing
    public void When_the_system_prompt_leaves_no_room_the_newest_turn_is_sent_empty_rather_than_overflowing_the_window(int systemPromptChars)
    {
        const int window = 2_000, replyTokens = 500;
        var turns = new[] { new Contracts.ConversationTurn(Contracts.MessageAuthor.Customer, "quiero una cita " + new string('x', 4_000), DateTimeOffset.UtcNow) };
        var systemPrompt = new string('s', systemPromptChars);

        var messages = ReplyWriter.Messages(systemPrompt, "context", turns, replyTokens, window);

        var sent = Assert.Single(messages, m => m.Role == Microsoft.Extensions.AI.ChatRole.User).Text;
        Assert.Equal("", sent);
        var framing = ReplyWriter.EstimateTokens("");
        Assert.Equal(ReplyWriter.EstimateTokens(systemPrompt) + ReplyWriter.EstimateTokens("context") + framing, messages.Sum(m => ReplyWriter.EstimateTokens(m.Text)));
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
        return new ReplyWriter(new ChatClientFactory(options, NullLoggerFactory.Instance), new PriceTable(configuration),
            new ModelResilience(options, TimeProvider.System), options, NullLogger<ReplyWriter>.Instance);
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
