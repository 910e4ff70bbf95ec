using SafeNotify.Crm.WebApp.Extensions;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddApplicationServices();
builder.AddConsole();

var app = builder.Build();

app.UseErrorAnswers();
app.UseConsoleProtections();
app.UseRequestTextRules();
app.MapConsole();
app.MapDefaultEndpoints();

app.Run();

/// <summary>The entry point, visible to the tests' WebApplicationFactory.</summary>
public partial class Program;
