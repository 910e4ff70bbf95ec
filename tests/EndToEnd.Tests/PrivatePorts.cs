using Aspire.Hosting.ApplicationModel;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>
/// Gives every project endpoint that is not behind the orchestrator's proxy (the gateway and the services: see the
/// AppHost's WithDirectEndpoint) a free port of its own instead of its launch profile's fixed one, so that two systems
/// booted on one machine at the same time (two test collections, two test runs) never answer each other's requests.
/// The ports come from the AppHost's own allocator, so they never repeat the ones it drew for Postgres and RabbitMQ.
/// </summary>
internal static class PrivatePorts
{
    public static void Apply(IDistributedApplicationTestingBuilder builder)
    {
        foreach (var project in builder.Resources.OfType<ProjectResource>())
        {
            foreach (var endpoint in project.Annotations.OfType<EndpointAnnotation>().Where(e => !e.IsProxied && e.Port is not null))
            {
                var port = FreePorts.Next();
                endpoint.Port = port;
                endpoint.TargetPort = port;
            }
        }
    }
}
