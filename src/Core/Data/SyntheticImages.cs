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
            int h = shape.Height, w = shape.Width, plane = h * w;
            // Gaussians and the grating are separable in x and y: per-axis factors instead of per-pixel exp/sin.
            Span<double> blobX = stackalloc double[Blobs * w], blobY = stackalloc double[Blobs * h];
            Span<double> sinX = stackalloc double[w], cosX = stackalloc double[w], sinY = stackalloc double[h], cosY = stackalloc double[h];
            for (int b = 0; b < Blobs; b++)
            {
                for (int x = 0; x < w; x++) blobX[b * w + x] = Math.Exp(-Square(x - dx - _cx[b]) * _inv2s2[b]);
                for (int y = 0; y < h; y++) blobY[b * h + y] = Math.Exp(-Square(y - dy - _cy[b]) * _inv2s2[b]);
            }
            for (int x = 0; x < w; x++) (sinX[x], cosX[x]) = Math.SinCos(_kx * (x - dx) + _phase);
            for (int y = 0; y < h; y++) (sinY[y], cosY[y]) = Math.SinCos(_ky * (y - dy));
            var gaussian = new GaussianPairs(rng);
            for (int y = 0; y < h; y++)
            {
                for (int x = 0; x < w; x++)
                {
                    double grating = sinX[x] * cosY[y] + cosX[x] * sinY[y];
                    for (int ch = 0; ch < shape.Channels; ch++)
                    {
                        double v = 0.1 + _gratingAmp[ch] * grating;
                        for (int b = 0; b < Blobs; b++) v += _amp[b, ch] * blobX[b * w + x] * blobY[b * h + y];
                        v = v * contrast + noise * gaussian.Next();
                        pixels[ch * plane + y * w + x] = (float)Math.Clamp(v, 0.0, 1.0);
                    }
                }
            }
        }

        private static double Square(double v) => v * v;
    }

    /// <summary>Box–Muller normals, both values of each pair used.</summary>
    private ref struct GaussianPairs(Rng rng)
    {
        private double _spare;
        private bool _hasSpare;

        public double Next()
        {
            if (_hasSpare)
            {
                _hasSpare = false;
                return _spare;
            }
            double radius = Math.Sqrt(-2.0 * Math.Log(1.0 - rng.NextDouble()));
            var (sin, cos) = Math.SinCos(2.0 * Math.PI * rng.NextDouble());
            _spare = radius * sin;
            _hasSpare = true;
            return radius * cos;
        }
    }
}
