using System.Net.Http.Json;
using System.Text.Json.Nodes;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.ModelStandIn;
using SafeNotify.Crm.TestSupport;
using Xunit.Abstractions;

namespace SafeNotify.Crm.EndToEnd.Tests.Faults;

/// <summary>
/// The promise under faults that really strike: while twenty customers keep writing and replies are in flight (the
/// model takes 1.5 s), a service, the database or the broker is killed outright (SIGKILL, no chance to finish), the
/// model hangs and then fails, Twilio refuses in a storm or drops the connection in the middle of a call. Each test
/// shows that work was in flight when the fault struck, waits until the system has nothing left to do, and then checks
/// what customers and operators see: every customer message answered exactly once and in order, counted at the Twilio
/// stand-in (a send interrupted inside the call found there or marked delivery unknown, never sent twice); a model
/// failure reaching the customer as the fallback with the conversation handed to a person; Metrics' figures the same
/// as a rebuild from its facts.
/// </summary>
[Collection(FaultCollection.Name)]
public sealed class FaultTests(FaultFixture system, ITestOutputHelper output)
{
    private const int Customers = 20;

    /// <summary>How long the customers write before the fault, and after the system is back.</summary>
    private static readonly TimeSpan Before = TimeSpan.FromSeconds(5), After = TimeSpan.FromSeconds(4);

    [Theory]
    [InlineData(ResourceNames.Routing)]
    [InlineData(ResourceNames.Agent)]
    [InlineData(ResourceNames.Lead)]
    [InlineData(ResourceNames.Metrics)]
    public async Task A_consumer_service_killed_mid_stream_loses_and_doubles_nothing(string service)
    {
        await StreamThroughAsync($"Clínica sin {service}", async stream =>
        {
            await stream.WaitForWorkInFlightAsync();
            if (service == ResourceNames.Agent)
            {
                await Eventually.TrueAsync(() => Task.FromResult(system.ModelState.InFlight > 0), "Agent writing a reply with the model");
            }

            await system.KillAndStartAsync(service, whileDown: async () =>
            {
                // The work that was Agent's, Lead's... waits for it in its queues (the deliveries it held came back).
                var snapshot = await SystemSnapshot.TakeAsync(system.App, system.StateDirectory);
                Assert.True(snapshot.QueuedFor(service) > 0, $"nothing waited for {service} while it was down:\n{snapshot}");
            });
        });
    }

    [Fact]
    public async Task Ingress_killed_while_a_twilio_call_is_open_sends_that_reply_once_and_loses_nothing()
    {
        await StreamThroughAsync("Clínica sin Ingress", async stream =>
        {
            // Twilio takes the next send and holds its answer back: Ingress dies inside the call, the SID unknown to it.
            var since = DateTimeOffset.UtcNow;
            await system.SetTwilioFaultAsync(new { mode = "delayAfterAccept", count = 1, delayMs = 60_000 });
            var held = await Eventually.ReturnsAsync(async () =>
                (await SentSinceAsync(since)).FirstOrDefault(m => m["fault"]?.GetValue<string>() == "delayAfterAccept"),
                "a send taken by Twilio with its answer held back");
            await stream.WaitForWorkInFlightAsync();

            await system.KillAndStartAsync(ResourceNames.Ingress);
            // The held send counts once at Twilio (checked for every reply below) and is never marked unknown; another send
            // the kill cut off before it reached Twilio may be marked unknown, and is never sent again either.
            return new InterruptedSend(held["to"]!.GetValue<string>(), held["body"]!.GetValue<string>());
        }, interruptedSendFound: true, deliveryUnknownAllowed: true);
    }

    [Fact]
    public async Task The_database_killed_mid_stream_loses_and_doubles_nothing() =>
        await StreamThroughAsync("Clínica sin base de datos", async stream =>
        {
            await stream.WaitForWorkInFlightAsync();
            await system.KillAndStartAsync(ResourceNames.Postgres);
        });

    [Fact]
    public async Task The_broker_killed_mid_stream_loses_and_doubles_nothing() =>
        await StreamThroughAsync("Clínica sin broker", async stream =>
        {
            await stream.WaitForWorkInFlightAsync();
            await system.KillAndStartAsync(ResourceNames.RabbitMq, whileDown: async () =>
            {
                // Events keep being committed with their changes while nothing can publish them: they wait in the outboxes.
                await Eventually.TrueAsync(async () => (await SystemSnapshot.TakeAsync(system.App, system.StateDirectory)).Outboxes.Sum(o => o.Due) > 0,
                    "events waiting in an outbox for the broker to come back", TimeSpan.FromSeconds(15));
            });
        });

    [Fact]
    public async Task A_twilio_storm_of_429_and_5xx_delays_replies_but_sends_each_once_and_in_order() =>
        await StreamThroughAsync("Clínica en la tormenta", async stream =>
        {
            await stream.WaitForWorkInFlightAsync();
            await system.SetTwilioFaultAsync(new { mode = "status429", count = 25 });
            await Task.Delay(TimeSpan.FromSeconds(4));
            await system.SetTwilioFaultAsync(new { mode = "status503", count = 25 });
            await Task.Delay(TimeSpan.FromSeconds(4));
            await system.ClearTwilioFaultAsync();
        });

    [Fact]
    public async Task The_connection_to_twilio_dropped_inside_a_call_never_sends_a_reply_twice() =>
        await StreamThroughAsync("Clínica desconectada", async stream =>
        {
            await stream.WaitForWorkInFlightAsync();
            // Taken by Twilio, then the connection breaks: Ingress must find the message at Twilio, not send it again.
            await system.SetTwilioFaultAsync(new { mode = "dropAfterAccept", count = 3 });
            await Task.Delay(TimeSpan.FromSeconds(3));
            // Broken before Twilio took it: Ingress cannot know, finds nothing, and marks it delivery unknown.
            await system.SetTwilioFaultAsync(new { mode = "dropBeforeAccept", count = 2 });
            await Task.Delay(TimeSpan.FromSeconds(3));
            await system.ClearTwilioFaultAsync();
        }, deliveryUnknownAllowed: true);

    [Fact]
    public async Task The_model_hanging_then_failing_reaches_each_customer_once_as_the_fallback_and_hands_the_conversation_to_a_person()
    {
        var fallbacks = 0;
        await StreamThroughAsync("Clínica sin modelo", async stream =>
        {
            await stream.WaitForWorkInFlightAsync();
            system.ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Hang));
            await Task.Delay(TimeSpan.FromSeconds(5));
            system.ModelState.SetBehaviour(new ModelBehaviour(ModelMode.Status500));
            await Task.Delay(TimeSpan.FromSeconds(4));
            system.ModelState.SetBehaviour(FaultFixture.Thinking);
        }, checkConversation: async (customer, replies, conversation) =>
        {
            // A fallback is the last thing the bot says: the conversation is a person's from then on.
            var fallback = replies.FindIndex(r => CustomerStream.Answers(r) is null);
            if (fallback < 0)
            {
                return;
            }

            fallbacks++;
            Assert.True(fallback == replies.Count - 1, $"{customer} got more after the fallback: {string.Join(" | ", replies)}");
            Assert.Equal("HUMAN", conversation["owner"]!.GetValue<string>());
            Assert.True(conversation["requiresAttention"]!.GetValue<bool>(), $"{customer}'s conversation does not ask for a person");
        });
        Assert.True(fallbacks > 0, "no customer got the fallback: the model's failure reached nobody");
    }

    /// <summary>
    /// Twenty customers write for a while, <paramref name="fault"/> strikes, they write on for a while after it, and then
    /// the system must become quiet and have answered everything once and in order.
    /// </summary>
    private async Task StreamThroughAsync(string tenantName, Func<CustomerStream, Task> fault, bool deliveryUnknownAllowed = false,
        Func<string, List<string>, JsonNode, Task>? checkConversation = null) =>
        await StreamThroughAsync(tenantName, async stream =>
        {
            await fault(stream);
            return (InterruptedSend?)null;
        }, deliveryUnknownAllowed: deliveryUnknownAllowed, checkConversation: checkConversation);

    /// <summary>A send Twilio took while Ingress was killed inside the call: to whom, and what.</summary>
    private sealed record InterruptedSend(string To, string Body);

    private async Task StreamThroughAsync(string tenantName, Func<CustomerStream, Task<InterruptedSend?>> fault, bool interruptedSendFound = false,
        bool deliveryUnknownAllowed = false, Func<string, List<string>, JsonNode, Task>? checkConversation = null)
    {
        var tenant = await system.CreateTenantAsync(tenantName);
        var stream = new CustomerStream(system, tenant.Phone, Customers, seed: StableHash(tenantName));
        var faultAt = DateTime.UtcNow;
        InterruptedSend? interrupted;
        stream.Start();
        try
        {
            await Task.Delay(Before);
            faultAt = DateTime.UtcNow;
            interrupted = await fault(stream);
            await Task.Delay(After);
        }
        finally
        {
            await stream.StopAsync();
            await system.ClearTwilioFaultAsync();
            system.ModelState.SetBehaviour(FaultFixture.Thinking);
        }

        SystemSnapshot quiet;
        try
        {
            quiet = await system.WaitQuietAsync();
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}\nWhat the resources reported since the fault:\n{system.ResourceLogs.Troubles(faultAt)}", ex);
        }

        Assert.True(quiet.Parked == 0, $"messages were parked as failed:\n{quiet}");
        var unknown = await DeliveryUnknownAsync(tenant.Id);
        Assert.True(deliveryUnknownAllowed || unknown == 0, $"{unknown} sends are marked delivery unknown");
        var failures = new List<string>();
        var aiReplies = 0;
        var atTwilioInAll = 0;
        foreach (var customer in stream.Customers)
        {
            var atTwilio = await stream.RepliesAsync(customer);
            atTwilioInAll += atTwilio.Count;
            var conversation = await ConversationOfAsync(tenant, customer);
            var written = stream.Written.GetValueOrDefault(customer);
            var interruptedHere = interruptedSendFound && interrupted is not null && interrupted.To.EndsWith(customer, StringComparison.Ordinal) ? interrupted.Body : null;
            failures.AddRange(Judge(customer, written, atTwilio, conversation, interruptedHere));
            aiReplies += conversation["messages"]!.AsArray().Count(m => m!["author"]!.GetValue<string>() is "AI_AGENT" or "SYSTEM");
            if (checkConversation is not null)
            {
                await checkConversation(customer, atTwilio, conversation["conversation"]!);
            }
        }

        output.WriteLine($"{Customers} customers wrote {stream.Written.Values.Sum()} messages; {stream.InFlightAtFault} were on their way when the fault " +
            $"struck; {atTwilioInAll} replies reached Twilio; {unknown} sends are marked delivery unknown; quiet {DateTime.UtcNow - faultAt:mm\\:ss} after the fault.");
        Assert.True(failures.Count == 0, string.Join("\n", failures) + $"\nWhat the resources reported since the fault:\n{system.ResourceLogs.Troubles(faultAt)}");
        await AssertFiguresMatchARebuildAsync(tenant, stream.Written.Values.Sum());
        Assert.True(aiReplies >= Customers, $"only {aiReplies} replies for {Customers} customers");
    }

    /// <summary>
    /// What is wrong with one customer's replies. At Twilio no text twice, and the messages answered rising (order
    /// kept); every message answered by the last reply that got out, or by one marked delivery unknown; everything Lead
    /// holds as sent found at Twilio.
    /// </summary>
    private static IEnumerable<string> Judge(string customer, int written, List<string> atTwilio, JsonNode conversation, string? interrupted)
    {
        if (atTwilio.GroupBy(t => t).FirstOrDefault(g => g.Count() > 1) is { } twice)
        {
            yield return $"{customer} got \"{twice.Key}\" {twice.Count()} times";
        }

        var answered = atTwilio.Select(CustomerStream.Answers).Where(i => i is not null).Select(i => i!.Value).ToList();
        if (!answered.SequenceEqual(answered.Order().Distinct()))
        {
            yield return $"{customer}'s replies reached Twilio out of order: they answer {string.Join(", ", answered)}";
        }

        var messages = conversation["messages"]!.AsArray();
        var ours = messages.Where(m => m!["author"]!.GetValue<string>() is "AI_AGENT" or "SYSTEM" or "HUMAN").ToList();
        var unknown = ours.Where(m => m!["deliveryStatus"]?.GetValue<string>() == "delivery_unknown")
            .Select(m => CustomerStream.Answers(m!["body"]?.GetValue<string>())).Where(i => i is not null).Select(i => i!.Value);
        var handedOver = conversation["conversation"]!["owner"]!.GetValue<string>() != "BOT";
        var last = answered.Concat(unknown).DefaultIfEmpty(0).Max();
        if (last != written && !handedOver)
        {
            yield return $"{customer} wrote {written} messages and the last answered is {last} (at Twilio: {string.Join(" | ", atTwilio)})";
        }

        foreach (var sent in ours.Where(m => m!["deliveryStatus"]?.GetValue<string>() is "sent" or "delivered" or "read"))
        {
            var body = sent!["body"]?.GetValue<string>();
            if (body is not null && !atTwilio.Contains(body))
            {
                yield return $"{customer}: Lead holds \"{body}\" as {sent["deliveryStatus"]}, but Twilio never got it";
            }
        }

        if (interrupted is not null && ours.Any(m => m!["body"]?.GetValue<string>() == interrupted && m["deliveryStatus"]?.GetValue<string>() == "delivery_unknown"))
        {
            yield return $"{customer}: the send interrupted inside the Twilio call is marked delivery unknown, though Twilio had it " +
                $"(Lead: {string.Join(" | ", ours.Select(m => $"{m!["body"]} [{m["deliveryStatus"]}, {m["createdAt"]}]"))}; Twilio: {string.Join(" | ", atTwilio)})";
        }
    }

    /// <summary>Metrics counted every message once: its figures equal a rebuild from its facts, and the customers' messages add up.</summary>
    private async Task AssertFiguresMatchARebuildAsync(TestTenant tenant, int customerMessages)
    {
        var figures = await system.CallAsync(HttpMethod.Get, "/api/metrics?period=DAILY", tenant.ApiKey);
        Assert.Equal(customerMessages, figures["items"]!.AsArray().Sum(r => r!["customerMessages"]!.GetValue<int>()));
        await system.CallAsync(HttpMethod.Post, $"/api/admin/metrics/rebuild?tenantId={tenant.Id}", SystemFixture.OperatorKey);
        var rebuilt = await system.CallAsync(HttpMethod.Get, "/api/metrics?period=DAILY", tenant.ApiKey);
        Assert.Equal(rebuilt.ToJsonString(), figures.ToJsonString());
    }

    private async Task<JsonNode> ConversationOfAsync(TestTenant tenant, string customer)
    {
        var list = await system.CallAsync(HttpMethod.Get, "/api/conversations?pageSize=200", tenant.ApiKey);
        var summary = list["items"]!.AsArray().Single(c => c!["customerId"]!.GetValue<string>() == customer);
        return await system.CallAsync(HttpMethod.Get, $"/api/conversations/{summary!["id"]}", tenant.ApiKey);
    }

    private async Task<int> DeliveryUnknownAsync(string tenantId)
    {
        var list = await system.CallAsync(HttpMethod.Get, "/api/admin/outbound-messages?state=DELIVERY_UNKNOWN&pageSize=200", SystemFixture.OperatorKey);
        return list["items"]!.AsArray().Count(m => m!["tenantId"]!.GetValue<string>() == tenantId);
    }

    /// <summary>The same number for the same name in every run (string.GetHashCode differs from one process to the next).</summary>
    private static int StableHash(string text) => text.Aggregate(17, (hash, c) => unchecked(hash * 31 + c));

    private async Task<List<JsonNode>> SentSinceAsync(DateTimeOffset since) =>
        (await system.TwilioStandIn.GetFromJsonAsync<JsonArray>($"/_standin/messages?since={Uri.EscapeDataString(since.ToString("O"))}"))!
        .Select(m => m!).ToList();
}
