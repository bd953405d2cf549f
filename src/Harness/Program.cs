using DefenseBench.Harness.Cli;

// Before any tensor: see OneDnnGuard (wrong convolution gradients from oneDNN's wide kernels on some CPUs).
DefenseBench.Core.Native.OneDnnGuard.Ensure();
return CommandLine.Invoke(args, Console.Out, Console.Error);
