"""Test fixture: a defence that fails as its first argument says, for the harness's hostile-output tests.

    misbehave.py MODE IN OUT    one upload
    misbehave.py MODE           persistent
    misbehave.py log FILE ...   answers the upload unchanged and appends what it was told, as a JSON line, to FILE
"""
import json
import os
import struct
import sys
import time

import numpy as np

import _examples  # noqa: F401  (puts examples/defenses on the path)
from exec_defense import read, serve, write


def misbehave(mode, tensors):
    first = next(iter(tensors))
    if mode == "exit":
        print("misbehave: giving up on purpose", file=sys.stderr, flush=True)
        sys.exit(3)
    if mode == "sleep":
        time.sleep(600)
    if mode == "shape":
        tensors[first] = tensors[first].reshape(-1)[:-1]
    elif mode == "missing":
        del tensors[first]
    elif mode == "extra":
        tensors["not.a.parameter"] = np.zeros(3, dtype=np.float32)
    elif mode == "nan":
        tensors[first].reshape(-1)[0] = np.nan
    elif mode == "raise":
        raise RuntimeError("misbehave raised on purpose")
    return tensors


def write_f64(path, tensors):
    """A well-formed file whose tensors are float64: only the dtype is wrong."""
    header = {}
    blobs = []
    offset = 0
    for name, array in tensors.items():
        blob = np.ascontiguousarray(array, dtype="<f8").tobytes()
        header[name] = {"dtype": "F64", "shape": list(array.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def main():
    mode = sys.argv.pop(1)
    if mode == "garbage":
        with open(sys.argv[2], "wb") as f:
            f.write(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json at all")
    elif mode == "link":
        os.symlink("/dev/zero", sys.argv[2])
    elif mode == "fifo":
        os.mkfifo(sys.argv[2])
    elif mode == "silent":
        pass  # exits 0 without writing OUT
    elif mode in ("truncated", "huge"):
        tensors, _ = read(sys.argv[1])
        write(sys.argv[2], tensors)
        with open(sys.argv[2], "r+b") as f:
            if mode == "truncated":
                f.truncate(f.seek(0, 2) // 2)
            else:
                f.seek(0, 2)
                f.write(b"\0" * (2 << 20))
    elif mode == "f64":
        write_f64(sys.argv[2], read(sys.argv[1])[0])
    elif mode == "log":
        log = sys.argv.pop(1)

        def record(tensors, params, upload):
            with open(log, "a") as f:
                print(json.dumps({"pid": os.getpid(), "cwd": os.getcwd(), "argv": sys.argv[1:], **upload}), file=f)
            return tensors

        serve(record)
    elif mode == "chatty":
        for _ in sys.stdin:
            print("hello from a program that prints its news to stdout", flush=True)
    else:
        serve(lambda tensors, params, upload: misbehave(mode, tensors))


if __name__ == "__main__":
    main()
