namespace SafeNotify.Crm.AppHost;

/// <summary>Resource names, declared once for the AppHost and the tests. Each database name is also the connection-string name the service reads.</summary>
public static class ResourceNames
{
    public const string Postgres = "postgres";
    public const string RabbitMq = "rabbitmq";
    public const string Messaging = "messaging";
    public const string Gateway = "gateway";
    public const string Ingress = "ingress";
    public const string Routing = "routing";
    public const string Agent = "agent";
    public const string Lead = "lead";
    public const string Metrics = "metrics";
    public const string WebApp = "webapp";
    public const string TwilioStandIn = "twilio-standin";

    /// <summary>The services that own a schema; each connects as a role of the same name.</summary>
    public static readonly string[] Services = [Ingress, Routing, Agent, Lead, Metrics, WebApp];

    /// <summary>The services <c>Crm:Replicas</c> runs several instances of: the message path. The console runs one.</summary>
    public static readonly string[] Replicated = [Ingress, Routing, Agent, Lead, Metrics];

    /// <summary>
    /// The services that only consume events (everything but the webhook edge, Ingress): they and their database
    /// sessions run below normal priority, so the edge keeps its share of a busy machine and the backlog waits in the queues.
    /// </summary>
    public static readonly string[] Consumers = [Routing, Agent, Lead, Metrics];

    public static string Database(string service) => $"{service}-db";

    /// <summary>The resource name of the console's <paramref name="instance"/>th instance (the first is <see cref="WebApp"/>).</summary>
    public static string ConsoleInstance(int instance) => instance == 1 ? WebApp : $"{WebApp}-{instance}";
}
