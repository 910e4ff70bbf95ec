using MassTransit;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using SafeNotify.Crm.ServiceData;

namespace SafeNotify.Crm.Messaging;

public static class ServiceHostingExtensions
{
    /// <summary>The connection string name of the broker, shared by the AppHost and every service.</summary>
    public const string BrokerConnectionName = "messaging";

    /// <summary>
    /// MassTransit over RabbitMQ, with queues named after the service ("routing-whats-app-message-received"),
    /// retries for transient failures, and the outbox dispatcher of <typeparamref name="TDbContext"/>.
    /// </summary>
    public static IHostApplicationBuilder AddServiceMessaging<TDbContext>(
        this IHostApplicationBuilder builder,
        string serviceName,
        Action<IBusRegistrationConfigurator> configureConsumers)
        where TDbContext : MessagingDbContext
    {
        var brokerUri = new Uri(builder.Configuration.GetConnectionString(BrokerConnectionName)
            ?? throw new InvalidOperationException($"ConnectionStrings:{BrokerConnectionName} is not configured."));

        builder.Services.TryAddSingleton(TimeProvider.System);
        // The dispatcher is woken the moment a transaction that wrote outbox rows commits.
        builder.Services.AddSingleton<OutboxSignal<TDbContext>>();
        builder.Services.AddSingleton<OutboxCommitInterceptor<TDbContext>>();
        builder.Services.AddSingleton(services => new ServiceDbContextInterceptor<TDbContext>(services.GetRequiredService<OutboxCommitInterceptor<TDbContext>>()));
        builder.Services.AddSingleton<DeliveryBatches>();
        builder.Services.AddOptions<ConsumerOptions>().BindConfiguration("Consumers")
            .Validate(options => options.ConcurrentUnitsOfWork is null or >= 1, "Consumers:ConcurrentUnitsOfWork must be at least 1.")
            .ValidateOnStart();
        builder.Services.AddOptions<OutboxOptions>().BindConfiguration("Outbox");
        builder.Services.AddHostedService<OutboxDispatcher<TDbContext>>();
        builder.Services.AddHealthChecks().AddCheck<OutboxHealthCheck<TDbContext>>("outbox", tags: ["ready"]);

        builder.Services.AddMassTransit(bus =>
        {
            bus.SetEndpointNameFormatter(new KebabCaseEndpointNameFormatter(serviceName, includeNamespace: false));
            configureConsumers(bus);
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(brokerUri, host =>
                {
                    var userInfo = Uri.UnescapeDataString(brokerUri.UserInfo).Split(':', 2);
                    if (userInfo.Length == 2)
                    {
                        host.Username(userInfo[0]);
                        host.Password(userInfo[1]);
                    }
                });
                rabbit.PrefetchCount = 32;
                // Transient failures (a unique-key race, a lost connection) get a fresh scope and another go;
                // what still fails lands in the endpoint's _error queue for operators.
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Ignore<PredecessorPendingException>();
                    retry.Exponential(6, TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(5), TimeSpan.FromMilliseconds(200));
                });
                // A message of a conversation that overtook its predecessor (another instance, or another
                // concurrent delivery, still handles it) waits in short steps, then goes ahead: see ConversationOrder.
                rabbit.UseMessageRetry(retry =>
                {
                    retry.Handle<PredecessorPendingException>();
                    retry.Interval(ConversationOrder.MaxWaits, ConversationOrder.RetryInterval);
                });
                rabbit.ConfigureEndpoints(context);
            });
        });
        return builder;
    }
}
