using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;

namespace SafeNotify.Crm.ModelStandIn;

/// <summary>Body of <c>POST /_standin/replies</c>: replies to give, in order, before echoing again.</summary>
public sealed record ScriptedReplies(IReadOnlyList<string> Replies);

/// <summary>
/// Builds the model stand-in: OpenAI's <c>/v1/chat/completions</c> and Azure OpenAI's
/// <c>/openai/deployments/{deployment}/chat/completions</c>, non-streaming, with deterministic replies:
/// <c>"[{model}] " + the last user message</c>. Run it as its own process or start it inside a test.
/// </summary>
public static class ModelStandInApp
{
    // Credential headers are checked, never recorded.
    private static readonly HashSet<string> SecretHeaders = new(StringComparer.OrdinalIgnoreCase) { "Authorization", "api-key" };

    public static WebApplication Build(string[] args, Action<ModelStandInOptions>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ApplicationName = typeof(ModelStandInApp).Assembly.GetName().Name,
        });
        builder.Services.Configure<ModelStandInOptions>(builder.Configuration.GetSection(ModelStandInOptions.SectionName));
        if (configure is not null)
        {
            builder.Services.PostConfigure(configure);
        }

        builder.Services.AddSingleton<ModelStandInState>();
        builder.Services.ConfigureHttpJsonOptions(json =>
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false)));

        var app = builder.Build();
        app.MapPost("/v1/chat/completions", (HttpContext context, ModelStandInState state, IOptions<ModelStandInOptions> options, IHostApplicationLifetime lifetime) =>
            CompleteAsync(context, "openai", null, state, options.Value, lifetime.ApplicationStopping));
        app.MapPost("/openai/deployments/{deployment}/chat/completions", (string deployment, HttpContext context, ModelStandInState state, IOptions<ModelStandInOptions> options, IHostApplicationLifetime lifetime) =>
            CompleteAsync(context, "azure", deployment, state, options.Value, lifetime.ApplicationStopping));

        var control = app.MapGroup("/_standin");
        control.MapGet("/health", () => Results.Text("Healthy"));
        control.MapGet("/requests", (ModelStandInState state) => state.Requests);
        control.MapDelete("/requests", (ModelStandInState state) =>
        {
            state.ClearRequests();
            return Results.NoContent();
        });
        control.MapPost("/behaviour", (ModelBehaviour behaviour, ModelStandInState state) =>
        {
            state.SetBehaviour(behaviour);
            return Results.NoContent();
        });
        control.MapDelete("/behaviour", (ModelStandInState state) =>
        {
            state.ResetBehaviour();
            return Results.NoContent();
        });
        control.MapPost("/replies", (ScriptedReplies input, ModelStandInState state) =>
        {
            foreach (var reply in input.Replies)
            {
                state.EnqueueReply(reply);
            }

            return Results.NoContent();
        });
        return app;
    }

    private static async Task<IResult> CompleteAsync(
        HttpContext context, string kind, string? deployment, ModelStandInState state, ModelStandInOptions options, CancellationToken stopping)
    {
        var aborted = context.RequestAborted;

        if (!string.IsNullOrEmpty(options.ApiKey) && !HasKey(context.Request, options.ApiKey))
        {
            return OpenAIError(401, "Incorrect API key provided.", "invalid_request_error", "invalid_api_key");
        }

        string body;
        using (var reader = new StreamReader(context.Request.Body, Encoding.UTF8))
        {
            body = await reader.ReadToEndAsync(aborted);
        }

        JsonObject request;
        try
        {
            request = JsonNode.Parse(body) as JsonObject ?? throw new JsonException("The body is not a JSON object.");
        }
        catch (JsonException ex)
        {
            return OpenAIError(400, $"We could not parse the JSON body of your request: {ex.Message}", "invalid_request_error", null);
        }

        if (request["stream"]?.GetValueKind() == JsonValueKind.True)
        {
            return OpenAIError(400, "The model stand-in does not stream: send the request without stream=true.", "invalid_request_error", "unsupported_parameter", "stream");
        }

        // Azure names the deployment in the path; OpenAI names the model in the body.
        var model = deployment ?? StringOf(request["model"]);
        if (string.IsNullOrEmpty(model))
        {
            return OpenAIError(400, "you must provide a model parameter", "invalid_request_error", null, "model");
        }

        var messages = (request["messages"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(m => new ModelMessage(StringOf(m["role"]) ?? "", ContentText(m["content"])))
            .ToList();
        state.Record(new ModelRequest(
            Kind: kind,
            Path: context.Request.Path,
            Model: model,
            Deployment: deployment,
            ApiVersion: context.Request.Query["api-version"].FirstOrDefault(),
            Messages: messages,
            Temperature: NumberOf(request["temperature"]),
            MaxTokens: (int?)(NumberOf(request["max_completion_tokens"]) ?? NumberOf(request["max_tokens"])),
            Headers: context.Request.Headers.Where(h => !SecretHeaders.Contains(h.Key)).ToDictionary(h => h.Key, h => h.Value.ToString()),
            Body: body,
            ReceivedAt: DateTimeOffset.UtcNow));
        using var answering = state.Answering();

        var behaviour = state.TakeBehaviour();
        if (!await WaitAsync(behaviour.LatencyMs, aborted))
        {
            return Results.Empty;
        }

        switch (behaviour.Mode)
        {
            case ModelMode.Status500:
                return OpenAIError(500, "The server had an error while processing your request. Sorry about that!", "server_error", null);
            case ModelMode.Status429:
                context.Response.Headers["retry-after-ms"] = behaviour.RetryAfterMs.ToString(CultureInfo.InvariantCulture);
                context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(behaviour.RetryAfterMs / 1000.0)).ToString(CultureInfo.InvariantCulture);
                return OpenAIError(429, $"Rate limit reached for {model}. Please try again later.", "requests", "rate_limit_exceeded");
            case ModelMode.Hang:
                // Until the client gives up, or the stand-in stops (so a hung request never holds up shutdown).
                using (var either = CancellationTokenSource.CreateLinkedTokenSource(aborted, stopping))
                {
                    await WaitAsync(Timeout.Infinite, either.Token);
                }

                return stopping.IsCancellationRequested ? OpenAIError(503, "The model stand-in is stopping.", "server_error", null) : Results.Empty;
        }

        var lastUser = messages.LastOrDefault(m => m.Role == "user")?.Content ?? "";
        var reply = state.TakeScriptedReply() ?? behaviour.Reply ?? $"[{model}] {lastUser}";
        var promptTokens = Math.Max(1, messages.Sum(m => WordCount(m.Content))) + 3 * messages.Count;
        var completionTokens = Math.Max(1, WordCount(reply));

        // OpenAI's chat.completion object, field for field.
        return Results.Json(new Dictionary<string, object?>
        {
            ["id"] = "chatcmpl-" + Guid.NewGuid().ToString("N"),
            ["object"] = "chat.completion",
            ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(),
            ["model"] = model,
            ["choices"] = new[]
            {
                new Dictionary<string, object?>
                {
                    ["index"] = 0,
                    ["message"] = new Dictionary<string, object?> { ["role"] = "assistant", ["content"] = reply, ["refusal"] = null },
                    ["finish_reason"] = "stop",
                    ["logprobs"] = null,
                },
            },
            ["usage"] = new Dictionary<string, int>
            {
                ["prompt_tokens"] = promptTokens,
                ["completion_tokens"] = completionTokens,
                ["total_tokens"] = promptTokens + completionTokens,
            },
            ["system_fingerprint"] = "standin",
        });
    }

    /// <summary>OpenAI sends <c>Authorization: Bearer</c>, Azure <c>api-key</c>; either is accepted on both paths.</summary>
    private static bool HasKey(HttpRequest request, string expected)
    {
        var authorization = request.Headers.Authorization.ToString();
        var given = authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
            ? authorization["Bearer ".Length..].Trim()
            : request.Headers["api-key"].ToString();
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(given), Encoding.UTF8.GetBytes(expected));
    }

    /// <summary>A message's text: content is a string, or an array of parts whose text parts count.</summary>
    private static string ContentText(JsonNode? content) => content switch
    {
        JsonValue value when value.GetValueKind() == JsonValueKind.String => value.GetValue<string>(),
        JsonArray parts => string.Join("\n", parts.OfType<JsonObject>().Select(p => StringOf(p["text"])).OfType<string>()),
        _ => "",
    };

    private static string? StringOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : null;

    private static double? NumberOf(JsonNode? node) =>
        node is JsonValue value && value.GetValueKind() == JsonValueKind.Number ? value.GetValue<double>() : null;

    private static int WordCount(string text) =>
        text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>Waits unless the client gives up first (false then).</summary>
    private static async Task<bool> WaitAsync(int milliseconds, CancellationToken aborted)
    {
        if (milliseconds == 0)
        {
            return true;
        }

        try
        {
            await Task.Delay(milliseconds, aborted);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static IResult OpenAIError(int status, string message, string type, string? code, string? param = null) =>
        Results.Json(new { error = new { message, type, param, code } }, statusCode: status);
}
