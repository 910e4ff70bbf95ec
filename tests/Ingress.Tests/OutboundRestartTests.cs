using MassTransit;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Ingress.Data;
using SafeNotify.Crm.Ingress.Model;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.TestSupport;
using SafeNotify.Crm.TwilioStandIn;

namespace SafeNotify.Crm.Ingress.Tests;

/// <summary>
/// Retries and pacing are data (timers in the outbox), so they survive a restart. These Ingress instances run on a
/// database and a broker of their own: only the instances a test starts and stops handle its messages (on the shared
/// broker the collection's Ingress would take them), and they call the collection's Twilio stand-in.
/// </summary>
[Collection(IngressCollection.Name)]
public sealed class OutboundRestartTests(IngressService ingress)
{
    private const string Number = "+57302222222";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_retry_pending_when_Ingress_stops_is_sent_once_by_the_Ingress_started_next_on_the_same_database()
    {
        await using var broker = new RabbitMqServer();
        await broker.StartAsync();
        var database = await (await SharedServers.PostgresAsync()).CreateServiceDatabaseAsync("ingress");
        WebApplicationFactory<Program> Instance() => ingress.InstanceOn(database, broker.ConnectionString);

        var first = Instance();
        var customer = await IngressService.WithDbAsync(first, db => IngressService.CustomerWroteAsync(db, Number, DateTimeOffset.UtcNow));
        var command = new SendWhatsAppMessage("msg_" + Guid.NewGuid().ToString("N")[..12], "tnt_test", "conv_test", IngressService.AccountSid,
            Number, customer, "Le esperamos mañana a las 9:00.", MessageAuthor.AiAgent, DateTimeOffset.UtcNow);
        // Twilio refuses for a moment, for longer than this instance lives.
        ingress.Twilio.SetFault(new TwilioFault(TwilioFaultMode.Status429, Count: 1000));
        try
        {
            await first.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, Patience);
            await first.Services.GetRequiredService<IBus>().Publish(command);
            await Eventually.TrueAsync(async () => (await IngressService.WithDbAsync(first, db => IngressService.TimersOfAsync(db, command.OutboundId))).Count > 0,
                "a retry timer committed", Patience);
        }
        finally
        {
            await first.DisposeAsync(); // stopped with the retry waiting as a row in the database
            ingress.Twilio.ClearFault();
        }

        Assert.DoesNotContain(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");

        // MassTransit keeps its log context in an async-local that this test's flow picked up from the stopped instance
        // (whose logger factory is disposed); a new bus adopts the current one, so it starts from none.
        LogContext.Current = null;
        await using var second = Instance();
        await second.Services.GetRequiredService<IBusControl>().WaitForHealthStatus(BusHealthStatus.Healthy, Patience);
        var atTwilio = await ingress.Twilio.WaitForMessageAsync(m => m.To == $"whatsapp:{customer}", Patience);
        await Eventually.TrueAsync(() => IngressService.WithDbAsync(second, db => db.OutboundMessages.AnyAsync(m => m.OutboundId == command.OutboundId && m.State == OutboundState.Sent)),
            "the message recorded as sent", Patience);

        var part = await IngressService.WithDbAsync(second, db => db.OutboundParts.AsNoTracking().SingleAsync(p => p.OutboundId == command.OutboundId));
        Assert.Equal((PartState.Sent, atTwilio.Sid), (part.State, part.TwilioSid));
        Assert.True(part.Attempts >= 2, $"{part.Attempts} attempts");
        Assert.Single(ingress.Twilio.SentMessages, m => m.To == $"whatsapp:{customer}");
    }
}
