using System.Text;

namespace SafeNotify.Crm.EndToEnd.Tests;

/// <summary>One span as exported: the service and instance it came from, its name and kind (OTLP's numbers: 2 server, 5 consumer).</summary>
public sealed record ExportedSpan(string Service, string Instance, string Name, int Kind);

/// <summary>
/// A minimal OTLP/HTTP receiver: takes whatever is posted to /v1/traces, /v1/logs and /v1/metrics and keeps the raw
/// protobuf. Strings are stored in protobuf as their UTF-8 bytes, so a secret that was exported is found in them as is.
/// </summary>
public sealed class OtlpReceiver() : RequestRecorder("application/x-protobuf")
{
    /// <summary>What was exported for one signal ("/v1/traces", "/v1/logs", "/v1/metrics"), as text that keeps every ASCII byte.</summary>
    public IReadOnlyList<string> Exported(string signal) =>
        Received.Where(r => r.PathAndQuery == signal).Select(r => Encoding.Latin1.GetString(r.Body)).ToList();

    /// <summary>Every span exported so far, read from the OTLP protobuf (only the fields named here).</summary>
    public IReadOnlyList<ExportedSpan> Spans() =>
        Received.Where(r => r.PathAndQuery == "/v1/traces").SelectMany(r => TraceRequest(r.Body)).ToList();

    // ExportTraceServiceRequest { 1: ResourceSpans* } ResourceSpans { 1: Resource { 1: KeyValue* }, 2: ScopeSpans* }
    // KeyValue { 1: key, 2: AnyValue { 1: string_value } } ScopeSpans { 2: Span* } Span { 5: name, 6: kind }
    private static IEnumerable<ExportedSpan> TraceRequest(byte[] body)
    {
        foreach (var resourceSpans in Fields(body).Where(f => f.Number == 1))
        {
            var attributes = new Dictionary<string, string>();
            foreach (var resource in Fields(resourceSpans.Bytes).Where(f => f.Number == 1))
            {
                foreach (var keyValue in Fields(resource.Bytes).Where(f => f.Number == 1))
                {
                    var parts = Fields(keyValue.Bytes).ToList();
                    var key = parts.FirstOrDefault(p => p.Number == 1).Text;
                    var value = parts.Where(p => p.Number == 2).SelectMany(p => Fields(p.Bytes)).FirstOrDefault(p => p.Number == 1).Text;
                    if (key is not null && value is not null)
                    {
                        attributes[key] = value;
                    }
                }
            }

            var service = attributes.GetValueOrDefault("service.name", "");
            var instance = attributes.GetValueOrDefault("service.instance.id", "");
            foreach (var scopeSpans in Fields(resourceSpans.Bytes).Where(f => f.Number == 2))
            {
                foreach (var span in Fields(scopeSpans.Bytes).Where(f => f.Number == 2))
                {
                    var fields = Fields(span.Bytes).ToList();
                    yield return new ExportedSpan(service, instance, fields.FirstOrDefault(f => f.Number == 5).Text ?? "",
                        (int)fields.FirstOrDefault(f => f.Number == 6).Varint);
                }
            }
        }
    }

    private readonly record struct Field(int Number, ulong Varint, byte[] Bytes)
    {
        public string? Text => Bytes is null ? null : Encoding.UTF8.GetString(Bytes);
    }

    /// <summary>The fields of one protobuf message: varints and length-delimited ones kept, fixed-size ones skipped.</summary>
    private static IEnumerable<Field> Fields(byte[] message)
    {
        var position = 0;
        while (position < message.Length)
        {
            var tag = Varint(message, ref position);
            var number = (int)(tag >> 3);
            switch (tag & 7)
            {
                case 0:
                    yield return new Field(number, Varint(message, ref position), null!);
                    break;
                case 1:
                    position += 8;
                    break;
                case 2:
                    var length = (int)Varint(message, ref position);
                    yield return new Field(number, 0, message[position..(position + length)]);
                    position += length;
                    break;
                case 5:
                    position += 4;
                    break;
                default:
                    throw new InvalidDataException($"Protobuf wire type {tag & 7} is not one OTLP uses.");
            }
        }
    }

    private static ulong Varint(byte[] message, ref int position)
    {
        ulong value = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = message[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0)
            {
                return value;
            }
        }
    }
}
