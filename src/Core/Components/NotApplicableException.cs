namespace DefenseBench.Core.Components;

/// <summary>
/// Thrown when a cell's scenario or view does not give a component what it needs (an attack without the bias it
/// reads, secure aggregation with one client, DP-SGD on a model it cannot clip per example); the cell is recorded
/// not-applicable with the reason. Attacks and defences both throw it.
/// </summary>
public sealed class NotApplicableException(string reason) : Exception(reason);
