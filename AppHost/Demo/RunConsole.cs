using Microsoft.Extensions.Configuration;
using SafeNotify.Crm.AppHost.Configuration;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.AppHost.Demo;

/// <summary>
/// Once the gateway is healthy: seeds the demo tenants (first run only) and prints where everything is,
/// with the operator key and the demo keys, on the run command's own console. Never through logging or
/// telemetry, where secrets must not go.
/// </summary>
internal static class RunConsole
{
    public static void Register(
        IDistributedApplicationBuilder builder,
        IResourceBuilder<ProjectResource> gateway,
        IResourceBuilder<ProjectResource>? twilioStandIn,
        StateFolder state,
        IResourceBuilder<ParameterResource> operatorKey,
        ConsoleOperator consoleOperator)
    {
        var seedDemoData = builder.Configuration.GetValue("Crm:DemoData", true);
        var dashboardUrl = (builder.Configuration["ASPNETCORE_URLS"] ?? "http://localhost:18888").Split(';')[0].Replace("127.0.0.1", "localhost");

        builder.Eventing.Subscribe<ResourceReadyEvent>(gateway.Resource, (ready, cancellationToken) =>
        {
            // Off the orchestrator's path: seeding makes HTTP calls that take a few seconds.
            _ = Task.Run(async () =>
            {
                var gatewayUrl = gateway.GetEndpoint("http").Url;
                var key = await operatorKey.Resource.GetValueAsync(cancellationToken) ?? "";
                var operatorLogin = new DemoLogin("SafeNotify", "Operator", consoleOperator.Email, await consoleOperator.Password.Resource.GetValueAsync(cancellationToken));
                IReadOnlyList<DemoTenantKey> demoKeys = [];
                string? seedError = null;
                if (seedDemoData)
                {
                    try
                    {
                        demoKeys = await DemoData.SeedAsync(new Uri(gatewayUrl), key, state, cancellationToken);
                    }
                    catch (Exception ex) when (ex is HttpRequestException or InvalidOperationException or TaskCanceledException)
                    {
                        seedError = ex.Message;
                    }
                }

                Print(gatewayUrl, dashboardUrl, twilioStandIn?.GetEndpoint("http").Url, key, operatorLogin, demoKeys, seedError, state.Root);
            }, cancellationToken);
            return Task.CompletedTask;
        });
    }

    private static void Print(string gatewayUrl, string dashboardUrl, string? standInUrl, string operatorKey, DemoLogin operatorLogin,
        IReadOnlyList<DemoTenantKey> demoKeys, string? seedError, string stateFolder)
    {
        var lines = new List<string>
        {
            "",
            "==================== SafeNotify CRM is running ====================",
            $"  Staff console:                    {gatewayUrl}/",
            $"  Gateway (API + Twilio webhooks): {gatewayUrl}",
            $"  Dashboard (traces, logs, health): {dashboardUrl}",
        };
        if (standInUrl is not null)
        {
            lines.Add($"  Twilio stand-in (play a customer): {standInUrl}");
        }

        lines.Add($"  Operator key (/api/admin):        {operatorKey}");
        lines.Add($"  Console login, operator:          {operatorLogin.Email} / {operatorLogin.Password} (then an authenticator app's code)");
        foreach (var demo in demoKeys)
        {
            lines.Add($"  Demo key, {demo.TenantName}: {demo.ApiKey}");
            foreach (var login in demo.Logins)
            {
                lines.Add($"    Console login, {login.Role.ToLowerInvariant()}: {login.Email} / {login.Password}");
            }
        }

        if (seedError is not null)
        {
            lines.Add($"  Demo data could not be seeded: {seedError}");
        }

        lines.Add($"  Data and keys are kept in {stateFolder} (delete it to start afresh).");
        lines.Add($"  Try: curl -H \"Authorization: Bearer <demo key>\" {gatewayUrl}/api/tenant");
        lines.Add("===================================================================");
        Console.Out.WriteLine(string.Join(Environment.NewLine, lines));
        Console.Out.Flush();
    }
}
