r"""How far a computed array is from its reference: the relative errors every check uses.

Against SymPy the error is normwise per column (:func:`col_rel_error`); against finite
differences elementwise, as in CS231n (:func:`rel_error`); the softmax JVP and a difference
:math:`u - v` are measured against the size of the terms they subtract
(:func:`jvp_error_matrix`, :func:`difference_rel_error`). A NaN or an infinity on either side
gives NaN: a comparison never hides one. :mod:`backproof.verify` re-exports these.

Non-goals: tolerances (they belong to :mod:`backproof.verify`); statistical testing.
"""

from __future__ import annotations

import numpy as np

__all__ = ["col_rel_error", "difference_rel_error", "jvp_error_matrix", "jvp_rel_error", "rel_error"]


def _finite(*arrays) -> bool:
    return all(bool(np.all(np.isfinite(np.asarray(x, dtype=np.float64)))) for x in arrays)


def rel_error(a, n) -> float:
    r"""CS231n's relative error, the largest over entries: :math:`|a - n| / \max(|a| + |n|, 10^{-8})`.

    NaN if either side holds a NaN or an infinity: a comparison never hides one.
    """
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if not _finite(a, n):
        return float("nan")
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)))


def col_rel_error(a, n) -> float:
    r"""Normwise relative error of each column (a vector: one column), the largest over columns.

    NaN if either side holds a NaN or an infinity.
    """
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if not _finite(a, n):
        return float("nan")
    if a.ndim < 2:
        a, n = a.reshape(-1, 1), n.reshape(-1, 1)
    num = np.max(np.abs(a - n), axis=0)
    den = np.maximum(np.max(np.abs(a), axis=0) + np.max(np.abs(n), axis=0), 1e-8)
    return float(np.max(num / den))


def jvp_error_matrix(a, e, got, ref) -> np.ndarray:
    r"""Entrywise error of a softmax JVP relative to the size of the two terms it subtracts.

    :math:`\delta = g \odot e - \langle g, e\rangle g` cancels when :math:`g` is nearly
    one-hot, so even exact rounding of the inputs moves the result by about the machine
    epsilon times :math:`\max_i(|g_i e_i| + |\langle g, e\rangle| g_i)`, the largest term of
    the column; each column's errors are divided by that scale (at least 1e-8, the floor of
    the other relative errors, below which float32 underflows).
    """
    a, e = np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64)
    g = np.exp(a - a.max(axis=0))
    g /= g.sum(axis=0)
    terms = np.abs(g * e) + np.abs((g * e).sum(axis=0)) * g
    diff = np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64))
    if not _finite(got, ref):
        return np.full(diff.shape, np.nan)
    return diff / np.maximum(terms.max(axis=0), 1e-8)  # the same floor as everywhere else


def difference_rel_error(got, ref, u, v) -> float:
    r"""Error of a computed difference :math:`u - v`, per column relative to :math:`\max_i(|u_i| + |v_i|)`.

    For :math:`y - d` with :math:`y_i \approx 1 = d_i` the result cancels; its rounding is
    that of the terms, which is the scale used (at least 1e-8).
    """
    u, v = np.abs(np.asarray(u, np.float64)), np.abs(np.asarray(v, np.float64))
    diff = np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64))
    if not _finite(got, ref):
        return float("nan")
    return float(np.max(diff.max(axis=0) / np.maximum((u + v).max(axis=0), 1e-8)))


def jvp_rel_error(a, e, got, ref) -> float:
    r"""The largest entry of :func:`jvp_error_matrix`."""
    return float(np.max(jvp_error_matrix(a, e, got, ref)))
