using MassTransit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;
using SafeNotify.Crm.Messaging;
using SafeNotify.Crm.ServiceData;
using SafeNotify.Crm.ServiceDefaults;
using SafeNotify.Crm.WebApp.Apis;
using SafeNotify.Crm.WebApp.Components;
using SafeNotify.Crm.WebApp.Data;
using SafeNotify.Crm.WebApp.Model;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Extensions;

public static class Extensions
{
    /// <summary>Chooses, per request, between a service caller's signed identity (the operators' API) and a console session.</summary>
    private const string CallerOrSession = "caller-or-session";

    public static IHostApplicationBuilder AddApplicationServices(this IHostApplicationBuilder builder)
    {
        builder.AddServiceDatabase<WebAppDbContext>("webapp-db", WebAppDbContext.Schema);
        builder.AddServiceMessaging<WebAppDbContext>("webapp", bus => bus.AddConsumers(typeof(Extensions).Assembly));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<IPasswordHasher<StaffAccount>, PasswordHasher<StaffAccount>>();
        builder.Services.AddScoped<StaffDirectory>();
        builder.Services.AddSingleton<InteractiveDirectory>();
        builder.Services.AddOptions<ConsoleOptions>().BindConfiguration("Crm:Console");
        builder.Services.AddOptions<ConsoleAddress>().BindConfiguration(ConsoleAddress.Section);
        builder.Services.AddOptions<FirstOperatorOptions>().BindConfiguration("Crm:Console:FirstOperator").ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<FirstOperator>();
        builder.Services.AddOptions<SmtpOptions>().BindConfiguration("Smtp");
        builder.Services.AddScoped<ConsoleMail>();

        // The console calls the services directly, as the signed-in member, with identities it signs itself.
        builder.AddIdentitySigner(IdentityTokens.ConsoleIssuer);
        builder.Services.AddSingleton<MemberIdentities>();
        builder.Services.AddHttpClient<RoutingClient>(http => http.BaseAddress = new Uri("https+http://routing"));
        return builder;
    }

    /// <summary>The console: interactive server rendering, MudBlazor, and sessions in a cookie.</summary>
    public static IHostApplicationBuilder AddConsole(this IHostApplicationBuilder builder)
    {
        // Every instance seals and opens cookies and form tokens with the same keys, kept in the console's schema: a
        // session signed in on one instance holds on another, and a restart signs nobody out.
        builder.Services.AddDataProtection().SetApplicationName("SafeNotify.Console").PersistKeysToDbContext<WebAppDbContext>();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddLocalization(options => options.ResourcesPath = "Resources");
        builder.Services.AddMudServices();
        builder.Services.AddCascadingAuthenticationState();
        builder.Services.AddScoped<AuthenticationStateProvider, ConsoleAuthenticationState>();
        builder.Services.AddAuthorization();

        builder.Services.AddAuthentication(options =>
            {
                options.DefaultScheme = CallerOrSession;
                options.DefaultChallengeScheme = CallerOrSession;
            })
            .AddPolicyScheme(CallerOrSession, CallerOrSession, options =>
                options.ForwardDefaultSelector = context =>
                    context.Request.Headers.ContainsKey(CallerIdentity.Header) ? JwtBearerDefaults.AuthenticationScheme : ConsoleSession.Scheme)
            .AddCookie(ConsoleSession.Scheme, options =>
            {
                options.Cookie.Name = ConsoleSession.CookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest; // Secure over HTTPS; plain http://localhost still works
                options.LoginPath = "/sign-in";
                options.AccessDeniedPath = "/not-allowed";
                options.ExpireTimeSpan = TimeSpan.FromHours(12);
                options.SlidingExpiration = true;
                options.Events.OnValidatePrincipal = ConsoleSession.ValidateAsync;
            })
            .AddCookie(ConsoleSession.PendingScheme, options =>
            {
                options.Cookie.Name = ConsoleSession.PendingCookieName;
                options.Cookie.HttpOnly = true;
                options.Cookie.SameSite = SameSiteMode.Lax;
                options.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.ExpireTimeSpan = ConsoleSession.PendingLifetime;
                options.SlidingExpiration = false;
            });
        return builder;
    }

    /// <summary>
    /// Errors as their reader expects them: the API's as problem details, the console's as its own page (a browser asking
    /// for a page that does not exist sees "not found", not JSON).
    /// </summary>
    public static WebApplication UseErrorAnswers(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseWhen(context => context.Request.Path.StartsWithSegments("/api"), api => api.UseStatusCodePages());
        app.UseWhen(context => !context.Request.Path.StartsWithSegments("/api"),
            pages => pages.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
        return app;
    }

    /// <summary>
    /// What the gateway tells the console (forwarded headers, trusted from the loopback proxy only), and what every page
    /// tells the browser: a Content-Security-Policy with no inline script (MudBlazor sets inline styles, so styles may
    /// be), no framing, no sniffing. The live connection's hub refuses a page of another origin.
    /// </summary>
    public static WebApplication UseConsoleProtections(this WebApplication app)
    {
        app.UseForwardedHeaders(new ForwardedHeadersOptions
        {
            ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost,
        });
        app.Use(async (context, next) =>
        {
            if (context.Request.Path.StartsWithSegments("/_blazor") && !FromOwnOrigin(context.Request))
            {
                context.Response.StatusCode = StatusCodes.Status403Forbidden;
                await context.Response.WriteAsync("The console's live connection answers only the console's own pages.");
                return;
            }

            if (!context.Request.Path.StartsWithSegments("/api"))
            {
                var headers = context.Response.Headers;
                headers.ContentSecurityPolicy = ContentSecurityPolicy;
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "same-origin";
            }

            await next(context);
        });

        // Routing after the error answers: a request they re-execute (an unknown address, to the not-found page) is routed
        // again. Signing in, roles and the request text rules follow routing, so they see the endpoint they guard.
        app.UseRouting();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    private const string ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        + "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>A browser names the page's origin; a request without one (not from a page) has nothing to compare.</summary>
    private static bool FromOwnOrigin(HttpRequest request) =>
        request.Headers.Origin.ToString() is not { Length: > 0 } origin
        || (Uri.TryCreate(origin, UriKind.Absolute, out var page)
            && string.Equals(page.Scheme, request.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(page.Authority, request.Host.Value, StringComparison.OrdinalIgnoreCase));

    public static WebApplication MapConsole(this WebApplication app)
    {

        // English or Spanish: the language chosen in the console (a cookie), else the browser's, else English.
        app.UseRequestLocalization(options => options
            .AddSupportedCultures(ConsoleText.Languages).AddSupportedUICultures(ConsoleText.Languages).SetDefaultCulture(ConsoleText.Languages[0]));
        app.UseAntiforgery();
        app.MapStaticAssets();
        // The policy above forbids framing already: the framework's own frame-ancestors header would only repeat it.
        app.MapRazorComponents<App>().AddInteractiveServerRenderMode(options => options.ContentSecurityFrameAncestorsPolicy = null);
        app.MapAccountEndpoints();
        app.MapLanguageEndpoints();
        app.MapStaffApi();
        return app;
    }
}
