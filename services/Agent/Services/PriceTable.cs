using System.Collections.Concurrent;
using Microsoft.Extensions.Logging.Abstractions;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>A model's price in USD per 1,000 prompt and completion tokens.</summary>
public sealed record ModelPrice(decimal PromptPer1K, decimal CompletionPer1K);

/// <summary>
/// Estimated cost of a reply from the tokens the provider reported. Prices come from configuration
/// (<c>AI:Prices:{model}:PromptPer1K</c> / <c>CompletionPer1K</c>; for Azure OpenAI the model is the deployment's name),
/// with list prices for common models.
/// </summary>
public sealed partial class PriceTable
{
    private static readonly Dictionary<string, ModelPrice> ListPrices = new(StringComparer.OrdinalIgnoreCase)
    {
        ["gpt-3.5-turbo"] = new(0.0005m, 0.0015m),
        ["gpt-4o-mini"] = new(0.00015m, 0.0006m),
        ["gpt-4o"] = new(0.0025m, 0.01m),
        ["gpt-4.1-mini"] = new(0.0004m, 0.0016m),
        ["gpt-4.1"] = new(0.002m, 0.008m),
        ["offline"] = new(0m, 0m),
    };

    private readonly Dictionary<string, ModelPrice> _prices;
    private readonly ILogger _logger;
    private readonly ConcurrentDictionary<string, bool> _unpriced = new(StringComparer.OrdinalIgnoreCase);

    public PriceTable(IConfiguration configuration, ILogger<PriceTable>? logger = null)
    {
        _logger = logger ?? NullLogger<PriceTable>.Instance;
        _prices = new Dictionary<string, ModelPrice>(ListPrices, StringComparer.OrdinalIgnoreCase);
        foreach (var model in configuration.GetSection("AI:Prices").GetChildren())
        {
            _prices[model.Key] = new ModelPrice(model.GetValue<decimal>("PromptPer1K"), model.GetValue<decimal>("CompletionPer1K"));
        }
    }

    /// <summary>
    /// Unknown models cost nothing rather than a guess; the tokens are still counted. An operator hears of each unknown
    /// model once (not once per reply), since its cost figures then read zero until a price is configured.
    /// </summary>
    public decimal Cost(string model, long promptTokens, long completionTokens)
    {
        if (_prices.TryGetValue(model, out var price))
        {
            return Math.Round((promptTokens * price.PromptPer1K + completionTokens * price.CompletionPer1K) / 1000m, 6);
        }

        if (_unpriced.TryAdd(model, true))
        {
            LogUnpriced(_logger, model);
        }

        return 0m;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "No price is configured for model {Model}: its replies count as costing 0. Set AI__Prices__<model>__PromptPer1K and __CompletionPer1K (for Azure OpenAI, <model> is the deployment's name).")]
    private static partial void LogUnpriced(ILogger logger, string model);
}
