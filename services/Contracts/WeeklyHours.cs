using System.Globalization;
using System.Text.Json;

namespace SafeNotify.Crm.Contracts;

/// <summary>A range of local time, "HH:mm" to "HH:mm". An end before its start crosses midnight; "24:00" ends the day.</summary>
public sealed record TimeRange(string Start, string End);

/// <summary>
/// Opening hours shared by a number's <c>businessHours</c> and an agent's <c>activeHours</c>:
/// several ranges a day (split shifts), ranges across midnight and closed dates (holidays).
/// A day that is absent or empty is closed. <c>null</c> hours (no value at all) mean always open.
/// </summary>
public sealed record WeeklyHours
{
    public IReadOnlyList<TimeRange> Monday { get; init; } = [];
    public IReadOnlyList<TimeRange> Tuesday { get; init; } = [];
    public IReadOnlyList<TimeRange> Wednesday { get; init; } = [];
    public IReadOnlyList<TimeRange> Thursday { get; init; } = [];
    public IReadOnlyList<TimeRange> Friday { get; init; } = [];
    public IReadOnlyList<TimeRange> Saturday { get; init; } = [];
    public IReadOnlyList<TimeRange> Sunday { get; init; } = [];
    public IReadOnlyList<DateOnly> ClosedDates { get; init; } = [];

    private static readonly string[] DayNames = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

    public IReadOnlyList<TimeRange> RangesOn(DayOfWeek day) => day switch
    {
        DayOfWeek.Monday => Monday,
        DayOfWeek.Tuesday => Tuesday,
        DayOfWeek.Wednesday => Wednesday,
        DayOfWeek.Thursday => Thursday,
        DayOfWeek.Friday => Friday,
        DayOfWeek.Saturday => Saturday,
        _ => Sunday,
    };

    /// <summary>The same ranges every day, as in the seed's <c>"18:00-08:00"</c>.</summary>
    public static WeeklyHours EveryDay(IReadOnlyList<TimeRange> ranges) => new()
    {
        Monday = ranges, Tuesday = ranges, Wednesday = ranges, Thursday = ranges,
        Friday = ranges, Saturday = ranges, Sunday = ranges,
    };

    /// <summary>
    /// Whether <paramref name="instant"/> falls inside these hours in <paramref name="zone"/>.
    /// A closed date suppresses the ranges that start on it; last night's shift still runs to its end.
    /// </summary>
    public bool IsOpenAt(DateTimeOffset instant, TimeZoneInfo zone)
    {
        var local = TimeZoneInfo.ConvertTime(instant, zone);
        var today = DateOnly.FromDateTime(local.DateTime);
        var minute = local.Hour * 60 + local.Minute;

        if (!ClosedDates.Contains(today))
        {
            foreach (var range in RangesOn(today.DayOfWeek))
            {
                var (start, end) = Minutes(range);
                if (start < end ? minute >= start && minute < end : minute >= start)
                {
                    return true;
                }
            }
        }

        var yesterday = today.AddDays(-1);
        if (!ClosedDates.Contains(yesterday))
        {
            foreach (var range in RangesOn(yesterday.DayOfWeek))
            {
                var (start, end) = Minutes(range);
                if (end < start && minute < end)
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// Reads the API's shape: an object of day names to ranges plus <c>closedDates</c>, or the seed's
    /// string form (<c>"18:00-08:00"</c>, several ranges separated by commas) meaning every day.
    /// Returns false with a message a user can act on when the value is not valid.
    /// </summary>
    public static bool TryParse(JsonElement value, out WeeklyHours? hours, out string? error)
    {
        hours = null;
        error = null;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null or JsonValueKind.Undefined:
                return true;
            case JsonValueKind.String:
                var ranges = new List<TimeRange>();
                foreach (var part in value.GetString()!.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
                {
                    var bounds = part.Split('-', StringSplitOptions.TrimEntries);
                    if (bounds.Length != 2 || !TryAddRange(ranges, bounds[0], bounds[1], out error))
                    {
                        error ??= $"'{part}' is not a range like \"08:00-18:00\".";
                        return false;
                    }
                }

                if (ranges.Count == 0)
                {
                    error = "Give at least one range like \"08:00-18:00\", or null for always.";
                    return false;
                }

                hours = EveryDay(ranges);
                return true;
            case JsonValueKind.Object:
                return TryParseObject(value, out hours, out error);
            default:
                error = "Hours are an object of days and ranges, a string like \"08:00-18:00\", or null.";
                return false;
        }
    }

    private static bool TryParseObject(JsonElement value, out WeeklyHours? hours, out string? error)
    {
        hours = null;
        error = null;
        var days = new Dictionary<string, List<TimeRange>>();
        var closed = new List<DateOnly>();
        foreach (var property in value.EnumerateObject())
        {
            var name = property.Name.ToLowerInvariant();
            if (name == "closeddates")
            {
                if (property.Value.ValueKind != JsonValueKind.Array)
                {
                    error = "closedDates is a list of dates like \"2026-12-25\".";
                    return false;
                }

                foreach (var date in property.Value.EnumerateArray())
                {
                    if (date.ValueKind != JsonValueKind.String
                        || !DateOnly.TryParseExact(date.GetString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
                    {
                        error = $"closedDates: '{date}' is not a date like \"2026-12-25\".";
                        return false;
                    }

                    closed.Add(parsed);
                }

                continue;
            }

            if (Array.IndexOf(DayNames, name) < 0)
            {
                error = $"'{property.Name}' is not a day of the week (monday ... sunday) or closedDates.";
                return false;
            }

            if (property.Value.ValueKind != JsonValueKind.Array)
            {
                error = $"{name}: give a list of ranges like [{{\"start\":\"08:00\",\"end\":\"12:00\"}}].";
                return false;
            }

            var ranges = new List<TimeRange>();
            foreach (var range in property.Value.EnumerateArray())
            {
                if (range.ValueKind != JsonValueKind.Object
                    || !range.TryGetProperty("start", out var start) || start.ValueKind != JsonValueKind.String
                    || !range.TryGetProperty("end", out var end) || end.ValueKind != JsonValueKind.String)
                {
                    error = $"{name}: each range is {{\"start\":\"HH:mm\",\"end\":\"HH:mm\"}}.";
                    return false;
                }

                if (!TryAddRange(ranges, start.GetString()!, end.GetString()!, out error))
                {
                    error = $"{name}: {error}";
                    return false;
                }
            }

            days[name] = ranges;
        }

        IReadOnlyList<TimeRange> Day(string day) => days.TryGetValue(day, out var r) ? r : [];
        hours = new WeeklyHours
        {
            Monday = Day("monday"), Tuesday = Day("tuesday"), Wednesday = Day("wednesday"),
            Thursday = Day("thursday"), Friday = Day("friday"), Saturday = Day("saturday"),
            Sunday = Day("sunday"), ClosedDates = closed,
        };
        return true;
    }

    private static bool TryAddRange(List<TimeRange> ranges, string start, string end, out string? error)
    {
        error = null;
        if (!TryMinutes(start, allowEndOfDay: false, out var s))
        {
            error = $"'{start}' is not a time like \"08:00\".";
            return false;
        }

        if (!TryMinutes(end, allowEndOfDay: true, out var e))
        {
            error = $"'{end}' is not a time like \"18:00\" (\"24:00\" ends the day).";
            return false;
        }

        if (s == e)
        {
            error = $"{start}-{end} is empty; use \"00:00\"-\"24:00\" for the whole day.";
            return false;
        }

        ranges.Add(new TimeRange(start, end));
        return true;
    }

    private static (int Start, int End) Minutes(TimeRange range)
    {
        TryMinutes(range.Start, allowEndOfDay: false, out var start);
        TryMinutes(range.End, allowEndOfDay: true, out var end);
        return (start, end);
    }

    private static bool TryMinutes(string text, bool allowEndOfDay, out int minutes)
    {
        minutes = 0;
        if (allowEndOfDay && text == "24:00")
        {
            minutes = 24 * 60;
            return true;
        }

        if (text.Length != 5 || text[2] != ':'
            || !int.TryParse(text.AsSpan(0, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var h)
            || !int.TryParse(text.AsSpan(3, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var m)
            || h > 23 || m > 59)
        {
            return false;
        }

        minutes = h * 60 + m;
        return true;
    }
}
