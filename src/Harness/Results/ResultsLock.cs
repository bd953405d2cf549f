using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using DefenseBench.Core.Components;

namespace DefenseBench.Harness.Results;

/// <summary>
/// An exclusive lock on a results folder for the commands that write into it (run, merge, plot, leaderboard,
/// recommend): a second writer would interleave rows (two runs into one folder lost 7 of 30 rows) or rewrite a
/// cells.csv under a run. The lock is an OS file lock on <see cref="FileName"/> (released by the kernel when its holder
/// dies, so a lock left by a killed process is taken over), and <see cref="OwnerFile"/> says who holds it: process id,
/// start time, host, command, for the message a second writer gets (exit 2).
/// </summary>
public sealed class ResultsLock : IDisposable
{
    public const string FileName = ".defensebench.lock";
    public const string OwnerFile = ".defensebench.lock.json";

    private readonly FileStream _lock;
    private readonly string _owner;

    /// <summary>The holder that the lock taken over had left behind (a killed process), or null.</summary>
    public Holder? TakenOver { get; }

    /// <summary>Who holds a lock: process id, its start time, host and command line.</summary>
    public sealed record Holder(int Pid, DateTimeOffset Started, string Host, string Command)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"process {Pid} on {Host}, started {Started:yyyy-MM-dd HH:mm:ss zzz} (`{Command}`)");
    }

    private ResultsLock(FileStream stream, string owner, Holder? takenOver)
    {
        _lock = stream;
        _owner = owner;
        TakenOver = takenOver;
    }

    /// <summary>Takes the lock of <paramref name="folder"/> (created if missing), or throws an input error naming the holder.</summary>
    public static ResultsLock Acquire(string folder, string command)
    {
        Directory.CreateDirectory(folder);
        string path = Path.Combine(folder, FileName), owner = Path.Combine(folder, OwnerFile);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            string who = ReadHolder(owner)?.ToString() ?? "another process (it has not said which yet)";
            throw new InputException($"{folder} is locked by {who}, which is writing into it",
                "wait for it to finish, or write to another folder with --out; a lock left by a killed process is taken over by the next writer");
        }
        // The OS released the previous holder's lock; an owner file still there means it did not end cleanly.
        var stale = ReadHolder(owner);
        using var self = Process.GetCurrentProcess();
        var me = new Holder(Environment.ProcessId, self.StartTime, Environment.MachineName, command);
        File.WriteAllText(owner, JsonSerializer.Serialize(me) + "\n");
        return new ResultsLock(stream, owner, stale);
    }

    private static Holder? ReadHolder(string owner)
    {
        try
        {
            return File.Exists(owner) ? JsonSerializer.Deserialize<Holder>(File.ReadAllText(owner)) : null;
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Releases the lock; the lock file itself stays, so a waiting writer never locks a deleted file.</summary>
    public void Dispose()
    {
        try
        {
            File.Delete(_owner);
        }
        catch (IOException)
        {
            // best effort: a left owner file only makes the next writer report a takeover
        }
        _lock.Dispose();
    }
}
