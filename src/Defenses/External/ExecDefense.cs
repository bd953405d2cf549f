using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Randomness;

namespace DefenseBench.Defenses.External;

/// <summary>
/// A client-side defence written as another program, in any language (docs/defences.md, exec; examples/defenses/):
/// each upload goes to it as a safetensors file and comes back as one. The program and a temp folder for the files
/// live as long as any session of this defence is open: one persistent process serves every client of a cell's
/// attacked round (and, separately, of its utility training); the folder and the process go when the last session is
/// disposed. Nothing of the harness's is written outside that folder, and each upload's files are deleted once read.
/// </summary>
public sealed class ExecDefense(ExecSettings settings) : IClientDefense
{
    private readonly object _gate = new();
    private int _open;
    private int _uploads;
    private string? _folder;
    private ExternalProgram? _program;

    public ExecSettings Settings { get; } = settings;

    public string Canonical => Settings.Canonical;

    public IClientDefenseSession Open(int client)
    {
        lock (_gate) _open++;
        return new Session(this, client);
    }

    /// <summary>
    /// One exchange. The seed the program is given is drawn from the defence's stream, so a program that draws its
    /// randomness from it gives the same answer for the same cell, seed and upload.
    /// </summary>
    private Update Defend(Update upload, Rng rng, UploadOrigin origin)
    {
        ulong seed = rng.NextULong();
        lock (_gate)
        {
            _folder ??= Directory.CreateTempSubdirectory("defensebench-exec-").FullName;
            _program ??= new ExternalProgram(Settings);
            int n = _uploads++;
            string inPath = Path.Combine(_folder, $"upload-{n}-in.safetensors");
            string outPath = Path.Combine(_folder, $"upload-{n}-out.safetensors");
            try
            {
                UploadFiles.WriteIn(inPath, upload, Settings, origin, seed);
                _program.Defend(inPath, outPath);
                return UploadFiles.ReadOut(outPath, upload, Settings.Timeout);
            }
            catch (ExecDefenseException e)
            {
                throw new ExecDefenseException($"{Canonical}, client {origin.Client}, round {origin.Round}: {e.Message}");
            }
            finally
            {
                // A folder the program put at OUT goes with the temp folder when the last session closes.
                TryDelete(() => File.Delete(inPath));
                TryDelete(() => File.Delete(outPath));
            }
        }
    }

    private void Close()
    {
        lock (_gate)
        {
            if (--_open > 0) return;
            _program?.Dispose();
            _program = null;
            string? folder = _folder;
            _folder = null;
            if (folder != null) TryDelete(() => Directory.Delete(folder, recursive: true));
        }
    }

    /// <summary>
    /// Cleaning up is best effort: what the program left behind (a folder at OUT, a file it made unreadable) must not
    /// turn a finished cell into a failed one. File.Delete of a missing file does nothing; a link is removed, never followed.
    /// </summary>
    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // left for the system's temp cleaner
        }
    }

    /// <summary>A client's view of the defence: no state of its own (the program keeps none it is promised), only its share in the program's lifetime.</summary>
    private sealed class Session(ExecDefense defence, int client) : IClientDefenseSession
    {
        private bool _disposed;

        /// <summary>
        /// An upload whose origin is not known cannot be described to the program as the protocol promises; the harness
        /// always gives it, direct callers must too.
        /// </summary>
        public Update Apply(Update upload, Rng rng) =>
            throw new InvalidOperationException($"{defence.Canonical} (client {client}) needs the upload's origin: call Apply(upload, rng, origin)");

        public Update Apply(Update upload, Rng rng, UploadOrigin origin) => defence.Defend(upload, rng, origin);

        public IClientDefenseSession Fork() => defence.Open(client);

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            defence.Close();
        }
    }
}
