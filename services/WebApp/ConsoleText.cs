[assembly: Microsoft.Extensions.Localization.RootNamespace("SafeNotify.Crm.WebApp")]

namespace SafeNotify.Crm.WebApp;

/// <summary>
/// The console's words, looked up by their English text (<c>IStringLocalizer&lt;ConsoleText&gt;</c>, injected as <c>T</c>):
/// English is the text itself, Spanish is in <c>Resources/ConsoleText.es.resx</c>. The model's sentences (a refused change,
/// a password that will not do) are English too, and pass through the same lookup when a page shows them.
/// </summary>
public sealed class ConsoleText
{
    /// <summary>The languages the console speaks; the first is the one of a browser that asks for neither.</summary>
    public static readonly string[] Languages = ["en", "es"];

    /// <summary>Each language in its own words, for the language menu.</summary>
    public static string NameOf(string language) => language == "es" ? "Español" : "English";
}
