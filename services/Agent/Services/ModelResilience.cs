using System.ClientModel;
using System.Globalization;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace SafeNotify.Crm.Agent.Services;

/// <summary>
/// How a model call survives a bad moment: a budget for the whole reply, a timeout per attempt, retries of a 429,
/// a 5xx, a 408 or a lost connection with exponential backoff and jitter (a 429's Retry-After honoured), and a circuit
/// breaker shared by every reply, so that while the model is down customers get the fallback at once.
/// One per service instance (a singleton): the circuit's state is the instance's view of the model.
/// </summary>
public sealed class ModelResilience
{
    private readonly ResiliencePipeline _pipeline;

    public ModelResilience(IOptions<AiOptions> options, TimeProvider time)
    {
        var settings = options.Value;
        var builder = new ResiliencePipelineBuilder { TimeProvider = time }.AddTimeout(settings.Timeout);
        if (settings.MaxRetries > 0)
        {
            builder.AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome.Exception)),
                MaxRetryAttempts = settings.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = settings.RetryDelay,
                MaxDelay = settings.MaxRetryDelay,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Exception, settings.MaxRetryDelay)),
            });
        }

        _pipeline = builder
            .AddCircuitBreaker(new CircuitBreakerStrategyOptions
            {
                ShouldHandle = args => ValueTask.FromResult(IsTransient(args.Outcome.Exception)),
                FailureRatio = settings.BreakerFailureRatio,
                MinimumThroughput = settings.BreakerMinimumThroughput,
                SamplingDuration = settings.BreakerSamplingDuration,
                BreakDuration = settings.BreakDuration,
            })
            .AddTimeout(settings.AttemptTimeout)
            .Build();
    }

    public ValueTask<T> ExecuteAsync<T>(Func<CancellationToken, ValueTask<T>> call, CancellationToken cancellationToken) =>
        _pipeline.ExecuteAsync(call, cancellationToken);

    /// <summary>A failure worth another try: the model was busy, failed, or could not be reached (an attempt's timeout included).</summary>
    public static bool IsTransient(Exception? exception) => exception switch
    {
        ClientResultException { Status: 0 or 408 or 429 or >= 500 } => true,
        HttpRequestException => true,
        TimeoutRejectedException => true,
        _ => false,
    };

    /// <summary>What a 429 (or 503) asked for; null leaves the exponential backoff.</summary>
    private static TimeSpan? RetryAfter(Exception? exception, TimeSpan max)
    {
        if (exception is not ClientResultException { Status: 429 or 503 } failed || failed.GetRawResponse() is not { } response)
        {
            return null;
        }

        TimeSpan? wait = null;
        if (response.Headers.TryGetValue("retry-after-ms", out var ms) && double.TryParse(ms, NumberStyles.Float, CultureInfo.InvariantCulture, out var milliseconds))
        {
            wait = TimeSpan.FromMilliseconds(milliseconds);
        }
        else if (response.Headers.TryGetValue("Retry-After", out var after))
        {
            if (double.TryParse(after, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
            {
                wait = TimeSpan.FromSeconds(seconds);
            }
            else if (DateTimeOffset.TryParse(after, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at))
            {
                wait = at - DateTimeOffset.UtcNow;
            }
        }

        return wait is { } value ? TimeSpan.FromTicks(Math.Clamp(value.Ticks, 0, max.Ticks)) : null;
    }
}
