using DefenseBench.Core.Randomness;

namespace DefenseBench.Core.Data;

/// <summary>
/// Deterministic class-conditional images, the embedded default dataset. Each class has a prototype made of three
/// Gaussian blobs and an oriented grating with class-specific positions, widths, colours and frequency; each sample
/// shifts the prototype by up to two pixels, scales its contrast and adds pixel noise. Distinct classes look
/// different to a small CNN (it learns them to high accuracy) while samples of a class vary. Every image is a pure
/// function of (seed, split, class, sample), so any subset is reproducible without generating the rest.
/// Index i holds class i mod C, so classes interleave.
/// </summary>
public sealed class SyntheticImages : IImageDataset
{
    public const int MaxClasses = 1000;
    private readonly ulong _seed;
    private readonly int[] _perClass;
    private readonly Prototype[] _prototypes;

    public SyntheticImages(string name, ImageShape shape, int numClasses, int trainPerClass, int testPerClass, ulong seed = 20221)
    {
        if (numClasses < 2 || numClasses > MaxClasses)
            throw new ArgumentOutOfRangeException(nameof(numClasses), $"synthetic datasets have 2 to {MaxClasses} classes");
        Name = name;
        Shape = shape;
        NumClasses = numClasses;
        _seed = seed;
        _perClass = [trainPerClass, testPerClass];
        _prototypes = Enumerable.Range(0, numClasses).Select(c => new Prototype(Rng.For(seed, "class", c), shape)).ToArray();
    }

    public string Name { get; }
    public ImageShape Shape { get; }
    public int NumClasses { get; }
    public int Count(Split split) => _perClass[(int)split] * NumClasses;
    public int Label(Split split, int index) => index % NumClasses;

    public IReadOnlyList<int> ClassIndices(Split split, int label) => new ClassIndexList(label, NumClasses, _perClass[(int)split]);

    public void Read(Split split, int index, Span<float> pixels)
    {
        int label = index % NumClasses;
        var rng = Rng.For(_seed, split, label, index / NumClasses);
        _prototypes[label].Render(rng, Shape, pixels);
    }

    /// <summary>The indices label, label + C, label + 2C, ... without materialising them.</summary>
    private sealed class ClassIndexList(int label, int numClasses, int count) : IReadOnlyList<int>
    {
        public int this[int i] => (uint)i < (uint)count ? label + i * numClasses : throw new ArgumentOutOfRangeException(nameof(i));
        public int Count => count;
        public IEnumerator<int> GetEnumerator()
        {
            for (int i = 0; i < count; i++) yield return this[i];
        }
        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private sealed class Prototype
    {
        private const int Blobs = 3;
        private readonly double[] _cx = new double[Blobs], _cy = new double[Blobs], _inv2s2 = new double[Blobs];
        private readonly double[,] _amp;
        private readonly double _kx, _ky, _phase;
        private readonly double[] _gratingAmp;

        public Prototype(Rng rng, ImageShape shape)
        {
            _amp = new double[Blobs, shape.Channels];
            for (int b = 0; b < Blobs; b++)
            {
                _cx[b] = rng.Uniform(0.2, 0.8) * shape.Width;
                _cy[b] = rng.Uniform(0.2, 0.8) * shape.Height;
                double sigma = rng.Uniform(0.07, 0.16) * shape.Width;
                _inv2s2[b] = 1.0 / (2 * sigma * sigma);
                for (int ch = 0; ch < shape.Channels; ch++) _amp[b, ch] = rng.Uniform(0.35, 0.9);
            }
            double frequency = rng.Uniform(1.0, 4.0) * 2 * Math.PI / shape.Width;
            double angle = rng.Uniform(0, Math.PI);
            _kx = frequency * Math.Cos(angle);
            _ky = frequency * Math.Sin(angle);
            _phase = rng.Uniform(0, 2 * Math.PI);
            _gratingAmp = Enumerable.Range(0, shape.Channels).Select(_ => rng.Uniform(0.05, 0.2)).ToArray();
        }

        public void Render(Rng rng, ImageShape shape, Span<float> pixels)
        {
            double dx = rng.Uniform(-2, 2), dy = rng.Uniform(-2, 2);
            double contrast = rng.Uniform(0.75, 1.25);
            const double noise = 0.12;
            int plane = shape.Height * shape.Width;
            Span<double> blob = stackalloc double[Blobs];
            for (int y = 0; y < shape.Height; y++)
            {
                for (int x = 0; x < shape.Width; x++)
                {
                    double px = x - dx, py = y - dy;
                    double grating = Math.Sin(_kx * px + _ky * py + _phase);
                    for (int b = 0; b < Blobs; b++)
                    {
                        double ex = px - _cx[b], ey = py - _cy[b];
                        blob[b] = Math.Exp(-(ex * ex + ey * ey) * _inv2s2[b]);
                    }
                    for (int ch = 0; ch < shape.Channels; ch++)
                    {
                        double v = 0.1 + _gratingAmp[ch] * grating;
                        for (int b = 0; b < Blobs; b++) v += _amp[b, ch] * blob[b];
                        v = v * contrast + noise * rng.NextGaussian();
                        pixels[ch * plane + y * shape.Width + x] = (float)Math.Clamp(v, 0.0, 1.0);
                    }
                }
            }
        }
    }
}
