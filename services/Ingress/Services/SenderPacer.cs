using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using SafeNotify.Crm.Ingress.Data;

namespace SafeNotify.Crm.Ingress.Services;

/// <summary>
/// Spaces the sends of each of our numbers (<c>Twilio:SendsPerSecondPerNumber</c>, or the number's own
/// <c>Twilio:SendsPerSecondByNumber:{number}</c>). The next free slot is a
/// row in Postgres, so every instance shares it and a restart keeps it (timers are data).
/// </summary>
public sealed class SenderPacer(IngressDbContext db, IOptions<TwilioOptions> options, TimeProvider time)
{
    /// <summary>Reserves the next slot of <paramref name="number"/>: the time at which this send may go.</summary>
    public Task<DateTimeOffset> ReserveAsync(string number, CancellationToken cancellationToken) =>
        db.ReserveSlotAsync(number, options.Value.SendIntervalOf(number), cancellationToken);

    /// <summary>
    /// Waits until <paramref name="lead"/> before <paramref name="notBefore"/>, then makes sure the send still keeps its
    /// place in the pace, and returns the time the send may go. A slot reached more than half an interval late (a
    /// stalled process, a timer that fired late) is given up for a fresh one: sends that fell behind together would
    /// otherwise all go at once, a burst at the very moment Twilio's limit matters. The caller claims its part only
    /// after this wait, so it may be cancelled (a stopping host).
    /// </summary>
    public async Task<DateTimeOffset> WaitForSlotAsync(string number, DateTimeOffset notBefore, TimeSpan lead, CancellationToken cancellationToken)
    {
        var tolerance = options.Value.SendIntervalOf(number) / 2;
        while (true)
        {
            var wait = notBefore - lead - time.GetUtcNow();
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait, time, cancellationToken);
            }

            if (time.GetUtcNow() - notBefore <= tolerance)
            {
                return notBefore;
            }

            notBefore = await ReserveAsync(number, cancellationToken);
        }
    }
}
