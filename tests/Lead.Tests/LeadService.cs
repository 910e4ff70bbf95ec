using System.Text.Json;
using System.Text.Json.Serialization;
using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Lead.Data;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.Lead.Tests;

/// <summary>
/// The Lead service over a real database and broker. Tests play Routing, Agent and Ingress: they publish
/// those services' events on the broker and observe what Lead publishes, stores and answers.
/// </summary>
public sealed class LeadService() : ServiceFactory<Program>("lead")
{
    private static readonly JsonSerializerOptions OutboxJson = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public Consumption Consumed { get; } = new("lead");

    public override async Task InitializeAsync()
    {
        await base.InitializeAsync();
        Bus.ConnectConsumeObserver(Consumed);
    }

    /// <summary>Publishes <paramref name="message"/> as its owner would and waits until Lead has handled it.</summary>
    public async Task<Guid> HandledAsync<T>(T message, Guid? messageId = null) where T : class
    {
        var id = messageId ?? NewId.NextGuid();
        await Bus.Publish(message, context => context.MessageId = id);
        await Consumed.WaitAsync(id, typeof(T).Name);
        return id;
    }

    /// <summary>
    /// Every <typeparamref name="T"/> Lead has committed for publishing (its outbox, written in the same transaction
    /// as the change): exact counts, with no race against the broker. What reached the wire is checked with WatchAsync.
    /// </summary>
    public async Task<IReadOnlyList<T>> PublishedAsync<T>(Func<T, bool> match) where T : class
    {
        var type = $"{typeof(T).FullName}, {typeof(T).Assembly.GetName().Name}";
        var bodies = await WithDbAsync(db => db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == type)
            .OrderBy(m => m.Sequence).Select(m => m.Body).ToListAsync());
        return bodies.Select(b => JsonSerializer.Deserialize<T>(b, OutboxJson)!).Where(match).ToList();
    }

    public async Task<T> WithDbAsync<T>(Func<LeadDbContext, Task<T>> work)
    {
        await using var scope = Services.CreateAsyncScope();
        return await work(scope.ServiceProvider.GetRequiredService<LeadDbContext>());
    }
}

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
