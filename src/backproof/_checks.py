r"""Argument checks shared by the public functions.

Each check raises :class:`~backproof.errors.InputError` with a message that says
what was expected, what was given, and (where there is one) the likely fix. They
run once per public call, never inside a training step.
"""

from __future__ import annotations

import numbers

import numpy as np

from .errors import InputError


def as_float_matrix(name: str, value, rows: int | None = None, *, finite: bool = True) -> np.ndarray:
    """``value`` as a 2-D floating array (columns are samples), optionally with ``rows`` rows."""
    arr = np.asarray(value)
    if arr.dtype == object or not (
        np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)
    ):
        raise InputError(f"{name} must be a numeric array, got dtype {arr.dtype}")
    if not np.issubdtype(arr.dtype, np.floating):
        arr = arr.astype(np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise InputError(f"{name} must be 2-D (features, samples), got shape {arr.shape}")
    if rows is not None and arr.shape[0] != rows:
        hint = ""
        if arr.shape[1] == rows:
            hint = f"; it looks transposed: pass {name}.T (columns are samples)"
        raise InputError(f"{name} must have {rows} rows (one column per sample), got shape {arr.shape}{hint}")
    if finite and not np.all(np.isfinite(arr)):
        raise InputError(f"{name} contains NaN or infinite values")
    return arr


def same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise InputError(f"{name_a} and {name_b} must have the same shape, got {a.shape} and {b.shape}")


def labels_array(name: str, value, n_classes: int = 10) -> np.ndarray:
    """``value`` as a 1-D integer array of class indices in ``0..n_classes-1``."""
    arr = np.asarray(value)
    if arr.ndim != 1:
        raise InputError(f"{name} must be 1-D (one class index per sample), got shape {arr.shape}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or np.any(arr != np.round(arr)):
            raise InputError(f"{name} must hold whole class indices 0..{n_classes - 1}")
        arr = arr.astype(np.int64)
    elif arr.dtype.kind not in "iu":
        raise InputError(f"{name} must be integer class indices, got dtype {arr.dtype}")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        raise InputError(f"{name} must lie in 0..{n_classes - 1}, got values from {arr.min()} to {arr.max()}")
    return arr


def positive_int(name: str, value, *, allow_zero: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InputError(f"{name} must be a whole number, got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        bound = "at least 0" if allow_zero else "at least 1"
        raise InputError(f"{name} must be {bound}, got {value}")
    return int(value)


def positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InputError(f"{name} must be a number, got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InputError(f"{name} must be a positive finite number, got {value}")
    return value
