namespace SafeNotify.Crm.Routing.Model;

/// <summary>
/// What a unit of work adds to its numbers' totals: every message to a known number counts in its
/// <see cref="WhatsAppNumber.TotalMessages"/>, answered or not, and each lead once in the
/// <see cref="WhatsAppNumber.TotalLeads"/> of the number it first wrote to. The additions are written once per unit of
/// work, in the numbers' key order: a number's row is what every one of its messages touches, so writing it per message
/// would make them all wait for each other.
/// </summary>
public sealed class NumberTotals
{
    private readonly SortedDictionary<(string TenantId, string NumberId), Addition> _additions = new();

    public void MessageReceived(WhatsAppNumber number) => Add(number.TenantId, number.Id, new Addition(1, 0));

    public void LeadCreated(string tenantId, string numberId) => Add(tenantId, numberId, new Addition(0, 1));

    /// <summary>The additions so far, in key order, forgetting them.</summary>
    public IReadOnlyList<NumberTotalsAddition> Take()
    {
        var taken = _additions.Select(a => new NumberTotalsAddition(a.Key.TenantId, a.Key.NumberId, a.Value.Messages, a.Value.Leads)).ToList();
        _additions.Clear();
        return taken;
    }

    /// <summary>Forgets the additions of a unit of work that rolled back.</summary>
    public void Clear() => _additions.Clear();

    private void Add(string tenantId, string numberId, Addition addition)
    {
        var key = (tenantId, numberId);
        _additions[key] = _additions.TryGetValue(key, out var sum) ? new Addition(sum.Messages + addition.Messages, sum.Leads + addition.Leads) : addition;
    }

    private readonly record struct Addition(int Messages, int Leads);
}

/// <summary>What one number's totals grow by.</summary>
public sealed record NumberTotalsAddition(string TenantId, string NumberId, int Messages, int Leads);
