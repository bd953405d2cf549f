"""Test fixture: an external attack that answers as its first argument says, for the harness's hostile-output tests.

    attack_misbehave.py MODE VIEW OUT.json
    attack_misbehave.py log FILE VIEW OUT.json   answers one of each class and writes VIEW's metadata and tensor names to FILE
"""
import json
import sys

import numpy as np

import _examples  # noqa: F401  (puts examples/defenses on the path)
from exec_defense import read, write


def main():
    mode, *rest = sys.argv[1:]
    log = rest.pop(0) if mode == "log" else None
    view, out = rest
    tensors, metadata = read(view)
    if log:
        with open(log, "w") as f:
            json.dump({"metadata": metadata, "tensors": sorted(tensors)}, f)
    targets = json.loads(metadata["targets"])
    classes = int(metadata["num_classes"])
    c, h, w = json.loads(metadata["image_shape"])
    labels = [{"target": t, "counts": [1] * classes} for t in targets]
    answer = {"labels": labels}
    if mode == "garbage":
        with open(out, "w") as f:
            f.write("{not json")
        return
    if mode == "length":
        labels[0]["counts"] = [1] * (classes - 1)
    elif mode == "negative":
        labels[0]["counts"][2] = -1
    elif mode == "fraction":
        labels[0]["counts"][2] = 0.5
    elif mode == "target":
        labels[0]["target"] = 99
    elif mode == "huge":
        with open(out, "w") as f:
            f.write('{"labels": [' + " " * (4 << 20) + "]}")
        return
    elif mode == "shape":
        write(out[:-len(".json")] + ".safetensors", {f"images.{targets[0]}": np.zeros((1, c, h + 1, w), dtype=np.float32)})
    elif mode == "nan":
        images = np.zeros((1, c, h, w), dtype=np.float32)
        images[0, 0, 0, 0] = np.nan
        write(out[:-len(".json")] + ".safetensors", {f"images.{targets[0]}": images})
    elif mode == "images":
        # Only images, one per client: scored by PSNR without any label.
        answer = {}
        write(out[:-len(".json")] + ".safetensors", {f"images.{t}": np.full((1, c, h, w), 0.5, dtype=np.float32) for t in targets})
    elif mode == "exit":
        print("attack_misbehave: giving up on purpose", file=sys.stderr, flush=True)
        sys.exit(4)
    with open(out, "w") as f:
        json.dump(answer, f)


if __name__ == "__main__":
    main()
