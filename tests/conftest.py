"""Shared fixtures: isolation from the user's cache and network, real and tiny MNIST data."""

from __future__ import annotations

import gzip
import os
import struct
from pathlib import Path

import hypothesis
import numpy as np
import pytest

import backproof.mnist

ROOT = Path(__file__).resolve().parent.parent
SHARED_MNIST = ROOT.parent / "shared" / "data" / "mnist"


def full_mnist_dir() -> Path | None:
    """The full MNIST set: $BACKPROOF_MNIST, else the shared folder beside the project."""
    env = os.environ.get("BACKPROOF_MNIST")
    for candidate in ([Path(env)] if env else []) + [SHARED_MNIST]:
        if (candidate / "train-images-idx3-ubyte.gz").is_file():
            return candidate
    return None


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path_factory):
    """No test reads the user's cache or reaches the internet: mirrors point at a closed port."""
    monkeypatch.setenv("BACKPROOF_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.setattr(backproof.mnist, "MIRRORS", ("http://127.0.0.1:9/",))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The full MNIST directory. CI sets BACKPROOF_REQUIRE_FULL_DATA=1, so there it must exist."""
    found = full_mnist_dir()
    if found is None:
        if os.environ.get("BACKPROOF_REQUIRE_FULL_DATA"):
            pytest.fail("BACKPROOF_REQUIRE_FULL_DATA is set but the full MNIST set is not found")
        pytest.skip("the full MNIST set is not on this machine (set BACKPROOF_MNIST)")
    return found


@pytest.fixture(scope="session")
def sample():
    """Real digits that are always there: the offline sample (4,000 train, 1,000 test)."""
    x, lbl = backproof.mnist.load_sample("train")
    xt, lblt = backproof.mnist.load_sample("test")
    return x, lbl, xt, lblt


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


# CI runs derandomised, so a red build can be reproduced exactly; elsewhere examples vary.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")
