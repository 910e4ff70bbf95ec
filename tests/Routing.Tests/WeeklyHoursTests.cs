using System.Text.Json;
using SafeNotify.Crm.Contracts;

namespace SafeNotify.Crm.Routing.Tests;

public sealed class WeeklyHoursTests
{
    private static readonly TimeZoneInfo Bogota = TimeZoneInfo.FindSystemTimeZoneById("America/Bogota");

    private static DateTimeOffset At(int day, int hour, int minute = 0) => new(2026, 11, day, hour, minute, 0, TimeSpan.FromHours(-5));

    [Theory]
    [InlineData(23, 7, 59, false)]   // Monday before opening
    [InlineData(23, 8, 0, true)]     // opening minute
    [InlineData(23, 11, 59, true)]
    [InlineData(23, 12, 0, false)]   // an end is exclusive: lunch
    [InlineData(23, 14, 0, true)]    // the afternoon shift
    [InlineData(23, 18, 0, false)]
    [InlineData(29, 10, 0, false)]   // Sunday: not listed, closed
    public void Split_shifts_open_and_close_on_the_minute(int day, int hour, int minute, bool open)
    {
        var hours = Parse("""{"monday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}]}""");
        Assert.Equal(open, hours!.IsOpenAt(At(day, hour, minute), Bogota));
    }

    [Fact]
    public void A_range_across_midnight_runs_into_the_next_day_and_24_00_ends_the_day()
    {
        var night = Parse("""{"friday":[{"start":"22:00","end":"02:00"}],"saturday":[{"start":"20:00","end":"24:00"}]}""")!;
        Assert.True(night.IsOpenAt(At(27, 23), Bogota));    // Friday 23:00
        Assert.True(night.IsOpenAt(At(28, 1, 30), Bogota)); // Saturday 01:30, Friday's shift
        Assert.False(night.IsOpenAt(At(28, 2), Bogota));
        Assert.True(night.IsOpenAt(At(28, 23, 59), Bogota));
        Assert.False(night.IsOpenAt(At(29, 0, 0), Bogota)); // Sunday has no range of its own
    }

    [Fact]
    public void A_closed_date_closes_the_shifts_starting_that_day_but_not_the_night_before()
    {
        var hours = Parse("""{"thursday":[{"start":"20:00","end":"06:00"}],"friday":[{"start":"08:00","end":"18:00"},{"start":"20:00","end":"06:00"}],"closedDates":["2026-11-27"]}""")!;
        Assert.True(hours.IsOpenAt(At(27, 5), Bogota));   // Thursday night's shift runs into the holiday
        Assert.False(hours.IsOpenAt(At(27, 10), Bogota)); // the holiday itself is closed
        Assert.False(hours.IsOpenAt(At(27, 22), Bogota));
    }

    [Fact]
    public void The_seeds_string_form_means_every_day()
    {
        var hours = Parse("\"18:00-08:00\"")!;
        foreach (var day in Enumerable.Range(23, 7))
        {
            Assert.True(hours.IsOpenAt(At(day, 20), Bogota));
            Assert.False(hours.IsOpenAt(At(day, 12), Bogota));
        }
    }

    [Fact]
    public void Null_means_always_open()
    {
        Assert.True(WeeklyHours.TryParse(JsonDocument.Parse("null").RootElement, out var hours, out _));
        Assert.Null(hours);
    }

    [Theory]
    [InlineData("\"25:00-08:00\"")]
    [InlineData("\"08:00\"")]
    [InlineData("\"08:00-08:00\"")]
    [InlineData("{\"funday\":[]}")]
    [InlineData("{\"monday\":[{\"start\":\"8:00\",\"end\":\"12:00\"}]}")]
    [InlineData("{\"monday\":{\"start\":\"08:00\"}}")]
    [InlineData("{\"closedDates\":[\"25/12/2026\"]}")]
    [InlineData("42")]
    public void Invalid_hours_are_refused_with_a_message_a_user_can_act_on(string json)
    {
        Assert.False(WeeklyHours.TryParse(JsonDocument.Parse(json).RootElement, out _, out var error));
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    private static WeeklyHours? Parse(string json)
    {
        Assert.True(WeeklyHours.TryParse(JsonDocument.Parse(json).RootElement, out var hours, out var error), error);
        return hours;
    }
}
