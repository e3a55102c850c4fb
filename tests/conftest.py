"""Shared fixtures: isolation from the user's cache, mirrors and network; real and tiny MNIST data.

Helpers that tests import live in ``helpers.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import hypothesis
import pytest

import backproof._download
import backproof.mnist
from helpers import full_mnist_dir, idx_bytes, write_mnist  # noqa: F401  (re-exported for older tests)


@pytest.fixture(autouse=True)
def _isolated(monkeypatch, tmp_path_factory):
    """No test reads the user's cache or reaches the internet: mirrors point at a closed port."""
    monkeypatch.setenv("BACKPROOF_CACHE", str(tmp_path_factory.mktemp("cache")))
    monkeypatch.delenv("BACKPROOF_MNIST_MIRRORS", raising=False)
    monkeypatch.setattr(backproof._download, "MIRRORS", ("http://127.0.0.1:9/",))


@pytest.fixture(params=[True, False], ids=["one_call", "numpy"])
def one_call(request, monkeypatch) -> bool:
    """Run a test on both BLAS paths: NumPy's bundled OpenBLAS in one call, and NumPy alone."""
    if not request.param:  # as on a NumPy without the bundled OpenBLAS
        import backproof._blas

        monkeypatch.setattr(backproof._blas, "_GEMM", None)
    return request.param


@pytest.fixture(params=["split", "one_call", "numpy"])
def blas_path(request, monkeypatch) -> str:
    """Run a test on the three BLAS paths: large products cut into one block per thread in one
    ``gemm_batch`` call (two threads assumed, whatever the machine has), every product in one
    ``gemm`` call (as with an OpenBLAS older than 0.3.28), and NumPy alone."""
    import backproof._blas

    if request.param == "split":
        if backproof._blas._BATCH is None:  # OpenBLAS before 0.3.28: the path is not taken there
            pytest.skip("NumPy's bundled OpenBLAS has no gemm_batch (added in OpenBLAS 0.3.28)")
        monkeypatch.setattr(backproof._blas, "split_blocks", lambda: 2)
    elif request.param == "one_call":
        monkeypatch.setattr(backproof._blas, "_BATCH", None)
    else:
        monkeypatch.setattr(backproof._blas, "_GEMM", None)
    return request.param


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    """The full MNIST directory. CI sets BACKPROOF_REQUIRE_FULL_DATA=1, so there it must exist."""
    found = full_mnist_dir()
    if found is None:
        if os.environ.get("BACKPROOF_REQUIRE_FULL_DATA"):
            pytest.fail("BACKPROOF_REQUIRE_FULL_DATA is set but the full MNIST set is not found")
        pytest.skip("the full MNIST set is not on this machine (set BACKPROOF_MNIST)")
    return found


def pytest_collection_modifyitems(items):
    """Tests on the offline sample answer to ``-k offline_sample`` (``tox -e mutation`` leaves
    them out: seconds per mutant, where synthetic runs of the loops stand in for them)."""
    for item in items:
        if "sample" in getattr(item, "fixturenames", ()):
            item.extra_keyword_matches.add("offline_sample")


@pytest.fixture(scope="session")
def sample():
    """Real digits that are always there: the offline sample (4,000 train, 1,000 test)."""
    x, lbl = backproof.mnist.load_sample("train")
    xt, lblt = backproof.mnist.load_sample("test")
    return x, lbl, xt, lblt


# CI runs derandomised, so a red build can be reproduced exactly; elsewhere examples vary.
hypothesis.settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis.settings.load_profile("ci")
