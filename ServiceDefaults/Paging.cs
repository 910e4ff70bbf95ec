namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>The list shape of every API: <c>{"items":[...],"page":1,"pageSize":50,"total":123}</c>.</summary>
public sealed record PagedList<T>(IReadOnlyList<T> Items, int Page, int PageSize, int Total);

/// <summary>Page and size from the query string, clamped to sane bounds (page from 1, size 1-200, default 50).</summary>
public readonly record struct PageQuery(int Page, int PageSize)
{
    public const int DefaultPageSize = 50;
    public const int MaxPageSize = 200;

    public static PageQuery From(int? page, int? pageSize) =>
        new(Math.Max(page ?? 1, 1), Math.Clamp(pageSize ?? DefaultPageSize, 1, MaxPageSize));

    public int Skip => (Page - 1) * PageSize;
}
