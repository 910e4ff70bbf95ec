using SafeNotify.Crm.Ingress.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();

app.UseCrmProblemDetails();
app.UseRequestTextRules();
app.MapIngressApi();
app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
