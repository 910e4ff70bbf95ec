using SafeNotify.Crm.Routing.Extensions;
using SafeNotify.Crm.Routing.Services;

// A one-off command instead of the service: the migration of existing SafeNotify users (README).
if (args is [UserMigrationCommand.Name, .. var commandArgs])
{
    return await UserMigrationCommand.RunAsync(commandArgs, Console.Out);
}

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseCrmProblemDetails();
app.UseRequestTextRules();
app.MapRoutingApi();
app.MapDefaultEndpoints();

app.Run();
return 0;
/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
