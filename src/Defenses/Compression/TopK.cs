using DefenseBench.Core.Components;
using DefenseBench.Core.Defenses;
using DefenseBench.Core.Federation;
using DefenseBench.Core.Models;
using DefenseBench.Core.Randomness;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Defenses.Compression;

/// <summary>Which entries compete for the kept slots (docs/defences.md, topk).</summary>
public enum TopKScope
{
    /// <summary>Each tensor keeps its own top fraction (GradAttack, iLRG).</summary>
    Layer,

    /// <summary>One ranking over all tensors (NVFlare, Deep Gradient Compression).</summary>
    Global,

    /// <summary>Only the last FC layer's weight and bias are sparsified, each on its own; the rest is sent dense (LLG).</summary>
    LastLayer,
}

/// <summary>
/// Top-k sparsification: keep the fraction <see cref="Keep"/> of entries with the largest |value| of the upload
/// (gradient or weight delta) and zero the rest. Ties go to the lower index (stable sort), so results do not depend
/// on the device. With error feedback each client adds what it withheld last round to its next upload.
/// keep = 1 returns the upload unchanged, bit for bit. Made by the catalog (<see cref="DefenseCatalog.TopK"/> for a
/// direct one) from the parameter values its canonical name is written from.
/// </summary>
public sealed class TopK : ISparsifyingDefense
{
    public TopK(ParameterValues values)
    {
        Keep = values.Real("keep");
        Scope = ParseScope(values.Choice("scope"));
        ErrorFeedback = values.Switch("ef");
        Canonical = values.CanonicalName("topk");
    }

    public double Keep { get; }
    public TopKScope Scope { get; }
    public bool ErrorFeedback { get; }

    public string Canonical { get; }

    public static string ScopeName(TopKScope scope) => scope switch
    {
        TopKScope.Layer => "layer",
        TopKScope.Global => "global",
        _ => "last-layer",
    };

    private static TopKScope ParseScope(string scope) => scope switch
    {
        "layer" => TopKScope.Layer,
        "global" => TopKScope.Global,
        "last-layer" => TopKScope.LastLayer,
        _ => throw new ArgumentException($"unknown top-k scope '{scope}'", nameof(scope)),
    };

    public IClientDefenseSession Open(int client) => new Session(this);

    /// <summary>A boolean mask of the kept entries of a flat tensor (<see cref="TopKSelection"/>).</summary>
    private static Tensor KeepMask(Tensor flat, double keep) => TopKSelection.KeepMask(flat, keep);

    /// <summary>Kept entries as they are, the rest exactly zero (a multiply would turn a dropped infinity into NaN).</summary>
    private static Tensor KeepOnly(Tensor t, Tensor mask) => torch.where(mask.view_as(t), t, torch.zeros_like(t));

    private Update Sparsify(Update update)
    {
        switch (Scope)
        {
            case TopKScope.Global:
            {
                var flat = torch.cat(update.Tensors.Select(t => t.flatten()).ToArray(), 0);
                var mask = KeepMask(flat, Keep);
                long offset = 0;
                return update.Map((_, t) =>
                {
                    var part = mask.narrow(0, offset, t.numel());
                    offset += t.numel();
                    return KeepOnly(t, part);
                });
            }
            case TopKScope.LastLayer:
                return update.Map((name, t) => name is Classifier.FcWeight or Classifier.FcBias
                    ? KeepOnly(t, KeepMask(t.flatten(), Keep))
                    : t);
            default:
                return update.Map((_, t) => KeepOnly(t, KeepMask(t.flatten(), Keep)));
        }
    }

    private sealed class Session(TopK defence) : IClientDefenseSession
    {
        // Kept alive by the class: `a + b` would make an implicit alpha of 1 inside TorchSharp that may be finalised
        // while libtorch still reads it.
        private static readonly Scalar One = 1.ToScalar();
        private Update? _residual;

        /// <summary>The residual copied (outside every dispose scope, owned by the fork).</summary>
        public IClientDefenseSession Fork() => new Session(defence)
        {
            _residual = _residual?.Map((_, t) => t.detach().clone().DetachFromDisposeScope()),
        };

        public void Dispose()
        {
            if (_residual != null) foreach (var t in _residual.Tensors) t.Dispose();
            _residual = null;
        }

        public Update Apply(Update upload, Rng rng)
        {
            if (defence.Keep >= 1.0) return upload;
            if (!defence.ErrorFeedback) return defence.Sparsify(upload);
            var corrected = _residual == null ? upload : upload.Map((name, t) => t.add(_residual[name], One));
            var sent = defence.Sparsify(corrected);
            // The residual outlives the round's dispose scope; this session owns it and frees the previous one.
            var previous = _residual;
            _residual = corrected.Map((name, t) => (t - sent[name]).detach().DetachFromDisposeScope());
            if (previous != null) foreach (var t in previous.Tensors) t.Dispose();
            return sent;
        }
    }
}
