namespace DefenseBench.Defenses.SecureAggregation;

/// <summary>The round aborts: too few participants are left to finish it (fewer than the threshold t). The server learns nothing.</summary>
public sealed class SecAggAbortedException(string message) : Exception(message);

/// <summary>A client refuses a request that would break the protocol's guarantees (e.g. both secrets of one client).</summary>
public sealed class SecAggRefusedException(string message) : Exception(message);
