using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Ingress.Services;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.TestSupport;
using SafeNotify.Crm.TwilioStandIn;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>
/// Ingress over a real database and broker, calling a Twilio stand-in on a real port through the real
/// Twilio library. Webhooks are posted to Ingress directly, signed for its public URL.
/// </summary>
public sealed class IngressService() : ServiceFactory<Program, IngressDbContext>("ingress")
{
    public const string AccountSid = "AC11111111111111111111111111111111";
    public const string AuthToken = "11111111111111111111111111111111";
    public const string SubaccountSid = "AC22222222222222222222222222222222";
    public const string SubaccountToken = "22222222222222222222222222222222";
    public const string PublicBaseUrl = "https://crm.safenotify.test";
    public const int PerNumberPerSecond = 10;

    /// <summary>A number paced at one send a second (its own setting), for tests where a pacing slot must be slow.</summary>
    public const string SlowNumber = "+57605550100";

    /// <summary>
    /// A send still "in the call" this long after it began was interrupted (Twilio:InterruptedAfter; two minutes in
    /// production): short, so a test can arrange a crash that long ago while Twilio's record of the send is recent.
    /// </summary>
    public static readonly TimeSpan InterruptedAfter = TimeSpan.FromSeconds(10);

    /// <summary>How long a message waits for the one numbered before it (Twilio:OutboundStalledAfter; short here).</summary>
    public static readonly TimeSpan OutboundStalledAfter = TimeSpan.FromSeconds(2);

    private WebApplication? _twilio;
    private string _twilioUrl = "";

    public TwilioStandInState Twilio => _twilio!.Services.GetRequiredService<TwilioStandInState>();

    /// <summary>The stand-in's base URL (what Ingress has as Twilio__ApiBaseUrl).</summary>
    public string TwilioUrl => _twilioUrl;

    public override async Task InitializeAsync()
    {
        _twilio = TwilioStandInApp.Build(["--urls", "http://127.0.0.1:0"], options =>
        {
            options.AccountSid = AccountSid;
            options.AuthToken = AuthToken;
            options.Accounts[SubaccountSid] = new TwilioStandInAccount { AuthToken = SubaccountToken };
            // Callbacks would go to the public URL, which does not exist here: tests post them themselves.
            options.AutoAdvanceStatuses = false;
        });
        await _twilio.StartAsync();
        _twilioUrl = _twilio.Urls.First();
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        if (_twilio is not null)
        {
            await _twilio.DisposeAsync();
        }
    }

    protected override void ConfigureService(IWebHostBuilder builder)
    {
        builder.UseSetting("Twilio:AccountSid", AccountSid);
        builder.UseSetting("Twilio:AuthToken", AuthToken);
        builder.UseSetting($"Twilio:Accounts:{SubaccountSid}:AuthToken", SubaccountToken);
        builder.UseSetting("Twilio:ApiBaseUrl", _twilioUrl);
        builder.UseSetting("Twilio:PublicBaseUrl", PublicBaseUrl);
        // Quick retries and a brisk pace, so tests of both take a moment rather than Twilio's real seconds.
        builder.UseSetting("Twilio:RetryBaseDelay", "00:00:00.100");
        builder.UseSetting("Twilio:SendsPerSecondPerNumber", PerNumberPerSecond.ToString(System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting($"Twilio:SendsPerSecondByNumber:{SlowNumber}", "1");
        builder.UseSetting("Twilio:OutboundStalledAfter", OutboundStalledAfter.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
        builder.UseSetting("Twilio:InterruptedAfter", InterruptedAfter.ToString("c", System.Globalization.CultureInfo.InvariantCulture));
    }

    public Task<HttpResponseMessage> PostWebhookAsync(string path, IReadOnlyDictionary<string, string> form, string? authToken = AuthToken) =>
        PostWebhookAsync(this, path, form, authToken);

    /// <summary>Posts <paramref name="form"/> to <paramref name="instance"/> as Twilio would, signed with <paramref name="authToken"/> (unsigned when null).</summary>
    public static async Task<HttpResponseMessage> PostWebhookAsync(WebApplicationFactory<Program> instance, string path, IReadOnlyDictionary<string, string> form, string? authToken = AuthToken)
    {
        using var client = instance.CreateClient();
        using var request = authToken is null
            ? new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) }
            : TwilioSigner.SignedPost(PublicBaseUrl, path, form, authToken);
        return await client.SendAsync(request);
    }

    /// <summary>
    /// Another Ingress, on a database and a broker of its own: on the shared broker the collection's Ingress would take
    /// its messages. It calls the collection's Twilio stand-in and starts when first used.
    /// </summary>
    public WebApplicationFactory<Program> InstanceOn(string database, string broker) => WithWebHostBuilder(builder => builder
        .UseSetting("ConnectionStrings:ingress-db", database)
        .UseSetting("ConnectionStrings:messaging", broker));

    /// <summary>Runs <paramref name="work"/> with <paramref name="instance"/>'s own DbContext, seeing every tenant's rows (starting the instance if need be).</summary>
    public static async Task<T> WithDbAsync<T>(WebApplicationFactory<Program> instance, Func<IngressDbContext, Task<T>> work)
    {
        await using var scope = instance.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IngressDbContext>();
        return await db.AcrossTenantsAsync(() => work(db));
    }

    public Task<int> StoredAsync(string messageSid) => StoredAsync(this, messageSid);

    /// <summary>How many inbound messages <paramref name="instance"/>'s database holds with this MessageSid.</summary>
    public static Task<int> StoredAsync(WebApplicationFactory<Program> instance, string messageSid) =>
        WithDbAsync(instance, db => db.InboundMessages.CountAsync(m => m.MessageSid == messageSid));

    /// <summary>
    /// What a crash inside the Twilio call leaves behind: the message started, its send in progress, no outcome. A
    /// command with a template and no text was a template send.
    /// </summary>
    public Task RecordInterruptedSendAsync(SendWhatsAppMessage command, TimeSpan startedAgo) =>
        WithDbAsync(async db =>
        {
            var started = DateTimeOffset.UtcNow - startedAgo;
            var message = OutboundMessage.Record(command, started, new CustomerServiceWindow(started), started);
            message.Start(started);
            message.Claim(message.NextPart!, started);
            db.OutboundMessages.Add(message);
            return await db.SaveChangesAsync();
        });

    /// <summary>
    /// A customer's message to <paramref name="number"/> received at <paramref name="receivedAt"/> (stored as the webhook
    /// stores it): what opens, or once opened, the 24-hour window. Returns the customer.
    /// </summary>
    public static async Task<string> CustomerWroteAsync(IngressDbContext db, string number, DateTimeOffset receivedAt)
    {
        var customer = "+5731" + Random.Shared.Next(10_000_000, 99_999_999);
        db.InboundMessages.Add(new SafeNotify.Crm.Ingress.Model.InboundMessage
        {
            Id = "in_" + Guid.NewGuid().ToString("N"), MessageSid = "SM" + Guid.NewGuid().ToString("N"), AccountSid = AccountSid,
            To = number, CustomerId = customer, CustomerPhone = customer, Body = "Hola", Sequence = 1, ReceivedAt = receivedAt,
            RawPayload = new() { ["Body"] = "Hola" },
        });
        await db.SaveChangesAsync();
        return customer;
    }

    /// <summary>The retry and pacing timers (outbox rows with a due time) committed for an outbound message, in order.</summary>
    public static async Task<List<OutboxMessage>> TimersOfAsync(IngressDbContext db, string outboundId)
    {
        var type = $"{typeof(OutboundSendDue).FullName}, {typeof(OutboundSendDue).Assembly.GetName().Name}";
        var rows = await db.OutboxMessages.AsNoTracking().Where(m => m.MessageType == type).OrderBy(m => m.Sequence).ToListAsync();
        return rows.Where(m => m.Body.Contains($"\"{outboundId}\"", StringComparison.Ordinal)).ToList();
    }

    /// <summary>
    /// Waits until <paramref name="number"/> has no pacing slot reserved ahead: a test that measures the pace starts
    /// from a free number, whatever earlier tests reserved.
    /// </summary>
    public async Task WaitUntilPaceIsFreeAsync(string number)
    {
        var next = await WithDbAsync(db => db.SenderPacing.AsNoTracking().Where(p => p.Number == number)
            .Select(p => (DateTimeOffset?)p.NextSlotAt).FirstOrDefaultAsync());
        if (next is { } at && at > DateTimeOffset.UtcNow)
        {
            await Task.Delay(at - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(50));
        }
    }
}

[CollectionDefinition(Name)]
public sealed class IngressCollection : ICollectionFixture<IngressService>
{
    public const string Name = "ingress service";
}
