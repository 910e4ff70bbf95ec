using SafeNotify.Crm.Gateway;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddGateway();
builder.AddRateLimits();

var app = builder.Build();

app.UseCrmProblemDetails();
app.UseRequestSizeLimits();
app.UseCallerIdentity();
app.UseRateLimits();
app.MapReverseProxy();
app.MapUnknownApiRoutes();
app.MapApiReference();
app.MapDefaultEndpoints();

app.Run();
