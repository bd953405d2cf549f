using DefenseBench.Core.Data;
using DefenseBench.Harness.Results;
using SkiaSharp;

namespace DefenseBench.Harness.Plots;

/// <summary>
/// A PNG of originals above the reconstructions matched to them: per target, a row of originals and below it a row
/// of reconstructions (clamped to [0, 1], as scored), wrapped after <see cref="Columns"/> images, each pixel enlarged.
/// </summary>
public static class ReconstructionGrid
{
    public const int Columns = 16;
    private const int Gap = 2;
    private const int GroupGap = 10;

    public static void Save(string path, IReadOnlyList<MatchedImages> targets)
    {
        var shape = targets[0].Shape;
        int scale = Math.Max(1, 112 / Math.Max(shape.Height, shape.Width));
        int cellW = shape.Width * scale, cellH = shape.Height * scale;
        var bands = targets.SelectMany(t => t.Pairs.Chunk(Columns)).ToArray();
        int columns = Math.Max(1, bands.Max(b => b.Length));
        int width = columns * (cellW + Gap) + Gap;
        int height = bands.Length * (2 * (cellH + Gap) + GroupGap) + Gap;
        var colors = Enumerable.Repeat(SKColors.White, width * height).ToArray();
        for (int band = 0; band < bands.Length; band++)
        {
            int top = Gap + band * (2 * (cellH + Gap) + GroupGap);
            for (int i = 0; i < bands[band].Length; i++)
            {
                int left = Gap + i * (cellW + Gap);
                Draw(colors, width, left, top, bands[band][i].Original, shape, scale);
                Draw(colors, width, left, top + cellH + Gap, bands[band][i].Reconstruction, shape, scale);
            }
        }
        using var bitmap = new SKBitmap(width, height);
        bitmap.Pixels = colors;
        using var image = SKImage.FromBitmap(bitmap);
        using var png = image.Encode(SKEncodedImageFormat.Png, 100);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = File.Create(path);
        png.SaveTo(file);
    }

    /// <summary>A channel-major [0, 1] image as grey (one channel) or RGB (three), each pixel a scale×scale block.</summary>
    private static void Draw(SKColor[] canvas, int canvasWidth, int left, int top, float[] pixels, ImageShape shape, int scale)
    {
        int plane = shape.Height * shape.Width;
        for (int r = 0; r < shape.Height; r++)
            for (int c = 0; c < shape.Width; c++)
            {
                byte Channel(int ch) => (byte)Math.Round(255 * Math.Clamp(pixels[Math.Min(ch, shape.Channels - 1) * plane + r * shape.Width + c], 0f, 1f));
                var color = new SKColor(Channel(0), Channel(1), Channel(2));
                for (int dy = 0; dy < scale; dy++)
                    Array.Fill(canvas, color, (top + r * scale + dy) * canvasWidth + left + c * scale, scale);
            }
    }
}
