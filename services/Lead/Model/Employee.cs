namespace SafeNotify.Crm.Lead.Model;

/// <summary>
/// A person of the business who takes or answers a conversation: a staff member signed in to the console (with their
/// <see cref="StaffId"/> and the name they have there), or a name an API caller gives (an external name, no staff id).
/// </summary>
public sealed record Employee(string Name, string? StaffId = null)
{
    /// <summary>An external name, as an API caller gives it.</summary>
    public static implicit operator Employee(string name) => new(name);

    public bool Is(string? name, string? staffId) => StaffId is not null ? StaffId == staffId : staffId is null && Name == name;
}
