using System.Text;

namespace DefenseBench.Defenses.External;

/// <summary>
/// Drains a child's output stream as it comes (a full pipe would block the child) and keeps only its last
/// <see cref="Capacity"/> bytes, so a program that prints without end costs bounded memory.
/// </summary>
internal sealed class StreamTail
{
    public const int Capacity = 8192;

    private readonly byte[] _ring = new byte[Capacity];
    private long _written;
    private readonly Task _reading;

    public StreamTail(Stream stream) => _reading = Task.Run(() => Drain(stream));

    private async Task Drain(Stream stream)
    {
        var buffer = new byte[4096];
        try
        {
            int n;
            while ((n = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                lock (_ring)
                    for (int i = 0; i < n; i++) _ring[_written++ % Capacity] = buffer[i];
        }
        catch (IOException)
        {
            // the pipe broke when the process was killed: what was read so far is the tail
        }
        catch (ObjectDisposedException)
        {
            // as above
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for the stream to end (a killed program's children may keep it open).</summary>
    public void Settle(TimeSpan timeout) => _reading.Wait(timeout);

    /// <summary>The last <paramref name="lines"/> non-empty lines read, joined by " | ", at most <paramref name="chars"/> characters (the end kept).</summary>
    public string LastLines(int lines = 5, int chars = 300)
    {
        byte[] bytes;
        lock (_ring)
        {
            long count = Math.Min(_written, Capacity);
            bytes = new byte[count];
            for (long i = 0; i < count; i++) bytes[i] = _ring[(_written - count + i) % Capacity];
        }
        var text = Encoding.UTF8.GetString(bytes).Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0).TakeLast(lines);
        string joined = string.Join(" | ", text);
        return joined.Length <= chars ? joined : "…" + joined[^chars..];
    }
}
