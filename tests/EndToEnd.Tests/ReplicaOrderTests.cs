using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using Microsoft.AspNetCore.Builder;
using SafeNotify.Crm.ModelStandIn;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// The whole system with two instances of every service (Crm:Replicas=2) competing on every queue. The model stand-in
/// answers through the OpenAI client by echoing the customer's newest message, so that every reply says which message
/// it answers; every instance exports its traces to a receiver here, so that a test sees which instance did what.
/// </summary>
public sealed class ReplicatedSystemFixture : SystemFixture
{
    public const int Replicas = 2;
    private const string ModelApiKey = "sk-replica-model-key";

    private WebApplication _model = null!;

    public OtlpReceiver Otlp { get; } = new();

    protected override int ConsoleInstances => 1;

    protected override IEnumerable<string> Arguments =>
    [
        $"--Crm:Replicas={Replicas}",
        "--AI:Provider=OpenAI",
        $"--AI:Endpoint={_model.Urls.First()}/v1",
        "--AI:Model=gpt-4o-mini",
        $"--AI:ApiKey={ModelApiKey}",
    ];

    /// <summary>Twice the processes to start.</summary>
    protected override TimeSpan StartTimeout => TimeSpan.FromMinutes(8);

    public override async Task InitializeAsync()
    {
        _model = ModelStandInApp.Build(["--urls", "http://127.0.0.1:0"], options => options.ApiKey = ModelApiKey);
        await _model.StartAsync();
        Otlp.Start();
        await base.InitializeAsync();
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        await _model.DisposeAsync();
        Otlp.Dispose();
    }

    /// <summary>Every instance exports its traces, in small batches, to <see cref="Otlp"/>.</summary>
    protected override void Configure(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>().Where(p => ResourceNames.Services.Contains(p.Name)).ToList())
        {
            builder.CreateResourceBuilder(project).WithEnvironment(context =>
            {
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_ENDPOINT"] = Otlp.Url;
                context.EnvironmentVariables["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf";
                context.EnvironmentVariables["OTEL_BSP_SCHEDULE_DELAY"] = "200";
            });
        }
    }
}

/// <summary>
/// Runs alone, after the parallel collections: the services' direct endpoints use their launch profiles' fixed
/// ports, so two systems cannot run side by side.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ReplicatedSystemCollection : ICollectionFixture<ReplicatedSystemFixture>
{
    public const string Name = "the whole system with replicas";
}

[Collection(ReplicatedSystemCollection.Name)]
public sealed class ReplicaOrderTests(ReplicatedSystemFixture system)
{
    private const int Customers = 6;

    /// <summary>OTLP's span kind of a message handled from a queue.</summary>
    private const int ConsumerSpan = 5;
    private const int MessagesPerCustomer = 5;

    [Fact]
    public async Task With_two_instances_of_every_service_each_conversation_is_stored_and_answered_in_order_while_conversations_run_side_by_side()
    {
        // Two of each service are up, each on its own port.
        var instances = await RunningInstancesAsync();
        Assert.All(instances, pair => Assert.Equal(ReplicatedSystemFixture.Replicas, pair.Value));

        var tenant = await system.CreateTenantAsync("Clínica Réplica");
        var customers = Enumerable.Range(0, Customers).Select(_ => "+5731" + Random.Shared.Next(10_000_000, 99_999_999)).ToList();

        // Every customer writes 1..5 in quick succession (each as soon as the previous webhook was acknowledged),
        // all customers at the same time: the services see the conversations interleaved.
        await Task.WhenAll(customers.Select(async customer =>
        {
            for (var i = 1; i <= MessagesPerCustomer; i++)
            {
                var (_, status) = await system.SendAsCustomerAsync(customer, tenant.Phone, $"mensaje {i} sobre la cita");
                Assert.Equal(200, status);
            }
        }));

        // Each conversation ends answered up to its last message.
        var conversations = new Dictionary<string, JsonArray>();
        foreach (var customer in customers)
        {
            conversations[customer] = await Eventually.ReturnsAsync(async () =>
            {
                var list = await system.CallAsync(HttpMethod.Get, $"/api/conversations", tenant.ApiKey);
                var conversation = list["items"]!.AsArray().SingleOrDefault(c => c!["customerId"]!.GetValue<string>() == customer);
                if (conversation is null)
                {
                    return null;
                }

                var detail = await system.CallAsync(HttpMethod.Get, $"/api/conversations/{conversation["id"]}", tenant.ApiKey);
                var messages = detail["messages"]!.AsArray();
                var answered = messages.Where(m => m!["author"]!.GetValue<string>() == "AI_AGENT")
                    .Select(m => m!["answersSequence"]?.GetValue<long>() ?? 0).DefaultIfEmpty(0).Max();
                var customerMessages = messages.Count(m => m!["author"]!.GetValue<string>() == "CUSTOMER");
                return customerMessages == MessagesPerCustomer && answered == MessagesPerCustomer ? messages : null;
            }, $"the conversation of {customer} answered up to message {MessagesPerCustomer}", TimeSpan.FromSeconds(90));
        }

        foreach (var (customer, messages) in conversations)
        {
            // Stored in order: the customer's messages carry Ingress's sequence in the order they were written.
            var written = messages.Where(m => m!["author"]!.GetValue<string>() == "CUSTOMER").ToList();
            Assert.Equal(Enumerable.Range(1, MessagesPerCustomer).Select(i => $"mensaje {i} sobre la cita"), written.Select(m => m!["body"]!.GetValue<string>()));
            Assert.Equal(Enumerable.Range(1, MessagesPerCustomer).Select(i => (long)i), written.Select(m => m!["sequence"]!.GetValue<long>()));

            // Answered in order: each reply covers a later message than the one before, and comes after what it answers.
            // The thread is in the order things happened, so a message that reached Ingress while Lead accepted the reply
            // to an earlier one may show before that reply; the newest message is then answered by a reply of its own.
            var replies = messages.Select((m, index) => (Message: m!, Index: index)).Where(m => m.Message["author"]!.GetValue<string>() == "AI_AGENT").ToList();
            Assert.NotEmpty(replies);
            var answers = replies.Select(r => r.Message["answersSequence"]!.GetValue<long>()).ToList();
            Assert.True(answers.SequenceEqual(answers.Order().Distinct()), $"{customer}: replies answer {string.Join(", ", answers)}, not strictly increasing");
            foreach (var (reply, index) in replies)
            {
                var answered = reply["answersSequence"]!.GetValue<long>();
                var seenBefore = messages.Take(index).Where(m => m!["author"]!.GetValue<string>() == "CUSTOMER").Select(m => m!["sequence"]!.GetValue<long>()).ToList();
                Assert.Contains(answered, seenBefore);
            }

            // And Twilio received exactly those replies, in that order: none overtook another on the way out.
            var sent = await Eventually.ReturnsAsync(async () =>
            {
                var atTwilio = await system.SentToAsync(customer);
                return atTwilio.Count >= replies.Count ? atTwilio : null;
            }, $"{replies.Count} replies to {customer} at Twilio");
            Assert.Equal(replies.Select(r => r.Message["body"]!.GetValue<string>()),
                sent.OrderBy(m => m!["createdAt"]!.GetValue<DateTimeOffset>()).Select(m => m!["body"]!.GetValue<string>()));
            // Each reply is the model's echo of the message it answers: the texts differ, so the order above means something.
            foreach (var (reply, _) in replies)
            {
                Assert.Equal($"[gpt-4o-mini] mensaje {reply["answersSequence"]!.GetValue<long>()} sobre la cita", reply["body"]!.GetValue<string>());
            }
        }

        // Both instances of Lead and of Ingress took part: each handled messages from its queues.
        await Eventually.TrueAsync(() => Task.FromResult(new[] { ResourceNames.Lead, ResourceNames.Ingress }.All(service =>
                system.Otlp.Spans().Where(span => span.Service == service && span.Kind == ConsumerSpan).Select(span => span.Instance).Distinct().Count()
                    == ReplicatedSystemFixture.Replicas)),
            "messages handled by every instance of Lead and of Ingress");

        // Side by side: every conversation was still being written to while the others were being answered.
        var spans = conversations.Values.Select(messages => (
            Start: messages.Min(m => m!["createdAt"]!.GetValue<DateTimeOffset>()),
            End: messages.Max(m => m!["createdAt"]!.GetValue<DateTimeOffset>()))).ToList();
        Assert.True(spans.Max(s => s.Start) < spans.Min(s => s.End), "the conversations were handled one after another, not in parallel");
    }

    /// <summary>Follows the orchestrator's resource events until every service has its instances running.</summary>
    private async Task<Dictionary<string, int>> RunningInstancesAsync()
    {
        var states = new Dictionary<string, (string Service, string? State)>();
        int Running(string service) => states.Values.Count(v => v.Service == service && v.State == KnownResourceStates.Running);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            await foreach (var update in system.App.ResourceNotifications.WatchAsync(timeout.Token))
            {
                states[update.ResourceId] = (update.Resource.Name, update.Snapshot.State?.Text);
                if (ResourceNames.Replicated.All(service => Running(service) >= ReplicatedSystemFixture.Replicas))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
        }

        return ResourceNames.Replicated.ToDictionary(service => service, Running);
    }
}
