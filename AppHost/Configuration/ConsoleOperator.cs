using Microsoft.Extensions.Configuration;
using SafeNotify.Crm.AppHost.Infrastructure;

namespace SafeNotify.Crm.AppHost.Configuration;

/// <summary>
/// The console's first operator: Crm__Console__FirstOperator__Email (default operator@safenotify.local) and
/// Crm__Console__FirstOperator__Password (default: generated once and kept in the state folder). The console creates
/// it when it has no operator yet; the run command prints both.
/// </summary>
internal sealed record ConsoleOperator(string Email, IResourceBuilder<ParameterResource> Password)
{
    public const string DefaultEmail = "operator@safenotify.local";

    public static ConsoleOperator From(IConfiguration config, StateFolder state, IDistributedApplicationBuilder builder) => new(
        config["Crm:Console:FirstOperator:Email"] ?? DefaultEmail,
        builder.AddParameter("console-operator-password", config["Crm:Console:FirstOperator:Password"] ?? state.Secret("console-operator-password", bytes: 12), secret: true));
}
