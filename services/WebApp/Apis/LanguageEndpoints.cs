using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Localization;
using Microsoft.AspNetCore.Mvc;
using SafeNotify.Crm.WebApp.Services;

namespace SafeNotify.Crm.WebApp.Apis;

/// <summary>The console's language: the browser's by default, or the one a person chose, kept in a cookie for a year.</summary>
public static class LanguageEndpoints
{
    public static IEndpointRouteBuilder MapLanguageEndpoints(this IEndpointRouteBuilder app)
    {
        // A form post from any console page (antiforgery checked), back to that page in the chosen language.
        app.MapPost("/language", ChooseLanguage).ExcludeFromDescription();
        return app;
    }

    private static RedirectHttpResult ChooseLanguage(HttpContext context, [FromForm] string? language, [FromForm] string? returnUrl)
    {
        if (language is not null && ConsoleText.Languages.Contains(language))
        {
            context.Response.Cookies.Append(CookieRequestCultureProvider.DefaultCookieName,
                CookieRequestCultureProvider.MakeCookieValue(new RequestCulture(language)),
                new CookieOptions
                {
                    Expires = DateTimeOffset.UtcNow.AddYears(1), HttpOnly = true, SameSite = SameSiteMode.Lax, Secure = context.Request.IsHttps, IsEssential = true,
                });
        }

        return TypedResults.LocalRedirect(LocalPaths.OrHome(returnUrl));
    }
}
