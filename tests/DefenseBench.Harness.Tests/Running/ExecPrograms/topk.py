"""Test fixture: top-k of each tensor by |value| (the built-in topk's layer scope): the ceil(keep * n) entries of largest
magnitude are kept, at least one, ties going to the lower index; the rest become zero."""
import math

import numpy as np

import _examples  # noqa: F401  (puts examples/defenses on the path)
from exec_defense import serve


def topk(tensors, params, upload):
    keep = float(params["keep"])
    result = {}
    for name, values in tensors.items():
        flat = values.reshape(-1)
        k = max(1, math.ceil(keep * flat.size - 1e-9))
        order = np.argsort(-np.abs(flat), kind="stable")  # a stable sort keeps tied entries in index order
        mask = np.zeros(flat.size, dtype=bool)
        mask[order[:k]] = True
        result[name] = np.where(mask, flat, np.float32(0)).reshape(values.shape)
    return result


if __name__ == "__main__":
    serve(topk)
