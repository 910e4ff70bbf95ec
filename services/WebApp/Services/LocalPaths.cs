namespace SafeNotify.Crm.WebApp.Services;

/// <summary>Where the console may send a browser after signing in: its own pages only, never another site.</summary>
public static class LocalPaths
{
    public static string OrHome(string? returnUrl) =>
        returnUrl is { Length: > 0 } path && path[0] == '/' && !path.StartsWith("//", StringComparison.Ordinal) && !path.StartsWith("/\\", StringComparison.Ordinal)
            ? path
            : "/";
}
