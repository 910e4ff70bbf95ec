namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>The list shape of every API: <c>{"items":[...],"page":1,"pageSize":50,"total":123}</c>.</summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>Page and size from the query string (page from 1, size 1-200, default 50), checked in this one place.</summary>
public readonly record struct PageQuery(int Page, int PageSize)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    /// <summary>The page asked for; out of range, a 400 naming the field (<see cref="InvalidRequestException"/>).</summary>
    public static PageQuery From(int? page, int? pageSize)
    {
        var query = new PageQuery(page ?? 1, pageSize ?? DefaultPageSize);
        var errors = new ValidationErrors()
            .Check(query.Page >= 1, "page", "From 1.")
            .Check(query.PageSize is >= 1 and <= MaxPageSize, "pageSize", $"From 1 to {MaxPageSize}.");
        // The offset is computed in 64 bits: a page far past any list must not wrap around to a negative one.
        if (!errors.Any && (long)(query.Page - 1) * query.PageSize > int.MaxValue)
        {
            errors.Add("page", $"At most {int.MaxValue / query.PageSize + 1} with pageSize {query.PageSize}.");
        }

        return errors.Any ? throw new InvalidRequestException(errors) : query;
    }

    public int Skip => (Page - 1) * PageSize;
}
