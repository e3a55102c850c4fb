r"""The softmax :math:`g` and its directional derivative, column by column.

For logits :math:`a \in \mathbb{R}^n`, :math:`g(a)_i = e^{a_i} / \sum_j e^{a_j}`.
Its Jacobian :math:`J = \operatorname{diag}(g) - g g^\top` is symmetric, so the
vector-Jacobian product that backprop needs equals the Jacobian-vector product

.. math:: \delta = J^\top e = g \odot e - \langle g, e \rangle\, g,

which :func:`softmax_jvp` computes in :math:`O(n)` per column, never forming
:math:`J`. Both identities are proved by SymPy in :mod:`backproof.symbolic` and
checked against these functions by the test suite.

Non-goals: log-softmax as a public function, softmax along other axes.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_matrix, same_shape

__all__ = ["softmax", "softmax_jvp"]


def _columns(a) -> tuple[np.ndarray, bool]:
    arr = np.asarray(a)
    vector = arr.ndim == 1
    return as_float_matrix("a", arr), vector


def softmax(a: np.ndarray) -> np.ndarray:
    r"""Softmax of each column: :math:`g(a)_{in} = e^{a_{in}} / \sum_j e^{a_{jn}}`.

    Subtracting each column's maximum first leaves :math:`g` unchanged and keeps
    :math:`e^{a}` from overflowing, so logits of :math:`\pm 1000` are fine.

    Proved by SymPy (shift invariance, which licenses the subtraction):

    :Identity: softmax_is_shift_invariant

    .. math:: \frac{\exp\left(c + {a}_{i}\right)}{\sum_{k=1}^{n} \exp\left(c + {a}_{k}\right)} = {g}_{i}

    Parameters
    ----------
    a : numpy.ndarray
        Logits, shape ``(n,)`` or ``(n, N)`` (columns are samples), float or int.

    Returns
    -------
    numpy.ndarray
        Same shape; each column is positive (up to underflow) and sums to 1.
    """
    arr, vector = _columns(a)
    g = arr - arr.max(axis=0, keepdims=True)
    np.exp(g, out=g)
    g /= g.sum(axis=0, keepdims=True)
    return g[:, 0] if vector else g


def softmax_jvp(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    r"""Directional derivative of the softmax at ``a`` along ``e`` (course: ``softmaxp``).

    In plain text: ``J e = g * e - <g, e> g`` for each column, ``g = softmax(a)``.

    Proved by SymPy (:mod:`backproof.symbolic`; a test keeps these equal to the proved statements):

    :Identity: softmax_derivative_diagonal

    .. math:: \frac{\partial {g}_{i}}{\partial {a}_{i}} = \left(1 - {g}_{i}\right) {g}_{i}

    :Identity: softmax_derivative_off_diagonal

    .. math:: \frac{\partial {g}_{i}}{\partial {a}_{j}} = - {g}_{i} {g}_{j}

    :Identity: softmax_jacobian_is_symmetric

    .. math:: J = \operatorname{diag}\left(g\right) - g g^{\top}

    .. math:: J^{\top} = J

    .. math:: {J}_{i,j} = {J}_{j,i}

    :Identity: softmax_jvp_is_g_times_e_minus_inner_product

    .. math:: J^{\top} e = g \odot e - \left\langle g, e \right\rangle g

    .. math:: \sum_{j=1}^{n} {J}_{j,i} {e}_{j} = {e}_{i} {g}_{i} - {g}_{i} \sum_{j=1}^{n} {e}_{j} {g}_{j}

    This is :math:`J e` for the Jacobian :math:`J = \operatorname{diag}(g) - g g^\top`,
    and, :math:`J` being symmetric, also :math:`J^\top e`: the backward step of backprop.

    Parameters
    ----------
    a : numpy.ndarray
        Logits, shape ``(n,)`` or ``(n, N)``.
    e : numpy.ndarray
        Directions, same shape as ``a``.

    Returns
    -------
    numpy.ndarray
        :math:`\delta`, same shape as ``a``.
    """
    arr, vector = _columns(a)
    dirs = as_float_matrix("e", e, finite=False)  # -d/y can be infinite: the textbook chain's flaw
    same_shape("a", arr, "e", dirs)
    g = softmax(arr)
    ge = g * dirs
    delta = ge - ge.sum(axis=0, keepdims=True) * g
    return delta[:, 0] if vector else delta
