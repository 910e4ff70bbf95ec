using System.Text.Json;
using SafeNotify.Crm.Contracts;
using SafeNotify.Crm.Routing.Model;
using SafeNotify.Crm.Routing.Services;

namespace SafeNotify.Crm.Routing.Tests;

/// <summary>
/// The seed's clinic: DrBot (default; "cita", "dolor", "limpieza") and Urgencias (active 18:00-08:00;
/// "urgencia", "dolor fuerte", "emergencia") on a number open Monday to Friday 08:00-12:00 and 14:00-18:00,
/// closed on Christmas, in Bogotá (UTC-5, no daylight saving).
/// </summary>
public sealed class AgentChoiceTests
{
    private static readonly KnownAgent DrBot = new()
    {
        AgentId = "agt_drbot", TenantId = "tnt", Name = "DrBot", IsActive = true, IsDefault = true,
        TriggerKeywords = ["cita", "dolor", "limpieza"],
    };

    private static readonly KnownAgent Urgencias = new()
    {
        AgentId = "agt_urgencias", TenantId = "tnt", Name = "Urgencias", IsActive = true,
        TriggerKeywords = ["urgencia", "dolor fuerte", "emergencia"], ActiveHours = Hours("\"18:00-08:00\""),
        OutOfHoursMessage = "Estamos cerrados.",
    };

    private static WhatsAppNumber Number(bool autoReply = true) => new()
    {
        Id = "num", TenantId = "tnt", PhoneNumber = "+57301111111", DisplayName = "Citas", AutoReply = autoReply,
        DefaultAgentId = DrBot.AgentId, Timezone = "America/Bogota",
        BusinessHours = Hours("""
            {"monday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
             "tuesday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
             "wednesday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
             "thursday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
             "friday":[{"start":"08:00","end":"12:00"},{"start":"14:00","end":"18:00"}],
             "closedDates":["2026-12-25"]}
            """),
    };

    // Wednesday 25 November 2026 in Bogotá (UTC-5).
    private static DateTimeOffset Bogota(int day, int hour, int minute = 0) => new(2026, 11, day, hour, minute, 0, TimeSpan.FromHours(-5));

    [Theory]
    [InlineData("Hola, quiero una CITA", "agt_drbot")]
    [InlineData("quiero una citá", "agt_drbot")]
    [InlineData("tengo un dolor FUERTE en la muela", "agt_urgencias")]   // the longer phrase wins over "dolor"
    [InlineData("es una URGÉNCIA", "agt_urgencias")]
    [InlineData("me duelen los dolores", "agt_drbot")]                 // "dolores" is not the word "dolor": the default answers
    [InlineData("necesito una limpieza dental", "agt_drbot")]
    [InlineData("tengo un DOLOR   fuerte!!", "agt_urgencias")]        // spaces and punctuation between the words do not matter
    [InlineData("¿Dolor-Fuerte?", "agt_urgencias")]
    [InlineData("EMERGÉNCIA", "agt_urgencias")]
    [InlineData("quiero dos citas", "agt_drbot")]                     // "citas" is not the word "cita": the default answers
    [InlineData("fuerte dolor", "agt_drbot")]                         // a phrase keeps its word order: "dolor" matches, not "dolor fuerte"
    public void Inside_hours_keywords_choose_among_agents_on_duty_case_and_accent_insensitively(string text, string expected)
    {
        // Urgencias is on duty 18:00-08:00 only: at 10:00 only DrBot is, so "dolor fuerte" goes to DrBot ...
        var morning = AgentChooser.Choose(Number(), [DrBot, Urgencias], text, Bogota(25, 10));
        Assert.Equal(ReplyPolicy.Agent, morning.Reply);
        Assert.Equal("agt_drbot", morning.AgentId);
        Assert.True(morning.InsideBusinessHours);

        // ... while on a number with no business hours at 19:00 both are on duty and the keyword decides.
        var alwaysOpen = Number();
        alwaysOpen.BusinessHours = null;
        var evening = AgentChooser.Choose(alwaysOpen, [DrBot, Urgencias], text, Bogota(25, 19));
        Assert.Equal(expected, evening.AgentId);
    }

    [Fact]
    public void A_keyword_match_is_said_in_the_reason()
    {
        var choice = AgentChooser.Choose(Number(), [DrBot, Urgencias], "quiero una cita", Bogota(25, 9));
        Assert.True(choice.MatchedKeyword);
        Assert.Contains("'cita'", choice.Reason);
    }

    [Fact]
    public void Without_a_keyword_the_numbers_default_agent_answers()
    {
        var choice = AgentChooser.Choose(Number(), [DrBot, Urgencias], "buenos días", Bogota(25, 9));
        Assert.Equal(("agt_drbot", false), (choice.AgentId, choice.MatchedKeyword));
        Assert.Contains("default agent", choice.Reason);
    }

    [Fact]
    public void At_lunch_between_split_shifts_the_agent_on_duty_answers_with_autoReply()
    {
        var lunch = AgentChooser.Choose(Number(), [DrBot, Urgencias], "hola", Bogota(25, 13));
        Assert.False(lunch.InsideBusinessHours);
        // DrBot has no active hours of its own: it is on duty, and as the default it answers.
        Assert.Equal("agt_drbot", lunch.AgentId);
    }

    [Fact]
    public void At_night_Urgencias_answers_as_the_seed_describes()
    {
        var drBotDaytime = new KnownAgent
        {
            AgentId = DrBot.AgentId, TenantId = "tnt", Name = "DrBot", IsActive = true, IsDefault = true,
            TriggerKeywords = DrBot.TriggerKeywords, ActiveHours = Hours("\"08:00-18:00\""),
        };
        var night = AgentChooser.Choose(Number(), [drBotDaytime, Urgencias], "hola, ¿hay alguien?", Bogota(25, 22));
        Assert.Equal(ReplyPolicy.Agent, night.Reply);
        Assert.Equal("agt_urgencias", night.AgentId);
        Assert.False(night.InsideBusinessHours);

        // Past midnight the 18:00-08:00 range still runs: 03:00 on Thursday.
        Assert.Equal("agt_urgencias", AgentChooser.Choose(Number(), [drBotDaytime, Urgencias], "hola", Bogota(26, 3)).AgentId);
    }

    [Fact]
    public void Outside_hours_with_autoReply_off_nobody_answers()
    {
        var choice = AgentChooser.Choose(Number(autoReply: false), [DrBot, Urgencias], "urgencia", Bogota(25, 22));
        Assert.Equal(ReplyPolicy.None, choice.Reply);
        Assert.Null(choice.AgentId);
    }

    [Fact]
    public void Outside_hours_with_nobody_on_duty_the_out_of_hours_text_of_the_default_agent_goes_out()
    {
        var drBotDaytime = new KnownAgent
        {
            AgentId = DrBot.AgentId, TenantId = "tnt", Name = "DrBot", IsActive = true, IsDefault = true,
            ActiveHours = Hours("\"08:00-18:00\""), OutOfHoursMessage = "La clínica abre a las 8.",
        };
        var choice = AgentChooser.Choose(Number(), [drBotDaytime], "hola", Bogota(25, 22));
        Assert.Equal(ReplyPolicy.OutOfHoursText, choice.Reply);
        Assert.Equal("La clínica abre a las 8.", choice.OutOfHoursText);

        drBotDaytime.OutOfHoursMessage = null;
        Assert.Equal(AgentChooser.DefaultOutOfHoursText, AgentChooser.Choose(Number(), [drBotDaytime], "hola", Bogota(25, 22)).OutOfHoursText);
    }

    [Fact]
    public void On_a_closed_date_the_number_is_outside_business_hours_all_day()
    {
        var christmasMorning = new DateTimeOffset(2026, 12, 25, 10, 0, 0, TimeSpan.FromHours(-5));
        Assert.False(AgentChooser.Choose(Number(), [DrBot], "hola", christmasMorning).InsideBusinessHours);
        var dayAfter = new DateTimeOffset(2026, 12, 28, 10, 0, 0, TimeSpan.FromHours(-5)); // a Monday
        Assert.True(AgentChooser.Choose(Number(), [DrBot], "hola", dayAfter).InsideBusinessHours);
    }

    [Fact]
    public void The_numbers_time_zone_decides_not_the_servers()
    {
        var madrid = Number();
        madrid.Timezone = "Europe/Madrid";
        // 10:00 in Bogotá is 16:00 in Madrid: inside the afternoon shift there.
        Assert.True(AgentChooser.Choose(madrid, [DrBot], "hola", Bogota(25, 10)).InsideBusinessHours);
        // 13:00 in Bogotá is 19:00 in Madrid: closed there.
        Assert.False(AgentChooser.Choose(madrid, [DrBot], "hola", Bogota(25, 13)).InsideBusinessHours);
    }

    [Fact]
    public void Inactive_and_deleted_agents_are_never_chosen()
    {
        var inactive = new KnownAgent { AgentId = "agt_off", TenantId = "tnt", Name = "Off", IsActive = false, TriggerKeywords = ["cita"] };
        var deleted = new KnownAgent { AgentId = "agt_gone", TenantId = "tnt", Name = "Gone", IsActive = true, Deleted = true, TriggerKeywords = ["cita"] };
        Assert.Equal("agt_drbot", AgentChooser.Choose(Number(), [inactive, deleted, DrBot], "cita", Bogota(25, 9)).AgentId);
    }

    [Theory]
    [InlineData("I need an APPOINTMENT please", true)]
    [InlineData("appointments?", false)]
    [InlineData("quiero una cita", false)]
    public void English_keywords_match_whole_words_too(string text, bool matches)
    {
        var bilingual = new KnownAgent { AgentId = "agt_en", TenantId = "tnt", Name = "Front desk", IsActive = true, TriggerKeywords = ["appointment", "book a visit"] };
        var choice = AgentChooser.Choose(Number(), [bilingual], text, Bogota(25, 9));
        Assert.Equal(matches, choice.MatchedKeyword);
    }

    [Fact]
    public void When_the_numbers_default_agent_is_off_duty_the_tenants_default_agent_answers()
    {
        var nightOnly = new KnownAgent { AgentId = "agt_night", TenantId = "tnt", Name = "Nocturno", IsActive = true, ActiveHours = Hours("\"22:00-06:00\"") };
        var number = Number();
        number.DefaultAgentId = nightOnly.AgentId;
        var choice = AgentChooser.Choose(number, [nightOnly, DrBot], "buenas", Bogota(25, 9));
        Assert.Equal("agt_drbot", choice.AgentId);
        Assert.Contains("tenant's default agent", choice.Reason);
    }

    [Fact]
    public void Inside_hours_with_no_agent_on_duty_nobody_answers_and_the_reason_says_so()
    {
        var choice = AgentChooser.Choose(Number(), [Urgencias], "hola", Bogota(25, 9)); // Urgencias sleeps 08:00-18:00
        Assert.Equal((ReplyPolicy.None, (string?)null, true), (choice.Reply, choice.AgentId, choice.InsideBusinessHours));
        Assert.Contains("no active agent", choice.Reason);
    }

    [Theory]
    [InlineData(24, 23, "agt_urgencias")] // Christmas Eve (Thursday) 23:30: Urgencias' night shift
    [InlineData(25, 10, "agt_urgencias")] // Christmas morning: the number and DrBot are closed; Urgencias covers the whole Friday
    [InlineData(26, 10, null)]            // Saturday 10:00: the number is closed, nobody is on duty: the out-of-hours text
    public void On_a_holiday_only_agents_on_duty_answer(int day, int hour, string? expected)
    {
        var drBotDaytime = new KnownAgent
        {
            AgentId = DrBot.AgentId, TenantId = "tnt", Name = "DrBot", IsActive = true, IsDefault = true,
            ActiveHours = Hours("""{"monday":[{"start":"08:00","end":"18:00"}],"tuesday":[{"start":"08:00","end":"18:00"}],"wednesday":[{"start":"08:00","end":"18:00"}],"thursday":[{"start":"08:00","end":"18:00"}],"friday":[{"start":"08:00","end":"18:00"}],"closedDates":["2026-12-25"]}"""),
        };
        var urgencias = new KnownAgent
        {
            AgentId = "agt_urgencias", TenantId = "tnt", Name = "Urgencias", IsActive = true,
            ActiveHours = Hours("""{"thursday":[{"start":"18:00","end":"08:00"}],"friday":[{"start":"00:00","end":"24:00"}]}"""),
        };
        var at = new DateTimeOffset(2026, 12, day, hour, 30, 0, TimeSpan.FromHours(-5));
        var choice = AgentChooser.Choose(Number(), [drBotDaytime, urgencias], "hola", at);
        Assert.False(choice.InsideBusinessHours);
        Assert.Equal(expected, choice.AgentId);
        Assert.Equal(expected is null ? ReplyPolicy.OutOfHoursText : ReplyPolicy.Agent, choice.Reply);
    }

    [Fact]
    public void A_keyword_is_a_whole_word_so_cita_does_not_match_citas()
    {
        Assert.False(AgentChooser.Choose(Number(), [DrBot], "quiero dos citas", Bogota(25, 9)).MatchedKeyword);
        Assert.True(AgentChooser.Choose(Number(), [DrBot], "¿Me das una CITÁ?", Bogota(25, 9)).MatchedKeyword);
    }

    [Fact]
    public void Equally_good_keyword_matches_are_decided_by_name_not_by_storage_order()
    {
        var a = new KnownAgent { AgentId = "agt_a", TenantId = "tnt", Name = "Ana", IsActive = true, TriggerKeywords = ["precio"] };
        var b = new KnownAgent { AgentId = "agt_b", TenantId = "tnt", Name = "Bruno", IsActive = true, TriggerKeywords = ["precio"] };
        Assert.Equal("agt_a", AgentChooser.Choose(Number(), [a, b], "¿qué precio tiene?", Bogota(25, 9)).AgentId);
        Assert.Equal("agt_a", AgentChooser.Choose(Number(), [b, a], "¿qué precio tiene?", Bogota(25, 9)).AgentId);
    }

    [Theory]
    [InlineData("Europe/Madrid", "2026-03-28T08:30:00Z", true)]      // Saturday 09:30 CET (UTC+1)
    [InlineData("Europe/Madrid", "2026-03-28T07:30:00Z", false)]     // Saturday 08:30 CET: not yet open
    [InlineData("Europe/Madrid", "2026-03-29T07:30:00Z", true)]      // the last Sunday of March, after 02:00 became 03:00: 09:30 CEST (UTC+2)
    [InlineData("Europe/Madrid", "2026-03-30T07:30:00Z", true)]      // Monday 09:30 CEST, though 08:30 at the week before's offset
    [InlineData("Europe/Madrid", "2026-03-30T16:30:00Z", false)]     // Monday 18:30 CEST: closed, though 17:30 at the week before's offset
    [InlineData("America/New_York", "2026-03-06T13:30:00Z", false)]  // Friday 08:30 EST (UTC-5)
    [InlineData("America/New_York", "2026-03-08T13:30:00Z", true)]   // the second Sunday of March: 09:30 EDT (UTC-4)
    [InlineData("America/New_York", "2026-03-09T13:30:00Z", true)]   // Monday 09:30 EDT, though 08:30 at the week before's offset
    [InlineData("America/New_York", "2026-03-09T22:30:00Z", false)]  // Monday 18:30 EDT: closed
    public void Business_hours_follow_the_numbers_clock_across_a_daylight_saving_change(string zone, string instant, bool inside)
    {
        var number = Number();
        number.Timezone = zone;
        number.BusinessHours = Hours("\"09:00-18:00\"");

        var choice = AgentChooser.Choose(number, [DrBot], "hola", DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(inside, choice.InsideBusinessHours);
    }

    [Fact]
    public void The_hour_skipped_by_daylight_saving_never_opens_and_the_repeated_one_opens_twice()
    {
        var number = Number();
        number.Timezone = "America/New_York";
        number.BusinessHours = Hours("""{"sunday":[{"start":"02:00","end":"03:00"}]}""");
        bool Open(string instant) => AgentChooser.Choose(number, [DrBot], "hola", DateTimeOffset.Parse(instant, System.Globalization.CultureInfo.InvariantCulture)).InsideBusinessHours;

        // 8 March 2026: 01:59 EST is followed by 03:00 EDT, so 02:00-03:00 does not happen.
        Assert.False(Open("2026-03-08T06:59:00Z"));
        Assert.False(Open("2026-03-08T07:00:00Z"));

        // 1 November 2026: 01:00-02:00 happens twice; a range 01:00-02:00 is open both times.
        number.BusinessHours = Hours("""{"sunday":[{"start":"01:00","end":"02:00"}]}""");
        Assert.True(Open("2026-11-01T05:30:00Z"));  // 01:30 EDT
        Assert.True(Open("2026-11-01T06:30:00Z"));  // 01:30 EST, an hour later
        Assert.False(Open("2026-11-01T07:30:00Z")); // 02:30 EST
    }

    internal static WeeklyHours? Hours(string json)
    {
        Assert.True(WeeklyHours.TryParse(JsonDocument.Parse(json).RootElement, out var hours, out var error), error);
        return hours;
    }
}
