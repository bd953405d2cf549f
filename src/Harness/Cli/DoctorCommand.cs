using System.CommandLine;
using System.Globalization;
using DefenseBench.Harness.Diagnostics;

namespace DefenseBench.Harness.Cli;

internal static class DoctorCommand
{
    public static Command Create(TextWriter output, TextWriter error)
    {
        var device = new Option<string>("--device") { Description = "the device that must work: auto | cpu | cuda | cuda:N", DefaultValueFactory = _ => "auto" };
        var command = new Command("doctor",
            "Check the installation: backend, where libtorch was loaded from, versions, CUDA, and a forward/backward pass and a double backward " +
            "on each device. Exit 0 when the --device asked for works, 1 otherwise with the reason.")
        {
            device,
        };
        command.SetAction(parse =>
        {
            var report = Doctor.Examine(parse.GetValue(device)!);
            Write(report, output);
            if (report.Works)
            {
                output.WriteLine($"device {report.Requested}: works ({report.RequestedId})");
                return 0;
            }
            error.WriteLine($"device {report.Requested}: does not work: {report.Problem}");
            return 1;
        });
        return command;
    }

    private static void Write(DoctorReport report, TextWriter output)
    {
        int width = report.Facts.Max(f => f.Key.Length) + 2;
        foreach (var (key, value) in report.Facts) output.WriteLine(key.PadRight(width) + value);
        if (report.Devices.Count == 0) return;
        output.WriteLine("devices:");
        foreach (var d in report.Devices)
        {
            output.WriteLine($"  {d.Id,-8} {d.Description}");
            if (d.Times is { } t)
                output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"           forward+backward {t.ForwardBackward.MedianMs:F2} ms (fastest {t.ForwardBackward.MinimumMs:F2}), " +
                    $"double backward {t.DoubleBackward.MedianMs:F2} ms (fastest {t.DoubleBackward.MinimumMs:F2}); {DeviceProbe.Model}, B = {DeviceProbe.BatchSize}, median of {DeviceProbe.Runs}"));
            if (d.Gradients is { } g) output.WriteLine($"           {g}");
            if (d.Problem is { } p) output.WriteLine($"           PROBLEM: {p}");
        }
    }
}
