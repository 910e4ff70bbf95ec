using System.Text.Json;
using System.Text.Unicode;
using Microsoft.AspNetCore.Http;

namespace SafeNotify.Crm.ServiceDefaults;

/// <summary>
/// One rule for text at the edge of every service, applied before any handler runs: a NUL character, text that is not
/// valid Unicode (an unpaired surrogate, bytes that are not UTF-8) or a JSON object naming a key twice (ignoring case, as the API reads them) is refused with
/// a 400 naming the field, wherever it is: a query parameter, a route value, a JSON body's values and keys at any depth.
/// Postgres refuses NUL in text and a half surrogate cannot be stored or sent to WhatsApp, so such text would fail
/// half-way through a write; a repeated key is ambiguous, and guessing which one the caller meant is not safe.
/// Form bodies (Twilio's webhooks) are not judged here: Ingress decides what to keep of what Twilio sends.
/// </summary>
public static class RequestTextRules
{
    public const string NulMessage = "Text may not contain a NUL character (U+0000).";
    public const string NotUnicodeMessage = "Text must be valid Unicode (an unpaired surrogate or bytes that are not UTF-8 are not).";

    /// <summary>Refuses the request with the 400 naming the field when it breaks the rule; otherwise passes it on.</summary>
    internal static async Task ApplyAsync(HttpContext context, RequestDelegate next)
    {
        if (context.GetEndpoint() is not null && await FindAsync(context) is { } error)
        {
            await new ValidationErrors().Add(error.Field, error.Message).ToProblem().ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    /// <summary>What is wrong with <paramref name="text"/>, or null when it is fine.</summary>
    public static string? Check(string? text)
    {
        if (text is null)
        {
            return null;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0')
            {
                return NulMessage;
            }

            if (char.IsHighSurrogate(c) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(c))
            {
                return NotUnicodeMessage;
            }
        }

        return null;
    }

    private static async Task<(string Field, string Message)?> FindAsync(HttpContext context)
    {
        var request = context.Request;
        foreach (var (name, values) in request.Query)
        {
            if (Check(name) is { } keyProblem)
            {
                return ("query", keyProblem);
            }

            foreach (var value in values)
            {
                if (Check(value) is { } problem)
                {
                    return (name, problem);
                }
            }
        }

        foreach (var (name, value) in request.RouteValues)
        {
            if (value is string text && Check(text) is { } problem)
            {
                return (name, problem);
            }
        }

        if (!request.HasJsonContentType() || request.ContentLength == 0)
        {
            return null;
        }

        // The handler reads the same body again: keep it, within the server's own size limit.
        request.EnableBuffering();
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body, context.RequestAborted);
        request.Body.Position = 0;
        return JsonText.Find(body.GetBuffer().AsSpan(0, (int)body.Length));
    }

    /// <summary>Walks a JSON document once, keeping the path of where it is for the error to name.</summary>
    internal static class JsonText
    {
        public static (string Field, string Message)? Find(ReadOnlySpan<byte> json)
        {
            var reader = new Utf8JsonReader(json, new JsonReaderOptions { MaxDepth = 256 });
            var frames = new List<Frame>();
            try
            {
                while (reader.Read())
                {
                    if (reader.TokenType is JsonTokenType.EndObject or JsonTokenType.EndArray)
                    {
                        frames.RemoveAt(frames.Count - 1);
                        continue;
                    }

                    if (reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var frame = frames[^1];
                        if (Read(ref reader, out var name) is { } keyProblem)
                        {
                            return (Path(frames, key: false) is { Length: > 0 } parent ? parent : "body", $"A key: {keyProblem}");
                        }

                        frame.Property = name;
                        // The API reads fields ignoring case, so "name" and "Name" are the same key twice.
                        if (!(frame.Keys ??= new HashSet<string>(StringComparer.OrdinalIgnoreCase)).Add(name!))
                        {
                            return (Path(frames, key: true), $"The key '{name}' appears more than once in the same object (keys are matched ignoring case).");
                        }

                        continue;
                    }

                    if (frames.Count > 0 && frames[^1].IsArray)
                    {
                        frames[^1].Index++;
                    }

                    switch (reader.TokenType)
                    {
                        case JsonTokenType.StartObject:
                            frames.Add(new Frame(isArray: false));
                            break;
                        case JsonTokenType.StartArray:
                            frames.Add(new Frame(isArray: true));
                            break;
                        case JsonTokenType.String when Read(ref reader, out _) is { } problem:
                            return (Path(frames, key: true) is { Length: > 0 } field ? field : "body", problem);
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON, or nested too deep: the handler's own reading refuses it with its 400.
                return null;
            }

            return null;
        }

        /// <summary>A string token's text and what is wrong with it (an escaped one is decoded to be judged).</summary>
        private static string? Read(ref Utf8JsonReader reader, out string? text)
        {
            text = null;
            if (!reader.ValueIsEscaped)
            {
                // Raw bytes: control characters are not valid JSON (the reader refuses them), but bad UTF-8 passes the reader.
                if (!Utf8.IsValid(reader.ValueSpan))
                {
                    return NotUnicodeMessage;
                }

                text = reader.GetString();
                return null;
            }

            try
            {
                text = reader.GetString();
            }
            catch (InvalidOperationException)
            {
                return NotUnicodeMessage;
            }

            return Check(text);
        }

        /// <summary><c>businessRules.hours[2]</c>: the field as a client names it; with <paramref name="key"/> the innermost key too.</summary>
        private static string Path(List<Frame> frames, bool key)
        {
            var path = new System.Text.StringBuilder();
            for (var i = 0; i < frames.Count; i++)
            {
                var frame = frames[i];
                if (frame.IsArray)
                {
                    path.Append('[').Append(frame.Index).Append(']');
                }
                else if (frame.Property is { } property && (key || i < frames.Count - 1))
                {
                    path.Append(path.Length > 0 ? "." : "").Append(property);
                }
            }

            return path.ToString();
        }

        private sealed class Frame(bool isArray)
        {
            public bool IsArray { get; } = isArray;
            public int Index { get; set; } = -1;
            public string? Property { get; set; }
            public HashSet<string>? Keys { get; set; }
        }
    }
}
