"""Gradient pruning as GradAttack's GradPrune defence: in every tensor of the upload, the entries whose magnitude is
below the p-th percentile of that tensor's magnitudes are set to zero, with p = 1 - keep (GradAttack's prune_ratio).
Entries tied at the threshold are kept, as the percentile rule does, so slightly more than keep may survive.

    params: keep   fraction of each tensor's entries kept, in (0, 1]
"""
import numpy as np

from exec_defense import serve


def prune(tensors, params, upload):
    keep = float(params["keep"])
    if not 0 < keep <= 1:
        raise ValueError(f"keep {keep} is not in (0, 1]")
    pruned = {}
    for name, values in tensors.items():
        magnitude = np.abs(values)
        threshold = np.percentile(magnitude, (1 - keep) * 100)
        pruned[name] = np.where(magnitude < threshold, np.float32(0), values)
    return pruned


if __name__ == "__main__":
    serve(prune)
