using SafeNotify.Crm.ModelStandIn;

namespace SafeNotify.Crm.Agent.Tests;

/// <summary>The usage the model stand-in reports for a request (its documented rule), to compare with what Agent published.</summary>
public static class StandInUsage
{
    public static int PromptTokens(ModelRequest request) =>
        Math.Max(1, request.Messages.Sum(m => Words(m.Content))) + 3 * request.Messages.Count;

    public static int CompletionTokens(string reply) => Math.Max(1, Words(reply));

    public static decimal Cost(int promptTokens, int completionTokens, decimal promptPer1K, decimal completionPer1K) =>
        (promptTokens * promptPer1K + completionTokens * completionPer1K) / 1000m;

    private static int Words(string text) => text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries).Length;
}
