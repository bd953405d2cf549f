using System.Reflection;
using System.Reflection.Emit;
using TorchSharp;
using static TorchSharp.torch;

namespace DefenseBench.Harness.Tests.Architecture;

/// <summary>
/// No method of the project hands libtorch a Scalar made implicitly from a number or a bool (<c>t * 2.0</c>,
/// <c>t.clamp(0, 1)</c>, <c>t.add_(g, alpha: -lr)</c>, ...). Such a temporary owns a native handle and has a finalizer;
/// once TorchSharp has read its handle nothing references it, so a garbage collection during the native call may free
/// it while libtorch still reads it, and runs failed at random with "Unknown scalar type" or an internal assert in
/// c10/core/Scalar.h. TorchSharp members that make such a temporary inside themselves (<c>a + b</c> with its implicit
/// <c>alpha: 1</c>, <c>square()</c>, the operators taking a number) race the same way. Every Scalar is made explicitly
/// and kept alive for the call: <c>using var half = 0.5.ToScalar();</c> right before use, or a
/// <c>static readonly Scalar</c> field for a constant of a hot path.
/// </summary>
public sealed class ImplicitScalarTests
{
    private static readonly string[] ProjectAssemblies = ["DefenseBench.Core", "DefenseBench.Defenses", "DefenseBench.Attacks", "defensebench"];

    [Fact]
    public void No_assembly_of_the_project_converts_a_number_to_a_scalar_implicitly()
    {
        var offenders = ProjectAssemblies.Select(name => Assembly.Load(new AssemblyName(name)))
            .SelectMany(ImplicitScalarScan.Offenders)
            .Select(o => $"  {o.Method.DeclaringType?.FullName}.{o.Method.Name}: {string.Join("; ", o.Calls)}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.True(offenders.Count == 0,
            $"{offenders.Count} method(s) make an implicit TorchSharp Scalar; make each Scalar explicit and keep it alive for the "
            + "call (`using var s = v.ToScalar();`, or a static readonly field for a hot-path constant), and pass it to the "
            + $"overload that takes it (`a.add(b, one)` for `a + b`, `t.pow(two)` for `t.square()`):\n{string.Join('\n', offenders)}");
    }

    [Fact]
    public void The_scan_sees_implicit_scalars_and_passes_explicit_ones()
    {
        Assert.Equal(["Scalar.op_Implicit(Double)"], Scan(nameof(HalvedByAnImplicitScalar)));
        Assert.Equal(["Tensor.op_Multiply(Tensor, Double), which makes one inside TorchSharp"], Scan(nameof(DoubledByAnOperator)));
        Assert.Equal(["Tensor.op_Addition(Tensor, Tensor), which makes one inside TorchSharp"], Scan(nameof(SummedByAnOperator)));
        Assert.Empty(Scan(nameof(SummedAndScaledByExplicitScalars)));
        Assert.Equal(["nn.BatchNorm2d(Int64, Double, Double, Boolean, Boolean, Device, Nullable`1), a BatchNorm2d whose forward makes one inside TorchSharp"],
            Scan(nameof(NormalisedByTorchSharpsBatchNorm)));
        // Lambdas are compiled into methods of a nested type: the scan reads those too.
        Assert.Contains(ImplicitScalarScan.Offenders(typeof(ImplicitScalarTests).Assembly),
            o => o.Method.DeclaringType?.DeclaringType == typeof(ImplicitScalarTests));
    }

    private static IReadOnlyList<string> Scan(string helper) =>
        ImplicitScalarScan.ImplicitScalars(typeof(ImplicitScalarTests).GetMethod(helper, BindingFlags.NonPublic | BindingFlags.Static)!);

    // The helpers below exist for the scan to read; none is run.
    private static Tensor HalvedByAnImplicitScalar(Tensor t) => t.mul(0.5);

    private static Tensor DoubledByAnOperator(Tensor t) => t * 2.0;

    private static Tensor SummedByAnOperator(Tensor a, Tensor b) => a + b;

    private static Tensor SummedAndScaledByExplicitScalars(Tensor a, Tensor b)
    {
        using var one = 1.ToScalar();
        using var two = 2.0.ToScalar();
        return a.add(b, one).mul(two);
    }

    private static TorchSharp.Modules.BatchNorm2d NormalisedByTorchSharpsBatchNorm() => torch.nn.BatchNorm2d(4);

    private static readonly Func<Tensor, Tensor> SquaredInALambda = t => t.square();
}

/// <summary>
/// Finds implicit Scalars by decoding IL: calls to <c>TorchSharp.Scalar.op_Implicit</c> (any overload), and calls to
/// TorchSharp members that make one inside themselves, directly or through other TorchSharp members: the operators
/// taking a number (<c>t * 0.5</c>, <c>1 - t</c>), <c>a + b</c> and <c>add(b)</c> (an implicit <c>alpha: 1</c>),
/// <c>square()</c> (an implicit exponent 2), and so on. A TorchSharp member reached only by a virtual call (a module's
/// forward) is not followed.
/// </summary>
public static class ImplicitScalarScan
{
    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly OpCode[] OneByte = new OpCode[256], TwoByte = new OpCode[256];

    private static readonly Lazy<HashSet<int>> ConvertingInsideTorchSharp = new(FindConvertingInsideTorchSharp);

    static ImplicitScalarScan()
    {
        foreach (var field in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)field.GetValue(null)!;
            ushort value = unchecked((ushort)op.Value);
            if (op.Size == 1) OneByte[value] = op;
            else TwoByte[value & 0xff] = op;
        }
    }

    /// <summary>Every method and constructor of <paramref name="assembly"/> that makes an implicit Scalar, with the calls that do.</summary>
    public static IEnumerable<(MethodBase Method, IReadOnlyList<string> Calls)> Offenders(Assembly assembly) =>
        MethodsOf(assembly.GetTypes())
            .Select(m => (Method: m, Calls: ImplicitScalars(m)))
            .Where(m => m.Calls.Count > 0);

    /// <summary>The calls in the body of <paramref name="method"/> that make an implicit Scalar, each described.</summary>
    public static IReadOnlyList<string> ImplicitScalars(MethodBase method)
    {
        var found = new List<string>();
        foreach (var callee in Callees(method))
        {
            if (IsImplicitScalar(callee)) found.Add(Describe(callee));
            else if (callee.Module == typeof(Scalar).Module && ConvertingInsideTorchSharp.Value.Contains(callee.MetadataToken))
                found.Add($"{Describe(callee)}, which makes one inside TorchSharp");
            else if (callee.Module == typeof(Scalar).Module && MadeModule(callee) is { } module && ForwardConverts(module))
                found.Add($"{Describe(callee)}, a {module.Name} whose forward makes one inside TorchSharp");
        }
        return found;
    }

    /// <summary>
    /// The TorchSharp module a call makes: a factory's return type (nn.BatchNorm2d(...)) or the type a constructor
    /// builds (not an abstract base, whose constructor a subclass calls); null for anything else.
    /// </summary>
    private static Type? MadeModule(MethodBase callee)
    {
        var type = callee switch
        {
            MethodInfo m => m.ReturnType,
            ConstructorInfo { DeclaringType.IsAbstract: false } c => c.DeclaringType,
            _ => null,
        };
        return type != null && typeof(torch.nn.Module).IsAssignableFrom(type) ? type : null;
    }

    /// <summary>
    /// Whether the forward a module of this type runs (its most derived one, found through the type rather than a
    /// virtual call) makes an implicit Scalar inside TorchSharp, as BatchNorm's train-mode num_batches_tracked.add_(1).
    /// </summary>
    private static bool ForwardConverts(Type module) =>
        module.GetMethods(BindingFlags.Public | BindingFlags.Instance)
            .Any(m => m.Name == "forward" && m.Module == typeof(Scalar).Module && ConvertingInsideTorchSharp.Value.Contains(m.MetadataToken));

    private static bool IsImplicitScalar(MethodBase method) => method.Name == "op_Implicit" && method.DeclaringType == typeof(Scalar);

    private static string Describe(MethodBase method) =>
        $"{method.DeclaringType?.Name}.{method.Name}({string.Join(", ", method.GetParameters().Select(p => p.ParameterType.Name))})";

    private static IEnumerable<MethodBase> MethodsOf(IEnumerable<Type> types) =>
        types.SelectMany(t => t.GetMethods(Declared).Cast<MethodBase>().Concat(t.GetConstructors(Declared)));

    /// <summary>
    /// Metadata tokens of the TorchSharp members that call <c>Scalar.op_Implicit</c>, or call (non-virtually) one that
    /// does. Bodies that cannot be read because an optional dependency of TorchSharp is missing are skipped: they are
    /// file and image helpers, not tensor arithmetic.
    /// </summary>
    private static HashSet<int> FindConvertingInsideTorchSharp()
    {
        var assembly = typeof(Scalar).Assembly;
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = [.. e.Types.OfType<Type>()]; }

        var callers = new Dictionary<int, List<int>>();
        var pending = new Queue<int>();
        foreach (var method in MethodsOf(types))
        {
            List<MethodBase> callees;
            try { callees = [.. Callees(method)]; }
            catch (Exception e) when (e is FileNotFoundException or FileLoadException or TypeLoadException) { continue; }
            foreach (var callee in callees)
            {
                if (IsImplicitScalar(callee)) pending.Enqueue(method.MetadataToken);
                else if (callee.Module == method.Module)
                {
                    if (!callers.TryGetValue(callee.MetadataToken, out var list)) callers[callee.MetadataToken] = list = [];
                    list.Add(method.MetadataToken);
                }
            }
        }

        var converting = new HashSet<int>();
        while (pending.TryDequeue(out int token))
            if (converting.Add(token) && callers.TryGetValue(token, out var list))
                foreach (int caller in list) pending.Enqueue(caller);
        return converting;
    }

    /// <summary>The methods that <paramref name="method"/>'s IL calls, creates with, or takes the address of.</summary>
    private static IEnumerable<MethodBase> Callees(MethodBase method)
    {
        byte[]? il = method.GetMethodBody()?.GetILAsByteArray();
        if (il == null) yield break;
        var typeArguments = method.DeclaringType is { IsGenericType: true } type ? type.GetGenericArguments() : null;
        var methodArguments = method is MethodInfo { IsGenericMethod: true } ? method.GetGenericArguments() : null;
        for (int i = 0; i < il.Length;)
        {
            var op = il[i] == 0xFE ? TwoByte[il[i + 1]] : OneByte[il[i]];
            i += op.Size;
            if (op.OperandType == OperandType.InlineMethod)
                yield return method.Module.ResolveMethod(BitConverter.ToInt32(il, i), typeArguments, methodArguments)!;
            i += OperandSize(op, il, i);
        }
    }

    private static int OperandSize(OpCode op, byte[] il, int at) => op.OperandType switch
    {
        OperandType.InlineNone => 0,
        OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
        OperandType.InlineVar => 2,
        OperandType.InlineI8 or OperandType.InlineR => 8,
        OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, at),
        _ => 4,
    };
}
