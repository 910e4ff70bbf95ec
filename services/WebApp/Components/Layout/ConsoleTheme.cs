using MudBlazor;

namespace SafeNotify.Crm.WebApp.Components.Layout;

/// <summary>
/// The console's colours: MudBlazor's, with a darker red for destructive actions (disable, revoke), whose outlined buttons
/// would otherwise miss WCAG AA's contrast on white.
/// </summary>
public static class ConsoleTheme
{
    public static readonly MudTheme Default = new()
    {
        PaletteLight = new PaletteLight { Error = "#b71c1c" },
    };
}
