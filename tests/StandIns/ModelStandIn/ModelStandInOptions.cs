namespace SafeNotify.Crm.ModelStandIn;

/// <summary>Settings of the model stand-in, bound from the configuration section <c>StandIn</c>.</summary>
public sealed class ModelStandInOptions
{
    public const string SectionName = "StandIn";

    /// <summary>The key every request must carry (Bearer or <c>api-key</c>); null or empty accepts any.</summary>
    public string? ApiKey { get; set; }
}
