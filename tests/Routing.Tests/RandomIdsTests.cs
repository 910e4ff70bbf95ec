using System.Text.RegularExpressions;
using SafeNotify.Crm.ServiceDefaults;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// Ids name tenants, keys and every object in the API: random, so that one leaks neither how many there are nor
/// which came before, and none can be guessed from another.
/// </summary>
public sealed partial class RandomIdsTests
{
    private const int Count = 10_000;

    [Fact]
    public void An_id_is_its_prefix_and_26_lower_case_base32_characters_and_ten_thousand_never_collide()
    {
        var ids = Enumerable.Range(0, Count).Select(_ => Ids.New("tnt")).ToList();

        Assert.All(ids, id => Assert.Matches(Format(), id));
        Assert.Equal(Count, ids.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void Ids_made_one_after_another_are_in_no_order_and_vary_in_every_position()
    {
        var ids = Enumerable.Range(0, Count).Select(_ => Ids.New("key")[4..]).ToList();

        // A counter or a clock in the id would make each one sort after the one before; random ids do so half the time.
        var ascending = ids.Zip(ids.Skip(1), (a, b) => string.CompareOrdinal(a, b) < 0).Count(up => up);
        Assert.InRange(ascending, Count * 0.45, Count * 0.55);

        // 128 random bits: every one of the first 25 characters takes all 32 values across ten thousand ids (a
        // timestamp or sequence would keep its leading characters nearly constant). The 26th holds the last 3 bits only.
        for (var position = 0; position < 25; position++)
        {
            Assert.Equal(32, ids.Select(id => id[position]).Distinct().Count());
        }

        Assert.Equal(8, ids.Select(id => id[25]).Distinct().Count());
    }

    [GeneratedRegex("^tnt_[a-z2-7]{26}$")]
    private static partial Regex Format();
}
