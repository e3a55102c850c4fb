"""Test helpers importable by every test module (``from helpers import write_mnist``).

Kept apart from ``conftest.py`` (fixtures only), so that the tests run from an sdist too.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import struct
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"
#: The files backproof reads, by stem (one list, as in backproof.mnist.FILES).
STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def full_mnist_dir() -> Path | None:
    """The full MNIST set: $BACKPROOF_MNIST, else the shared folder beside the project."""
    env = os.environ.get("BACKPROOF_MNIST")
    for candidate in ([Path(env)] if env else []) + [SHARED_MNIST]:
        if (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    return None


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (the test suite's own writer)."""
    array = np.ascontiguousarray(array, dtype=np.uint8)
    head = struct.pack(">BBBB", 0, 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return head + array.tobytes()


def write_mnist(directory: Path, n_train=30, n_test=10, style="gz", seed=0) -> dict:
    """Write a tiny MNIST-shaped data set in one of the naming styles; return its arrays."""
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, n, prefix in (("train", n_train, "train"), ("test", n_test, "t10k")):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        arrays[split] = (images, labels)
        for kind, arr, dim in (("images", images, 3), ("labels", labels, 1)):
            stem = f"{prefix}-{kind}-idx{dim}-ubyte"
            if style == "dotted" or style == "dotted-gz":
                stem = f"{prefix}-{kind}.idx{dim}-ubyte"
            data = idx_bytes(arr)
            if style.endswith("gz"):
                (directory / f"{stem}.gz").write_bytes(gzip.compress(data))
            else:
                (directory / stem).write_bytes(data)
    return arrays


def content_sha256(directory: Path) -> dict[str, str]:
    """SHA-256 of the decompressed content of each file written by :func:`write_mnist` (gz style)."""
    return {
        stem: hashlib.sha256(gzip.decompress((directory / f"{stem}.gz").read_bytes())).hexdigest()
        for stem in STEMS
    }
