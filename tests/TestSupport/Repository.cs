namespace SafeNotify.Crm.TestSupport;

public static class Repository
{
    /// <summary>The checkout's root folder (where SafeNotify.Crm.sln is).</summary>
    public static string Root { get; } = FindRoot();

    public static string InfraScript(string name) => Path.Combine(Root, "AppHost", "infra", name);

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "SafeNotify.Crm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("SafeNotify.Crm.sln not found above " + AppContext.BaseDirectory);
    }
}
