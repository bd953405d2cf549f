"""QSGD quantisation (Alistarh et al., NeurIPS 2017) of every tensor of the upload: each entry v_i becomes
||v|| * sign(v_i) * l_i / s, where l_i is |v_i| / ||v|| * s rounded down or up at random with the probability that makes
the result unbiased. Coarse levels destroy the fine structure that gradient-inversion attacks read; the randomness is
drawn from the seed the harness gives, so a cell's answer is the same every time it runs.

    params: levels   s, the number of quantisation levels above zero (an integer >= 1)
"""
import numpy as np

from exec_defense import serve


def quantize(tensors, params, upload):
    levels = int(params["levels"])
    if levels < 1:
        raise ValueError(f"levels {levels} is below 1")
    rng = np.random.default_rng(upload["seed"])
    quantized = {}
    for name, values in tensors.items():
        v = values.astype(np.float64)
        norm = np.linalg.norm(v)
        if norm == 0:
            quantized[name] = values
            continue
        scaled = np.abs(v) / norm * levels
        lower = np.floor(scaled)
        level = lower + (rng.random(v.shape) < scaled - lower)
        quantized[name] = (norm * np.sign(v) * level / levels).astype(np.float32)
    return quantized


if __name__ == "__main__":
    serve(quantize)
