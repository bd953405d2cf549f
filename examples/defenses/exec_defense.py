"""The DefenseBench side of an external defence, in NumPy only: reading the upload's safetensors file, writing the
answer, and the loop that serves both ways of running (examples/defenses/README.md).

A defence is one function, defend(tensors, params, upload) -> tensors, where tensors maps each parameter's name to a
float32 array, params is the matrix's params map and upload the file's other metadata (seed, client, round,
batch_size, protocol, kind). serve(defend) then runs it either way:

    program IN OUT      one upload: read IN, write OUT, exit 0
    program             persistent: read "IN OUT" lines on stdin, answer "ok" or "error MESSAGE" on stdout per line
"""
import json
import struct
import sys

import numpy as np

_DTYPES = {"F32": np.dtype("<f4"), "F64": np.dtype("<f8")}


def read(path):
    """The tensors of a safetensors file (name -> array, in file order) and its metadata (strings)."""
    with open(path, "rb") as f:
        data = f.read()
    (length,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + length])
    metadata = header.pop("__metadata__", {})
    body = memoryview(data)[8 + length:]
    tensors = {}
    for name, info in sorted(header.items(), key=lambda item: item[1]["data_offsets"][0]):
        begin, end = info["data_offsets"]
        array = np.frombuffer(body[begin:end], dtype=_DTYPES[info["dtype"]])
        tensors[name] = array.reshape(info["shape"]).copy()
    return tensors, metadata


def write(path, tensors, metadata=None):
    """Writes each array as float32 (the harness takes nothing else), the header padded to 8 bytes."""
    header = {"__metadata__": metadata} if metadata else {}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(np.shape(array)), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


def upload_info(metadata):
    """The upload's metadata with numbers as numbers; params parsed from its JSON text."""
    info = dict(metadata)
    for key in ("seed", "client", "round", "batch_size"):
        if key in info:
            info[key] = int(info[key])
    info["params"] = json.loads(info.get("params", "{}"))
    return info


def exchange(defend, in_path, out_path):
    tensors, metadata = read(in_path)
    info = upload_info(metadata)
    write(out_path, defend(tensors, info["params"], info))


def serve(defend):
    """Runs defend on one upload (two arguments) or on every line of stdin (none), as the harness asks."""
    if len(sys.argv) == 3:
        exchange(defend, sys.argv[1], sys.argv[2])
        return
    if len(sys.argv) != 1:
        sys.exit(f"usage: {sys.argv[0]} IN OUT (one upload), or no arguments to read 'IN OUT' lines on stdin")
    for line in sys.stdin:
        try:
            in_path, out_path = line.rstrip("\n").split(" ")
            exchange(defend, in_path, out_path)
            answer = "ok"
        except Exception as error:  # the harness fails this upload's cell with the message; the next line still comes
            answer = "error " + " ".join(f"{type(error).__name__}: {error}".split())
        print(answer, flush=True)
