using DefenseBench.Core.Components;
using System.Globalization;

namespace DefenseBench.Core.Federation;

/// <summary>How a client turns its data into an upload.</summary>
public abstract record Protocol
{
    /// <summary>Local steps U: each step draws its own batch, so U·B labels are processed.</summary>
    public abstract int Steps { get; }

    /// <summary>Canonical text as in matrix files and the CSV: "fedsgd" or "fedavg(steps=10,lr=0.1)".</summary>
    public abstract string Canonical { get; }

    public override string ToString() => Canonical;
}

/// <summary>FedSGD: one gradient of the mean cross-entropy over one batch.</summary>
public sealed record FedSgd : Protocol
{
    public override int Steps => 1;
    public override string Canonical => "fedsgd";
}

/// <summary>
/// FedAvg: U local SGD steps with learning rate η; the upload is W_old − W_new. With <see cref="SameBatch"/> every
/// step reuses one batch (DLM's local-step study); otherwise each step draws a new batch (the LLG code's behaviour).
/// </summary>
public sealed record FedAvg(int LocalSteps, double LearningRate, bool SameBatch = false) : Protocol
{
    public override int Steps => LocalSteps;

    public override string Canonical =>
        string.Create(CultureInfo.InvariantCulture, $"fedavg(steps={LocalSteps},lr={ParameterSpec.FormatReal(LearningRate)}{(SameBatch ? ",same_batch=on" : "")})");
}
