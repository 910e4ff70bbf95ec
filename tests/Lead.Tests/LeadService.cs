using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// The Lead service over a real database and broker. Tests play Routing, Agent and Ingress: they publish
/// those services' events on the broker and observe what Lead publishes, stores and answers.
/// </summary>
public sealed class LeadService() : ServiceFactory<Program, LeadDbContext>("lead");

[CollectionDefinition(Name)]
public sealed class LeadCollection : ICollectionFixture<LeadService>
{
    public const string Name = "lead service";
}

/// <summary>One customer writing to one tenant's number: builds the events Routing would publish for them.</summary>
public sealed record Chat(string TenantId, string NumberId, string NumberPhone, string CustomerId, string? CustomerPhone, string ProfileName)
{
    public const string AccountSid = "AC11111111111111111111111111111111";

    public static Chat New(string? tenantId = null, string profileName = "María González")
    {
        var phone = "+57300" + Random.Shared.Next(1_000_000, 9_999_999);
        return new Chat(tenantId ?? NewTenant(), "num_" + Guid.NewGuid().ToString("N")[..12],
            "+57601" + Random.Shared.Next(1_000_000, 9_999_999), phone, phone, profileName);
    }

    public static string NewTenant() => "tnt_" + Guid.NewGuid().ToString("N")[..12];

    public static string NewAgent() => "agt_" + Guid.NewGuid().ToString("N")[..12];

    /// <summary>The customer's message number <paramref name="sequence"/>, routed to <paramref name="agentId"/>.</summary>
    public InboundMessageRouted Says(long sequence, string text, string? agentId, ReplyPolicy reply = ReplyPolicy.Agent,
        bool matchedKeyword = false, string reason = "the number's default agent", string? inboundMessageId = null) =>
        new(TenantId, NumberId, NumberPhone, AccountSid, inboundMessageId ?? "in_" + Guid.NewGuid().ToString("N")[..12],
            "SM" + Guid.NewGuid().ToString("N"), CustomerId, CustomerPhone, ProfileName, text, [], sequence,
            DateTimeOffset.UtcNow, reply, agentId, reason, matchedKeyword, InsideBusinessHours: reply == ReplyPolicy.Agent);

    /// <summary>The agent's reply to every customer message up to <paramref name="basedOn"/>.</summary>
    public AgentReplyGenerated Reply(string conversationId, string agentId, long basedOn, string text, bool needsHuman = false) =>
        new(TenantId, conversationId, agentId, basedOn, text, 1, "offline", 120, 30, 0.0015m, 800, needsHuman, DateTimeOffset.UtcNow);
}
