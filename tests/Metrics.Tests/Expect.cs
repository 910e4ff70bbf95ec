using System.Globalization;
using System.Text.Json.Nodes;

namespace SafeNotify.Crm.Metrics.Tests;

public static class Expect
{
    /// <summary>
    /// Every property of <paramref name="expected"/> (an anonymous object named like the API's fields) equals the row's
    /// field: integers and decimals exactly, doubles to 3 decimals, a (low, high) tuple as a range, null as null.
    /// </summary>
    public static void Figures(JsonNode? row, object expected)
    {
        Assert.NotNull(row);
        var mismatches = new List<string>();
        foreach (var property in expected.GetType().GetProperties())
        {
            var value = property.GetValue(expected);
            var actual = row![property.Name];
            var ok = value switch
            {
                null => actual is null,
                int or long => actual is not null && actual.GetValue<long>() == Convert.ToInt64(value, CultureInfo.InvariantCulture),
                decimal d => actual is not null && actual.GetValue<decimal>() == d,
                double x => actual is not null && Math.Abs(actual.GetValue<double>() - x) < 0.0005,
                ValueTuple<double, double> range => actual is not null && actual.GetValue<double>() >= range.Item1 && actual.GetValue<double>() <= range.Item2,
                string s => actual is not null && actual.GetValue<string>() == s,
                _ => throw new ArgumentException($"Cannot compare {property.Name}"),
            };
            if (!ok)
            {
                mismatches.Add($"{property.Name}: expected {value}, was {actual?.ToJsonString() ?? "null"}");
            }
        }

        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches) + "\nrow: " + row!.ToJsonString());
    }
}
