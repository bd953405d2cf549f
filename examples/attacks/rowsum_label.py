"""Row-sum label attack (iDLG extended to batches), in NumPy: class c was in a target's batch iff the row sum of its
last-layer weight gradient is negative. With non-negative embeddings (ReLU) an absent class's row only ever gains
positive mass, a present one's loses; it recovers which classes are present, not how often (existence only).
The harness's built-in `idlg-label` is the same rule; the two score alike.

    python3 rowsum_label.py VIEW OUT.json

VIEW and OUT.json are described in examples/attacks/README.md. It reads the safetensors file with the reader of
examples/defenses/exec_defense.py.
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "defenses"))
from exec_defense import read  # noqa: E402  (the shared NumPy safetensors reader)


def main():
    if len(sys.argv) != 3:
        sys.exit(f"usage: {sys.argv[0]} VIEW OUT.json")
    tensors, metadata = read(sys.argv[1])
    fc_weight = metadata["fc_weight"]
    labels = []
    for target in json.loads(metadata["targets"]):
        prefix = "aggregate." if target == "aggregate" else f"upload.{target}."
        # A FedAvg weight delta is the gradient scaled by the learning rate (> 0): the signs are the gradient's.
        row_sums = tensors[prefix + fc_weight].astype(np.float64).sum(axis=1)
        labels.append({"target": target, "counts": [int(s < 0) for s in row_sums]})
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        json.dump({"labels": labels, "existence_only": True}, f)


if __name__ == "__main__":
    main()
