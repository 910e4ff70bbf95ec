using Microsoft.Extensions.Configuration;
using SafeNotify.Crm.AppHost;
using SafeNotify.Crm.AppHost.Configuration;
using SafeNotify.Crm.AppHost.Demo;
using SafeNotify.Crm.AppHost.Infrastructure;

var builder = DistributedApplication.CreateBuilder(args);
var config = builder.Configuration;

// State: .state/ beside the repository keeps tenants between runs; tests pass a throw-away folder.
var state = new StateFolder(config["Crm:StateDirectory"] ?? Path.Combine(builder.AppHostDirectory, "..", ".state"));
var useContainers = ContainerRuntime.UseContainers(config["Crm:Infrastructure"]);

// Infrastructure: Postgres (one database, a schema and a role per service) and RabbitMQ.
// Tuning for a small shared machine (Crm__Tuning__SmallMachine, Crm__Tuning__ProcessPriority): off unless asked for.
var tuning = Tuning.From(config);
var servicePasswords = ResourceNames.Services.ToDictionary(service => service, service => state.Secret($"{service}-db-password"));
var postgres = builder.AddCrmPostgres(state, useContainers, servicePasswords, tuning.BelowNormalDatabaseRoles);
var brokerPassword = builder.AddParameter("rabbitmq-password", state.Secret("rabbitmq-password"), secret: true);
var rabbit = builder.AddCrmRabbitMq(state, useContainers, brokerPassword);
var messaging = builder.AddBrokerConnection(rabbit, brokerPassword);

// Secrets the services need: the operator key, and Twilio's credentials (or the stand-in's).
var operatorKey = builder.AddParameter("operator-api-key", config["Crm:OperatorApiKey"] ?? state.Secret("operator-api-key", prefix: "sn_op_"), secret: true);
// The gateway (for API keys) and the console (for its staff) each sign callers' identities with a private key of their own;
// the services hold only the public keys.
var gatewayIdentity = state.SigningKeyPair("gateway-identity-key");
var consoleIdentity = state.SigningKeyPair("console-identity-key");
var gatewaySigningKey = builder.AddParameter("gateway-identity-key", gatewayIdentity.SigningKey, secret: true);
var consoleSigningKey = builder.AddParameter("console-identity-key", consoleIdentity.SigningKey, secret: true);
IResourceBuilder<ProjectResource> WithIdentityKeys(IResourceBuilder<ProjectResource> project) => project
    .WithEnvironment("Crm__Identity__GatewayPublicKey", gatewayIdentity.PublicKey)
    .WithEnvironment("Crm__Identity__ConsolePublicKey", consoleIdentity.PublicKey);
var twilio = TwilioSettings.From(config, state);

// Instances of each of the five services (Crm__Replicas, default 1). They compete on every queue, and the messages
// of one conversation stay in order across them (services/Messaging/ConversationOrder.cs). Aspire cannot give
// replicas proxy-less endpoints, so with replicas HTTP goes through the orchestrator's proxy, which spreads the
// gateway's requests over the instances; a single instance keeps its direct endpoint (the proxy costs a hop).
var replicas = config.GetValue("Crm:Replicas", 1);
if (replicas is < 1 or > 3)
{
    throw new InvalidOperationException($"Crm:Replicas must be between 1 and 3 (the database allows each service instance 20 connections through EF and 8 direct ones), not {replicas}.");
}

// How many units of work each service's consumers may run at once (Crm__ConcurrentUnitsOfWork; unset: one per consumer).
var consumerLimit = ConsumerLimit.From(config);

// Telemetry export (tests and benchmarks run without a dashboard) and the share of traces kept.
var telemetry = Telemetry.From(config);

// The services' hosting environment: their launch profiles say Development (for `./run.sh`); a benchmark or a deployment
// sets Production, which drops the developer exception page and the container's scope checks on every request.
var serviceEnvironment = config["Crm:ServiceEnvironment"];
IResourceBuilder<ProjectResource> InEnvironment(IResourceBuilder<ProjectResource> project) => serviceEnvironment is null
    ? project
    : project.WithEnvironment("ASPNETCORE_ENVIRONMENT", serviceEnvironment).WithEnvironment("DOTNET_ENVIRONMENT", serviceEnvironment);

var databases = new Dictionary<string, IResourceBuilder<ConnectionStringResource>>();
IResourceBuilder<ConnectionStringResource> DatabaseOf(string service)
{
    if (!databases.TryGetValue(service, out var database))
    {
        var password = builder.AddParameter($"{service}-db-password", servicePasswords[service], secret: true);
        databases[service] = database = builder.AddServiceDatabase(postgres, service, password);
    }

    return database;
}

IResourceBuilder<ProjectResource> Service<TProject>(string name, int instances, string? resourceName = null) where TProject : IProjectMetadata, new()
{
    var database = DatabaseOf(name);
    var project = InEnvironment(builder.AddProject<TProject>(resourceName ?? name))
        .WithReference(database).WaitFor(database)
        .WithReference(messaging).WaitFor(messaging)
        .WithHttpHealthCheck("/health");
    WithIdentityKeys(project);
    tuning.ApplyTo(project);
    telemetry.ApplyTo(project);
    consumerLimit.ApplyTo(project);
    return instances == 1 ? project.WithDirectEndpoint(launchProfilePort: resourceName is null) : project.WithReplicas(instances);
}

// The five services of the message path: each owns its schema and talks to the others only through the broker.
// Ingress acknowledges Twilio's webhooks; the others only consume events (ResourceNames.Consumers).
var routing = Service<Projects.Routing>(ResourceNames.Routing, replicas).WithEnvironment("Crm__OperatorApiKey", operatorKey);
var ingress = Service<Projects.Ingress>(ResourceNames.Ingress, replicas);
var agent = Service<Projects.Agent>(ResourceNames.Agent, replicas);
var lead = Service<Projects.Lead>(ResourceNames.Lead, replicas);
var metrics = Service<Projects.Metrics>(ResourceNames.Metrics, replicas);
AiSettings.PassTo(agent, builder);

// The staff console, behind the gateway at /. A new installation's first operator signs in with these (.state/ keeps them).
var firstOperator = ConsoleOperator.From(config, state, builder);
// Its instances (Crm__Console__Instances, default 1) share its schema and key ring, and each is a gateway destination
// of its own: an open console's live connection is held by one instance, so the gateway keeps a browser on it.
var consoleInstances = config.GetValue("Crm:Console:Instances", 1);
if (consoleInstances is < 1 or > 3)
{
    throw new InvalidOperationException($"Crm:Console:Instances must be between 1 and 3, not {consoleInstances}.");
}

var consoles = Enumerable.Range(1, consoleInstances).Select(instance =>
{
    var console = Service<Projects.WebApp>(ResourceNames.WebApp, instances: 1, resourceName: instance == 1 ? null : ResourceNames.ConsoleInstance(instance))
        .WithEnvironment("Crm__Console__FirstOperator__Email", firstOperator.Email)
        .WithEnvironment("Crm__Console__FirstOperator__Password", firstOperator.Password)
        .WithEnvironment("Crm__Identity__SigningKey", consoleSigningKey)
        // The console calls the services directly, as the signed-in member.
        .WithReference(routing).WithReference(ingress).WithReference(agent).WithReference(lead).WithReference(metrics);
    if (config["Crm:Console:SessionCheckInterval"] is { Length: > 0 } sessionCheck)
    {
        console.WithEnvironment("Crm__Console__SessionCheckInterval", sessionCheck);
    }

    // A mail server for invitations and password reset links (Smtp__*), passed on as set; none by default.
    foreach (var setting in config.GetSection("Smtp").GetChildren().Where(s => s.Value is { Length: > 0 }))
    {
        if (setting.Key == "Password")
        {
            console.WithEnvironment("Smtp__Password", builder.AddParameter($"smtp-password-{instance}", setting.Value!, secret: true));
        }
        else
        {
            console.WithEnvironment($"Smtp__{setting.Key}", setting.Value);
        }
    }

    return console;
}).ToList();

// The gateway: the only public door, on a fixed port in run mode (Gateway__Port, default 8080; 0 picks one).
var gatewayPort = config.GetValue<int?>("Gateway:Port") ?? 8080;
var gateway = InEnvironment(builder.AddProject<Projects.Gateway>(ResourceNames.Gateway))
    .WithReference(routing).WithReference(ingress).WithReference(agent).WithReference(lead).WithReference(metrics)
    .WaitFor(routing).WaitFor(ingress).WaitFor(agent).WaitFor(lead).WaitFor(metrics)
    .WithHttpHealthCheck("/health")
    .WithEnvironment("Crm__Identity__SigningKey", gatewaySigningKey)
    .WithExternalHttpEndpoints();
WithIdentityKeys(gateway);
tuning.ApplyTo(gateway);
telemetry.ApplyTo(gateway);
foreach (var console in consoles)
{
    gateway.WithReference(console).WaitFor(console);
    if (console.Resource.Name != ResourceNames.WebApp)
    {
        gateway.WithEnvironment($"ReverseProxy__Clusters__{ResourceNames.WebApp}__Destinations__{console.Resource.Name}__Address", $"http://{console.Resource.Name}");
    }
}

if (gatewayPort != 0)
{
    gateway.WithEndpoint("http", endpoint =>
    {
        endpoint.Port = gatewayPort;
        endpoint.TargetPort = gatewayPort;
        endpoint.IsProxied = false;
    });
}
else
{
    gateway.WithDirectEndpoint();
}

// Rate limits (Gateway__RateLimits__*, see gateway/RateLimits.cs) pass through to the gateway as they are set here.
foreach (var limit in config.GetSection("Gateway:RateLimits").GetChildren())
{
    gateway.WithEnvironment($"Gateway__RateLimits__{limit.Key}", limit.Value);
}

var publicUrl = gateway.GetEndpoint("http");
// The console's links start with its public address; Routing makes one too (a new tenant's first owner's invitation).
foreach (var linkMaker in consoles.Append(routing))
{
    if (config["Crm:Console:PublicBaseUrl"] is { Length: > 0 } consoleUrl)
    {
        linkMaker.WithEnvironment("Crm__Console__PublicBaseUrl", consoleUrl);
    }
    else
    {
        linkMaker.WithEnvironment("Crm__Console__PublicBaseUrl", publicUrl);
    }
}

// Twilio: the real API when credentials are set, else the local stand-in (nothing leaves the machine).
ingress.WithEnvironment("Twilio__AccountSid", twilio.AccountSid)
    .WithEnvironment("Twilio__AuthToken", builder.AddParameter("twilio-auth-token", twilio.AuthToken, secret: true));
foreach (var (sid, token) in twilio.MoreAccounts)
{
    ingress.WithEnvironment($"Twilio__Accounts__{sid}__AuthToken", builder.AddParameter($"twilio-auth-token-{sid.ToLowerInvariant()}", token, secret: true));
}

if (twilio.PublicBaseUrl is { } publicBaseUrl)
{
    ingress.WithEnvironment("Twilio__PublicBaseUrl", publicBaseUrl);
}
else
{
    ingress.WithEnvironment("Twilio__PublicBaseUrl", publicUrl);
}

IResourceBuilder<ProjectResource>? standIn = null;
if (twilio.UseStandIn)
{
    standIn = builder.AddProject<Projects.TwilioStandIn>(ResourceNames.TwilioStandIn)
        .WithEnvironment("StandIn__AccountSid", twilio.AccountSid)
        .WithEnvironment("StandIn__AuthToken", builder.AddParameter("twilio-standin-auth-token", twilio.AuthToken, secret: true))
        .WithEnvironment("StandIn__WebhookBaseUrl", publicUrl)
        .WithHttpHealthCheck("/_standin/health");
    tuning.ApplyTo(standIn);
    telemetry.ApplyTo(standIn);
    ingress.WithEnvironment("Twilio__ApiBaseUrl", standIn.GetEndpoint("http"));
}
else if (twilio.ApiBaseUrl is { } apiBaseUrl)
{
    ingress.WithEnvironment("Twilio__ApiBaseUrl", apiBaseUrl);
}

// On the run command's own console (never through logging): where things are, and the keys.
if (!InfrastructureExtensions.IsThrowaway(builder))
{
    RunConsole.Register(builder, gateway, standIn, state, operatorKey, firstOperator);
}

builder.Build().Run();
