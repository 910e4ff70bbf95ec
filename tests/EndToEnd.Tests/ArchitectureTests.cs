using System.Text.RegularExpressions;
using System.Xml.Linq;
using SafeNotify.Crm.TestSupport;

namespace SafeNotify.Crm.EndToEnd.Tests;

public sealed class ArchitectureTests
{
    private static readonly string[] Services = ["Ingress", "Routing", "Agent", "Lead", "Metrics", "WebApp"];

    [Fact]
    public void Services_never_reference_each_other_only_the_shared_building_blocks()
    {
        foreach (var service in Services)
        {
            var project = XDocument.Load(Path.Combine(Repository.Root, "services", service, $"{service}.csproj"));
            var references = project.Descendants("ProjectReference")
                .Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value))
                .ToList();
            Assert.All(references, r => Assert.Contains(r, new[] { "ServiceDefaults", "Contracts", "Messaging", "ServiceData" }));
        }
    }

    [Theory]
    [InlineData("services/ServiceData/ServiceData.csproj", new[] { "ServiceDefaults" })]
    [InlineData("services/Messaging/Messaging.csproj", new[] { "ServiceDefaults", "Contracts", "ServiceData" })]
    [InlineData("services/Contracts/Contracts.csproj", new string[0])]
    public void The_shared_blocks_build_on_each_other_in_one_direction_only(string path, string[] allowed)
    {
        // Data access at the bottom, messaging on top of it; neither knows any service.
        var project = XDocument.Load(Path.Combine(Repository.Root, path));
        var references = project.Descendants("ProjectReference").Select(r => Path.GetFileNameWithoutExtension(r.Attribute("Include")!.Value));
        Assert.All(references, r => Assert.Contains(r, allowed));
    }

    [Fact]
    public void Every_service_is_laid_out_the_same_way()
    {
        foreach (var service in Services)
        {
            var root = Path.Combine(Repository.Root, "services", service);
            foreach (var folder in new[] { "Apis", "Consumers", "Data", "Data/Migrations", "Extensions", "Model" })
            {
                Assert.True(Directory.Exists(Path.Combine(root, folder)), $"{service} has no {folder}/");
            }

            Assert.True(File.ReadAllLines(Path.Combine(root, "Program.cs")).Length <= 25, $"{service}/Program.cs is short");
        }
    }

    [Fact]
    public void Sql_lives_in_each_services_Data_folder()
    {
        // Statements, and the EF calls that run hand-written SQL, outside Data/ (and its migrations) are misplaced.
        var sql = new Regex(@"\b(ExecuteSql\w*|SqlQuery\w*|FromSql\w*)\(|""[^""]*\b(SELECT|INSERT INTO|UPDATE|DELETE FROM)\s[^""]*\b(FROM|SET|VALUES|WHERE)\b|^\s*(INSERT INTO|DELETE FROM|UPDATE \S+ SET|SELECT .* FROM)\b");
        // Reads the legacy SafeNotify database (not a service's schema), once, as a migration tool.
        string[] elsewhere = ["services/Routing/Services/UserMigration.cs"];
        var misplaced = Services
            .SelectMany(service => Directory.EnumerateFiles(Path.Combine(Repository.Root, "services", service), "*.cs", SearchOption.AllDirectories))
            .Select(path => Path.GetRelativePath(Repository.Root, path).Replace('\\', '/'))
            .Where(path => !path.Contains("/Data/", StringComparison.Ordinal) && !path.Contains("/obj/", StringComparison.Ordinal)
                && !path.Contains("/bin/", StringComparison.Ordinal) && !elsewhere.Contains(path))
            .SelectMany(path => File.ReadLines(Path.Combine(Repository.Root, path)).Select((line, i) => (path, line, number: i + 1)))
            .Where(l => sql.IsMatch(l.line))
            .Select(l => $"{l.path}:{l.number}: {l.line.Trim()}")
            .ToList();

        Assert.True(misplaced.Count == 0, "SQL outside Data/:\n" + string.Join("\n", misplaced));
    }
}
