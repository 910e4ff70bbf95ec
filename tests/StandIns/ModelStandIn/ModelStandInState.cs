namespace SafeNotify.Crm.ModelStandIn;

public sealed record ModelMessage(string Role, string Content);

/// <summary>
/// One chat completion request as received. <paramref name="Kind"/> is "openai" or "azure"; <paramref name="Headers"/>
/// leave out the credentials; <paramref name="Body"/> is the raw JSON for anything else a test wants to check.
/// </summary>
public sealed record ModelRequest(
    string Kind,
    string Path,
    string Model,
    string? Deployment,
    string? ApiVersion,
    IReadOnlyList<ModelMessage> Messages,
    double? Temperature,
    int? MaxTokens,
    IReadOnlyDictionary<string, string> Headers,
    string Body,
    DateTimeOffset ReceivedAt);

public enum ModelMode
{
    Ok,
    Status500,
    Status429,
    /// <summary>Never answer: wait until the client gives up.</summary>
    Hang,
}

/// <summary>
/// How the next <paramref name="Count"/> requests are answered (0: until changed), after waiting <paramref name="LatencyMs"/>.
/// <paramref name="Reply"/> replaces the echoed reply; <paramref name="RetryAfterMs"/> is what a 429 asks the client to wait.
/// </summary>
public sealed record ModelBehaviour(ModelMode Mode = ModelMode.Ok, int LatencyMs = 0, int Count = 0, string? Reply = null, int RetryAfterMs = 100);

/// <summary>The stand-in's in-memory record and behaviour; a singleton that in-process tests may inspect and drive.</summary>
public sealed class ModelStandInState
{
    private static readonly ModelBehaviour Default = new();

    private readonly Lock _gate = new();
    private readonly List<ModelRequest> _requests = [];
    private readonly Queue<string> _scriptedReplies = new();
    private ModelBehaviour _behaviour = Default;
    private int _behaviourRemaining;
    private int _inFlight;

    public IReadOnlyList<ModelRequest> Requests { get { lock (_gate) { return [.. _requests]; } } }

    /// <summary>Requests received and not answered yet: what a client has in flight with the model right now.</summary>
    public int InFlight => Volatile.Read(ref _inFlight);

    public void ClearRequests()
    {
        lock (_gate)
        {
            _requests.Clear();
        }
    }

    public void SetBehaviour(ModelBehaviour behaviour)
    {
        lock (_gate)
        {
            _behaviour = behaviour;
            _behaviourRemaining = behaviour.Count;
        }
    }

    /// <summary>Back to echoing at once; also drops the queued replies.</summary>
    public void ResetBehaviour()
    {
        lock (_gate)
        {
            _behaviour = Default;
            _behaviourRemaining = 0;
            _scriptedReplies.Clear();
        }
    }

    /// <summary>Queues a reply for the next successful completion, ahead of the behaviour's reply and the echo.</summary>
    public void EnqueueReply(string reply)
    {
        lock (_gate)
        {
            _scriptedReplies.Enqueue(reply);
        }
    }

    /// <summary>Counts a request as in flight until the returned scope ends.</summary>
    internal IDisposable Answering()
    {
        Interlocked.Increment(ref _inFlight);
        return new Scope(() => Interlocked.Decrement(ref _inFlight));
    }

    private sealed class Scope(Action end) : IDisposable
    {
        public void Dispose() => end();
    }

    internal void Record(ModelRequest request)
    {
        lock (_gate)
        {
            _requests.Add(request);
        }
    }

    /// <summary>The behaviour for this request; counts it against the behaviour's budget.</summary>
    internal ModelBehaviour TakeBehaviour()
    {
        lock (_gate)
        {
            var behaviour = _behaviour;
            if (behaviour.Count > 0 && --_behaviourRemaining <= 0)
            {
                _behaviour = Default;
            }

            return behaviour;
        }
    }

    internal string? TakeScriptedReply()
    {
        lock (_gate)
        {
            return _scriptedReplies.TryDequeue(out var reply) ? reply : null;
        }
    }
}
