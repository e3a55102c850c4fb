r"""The rectified linear unit and its directional derivative.

:math:`\operatorname{relu}(a) = \max(a, 0)` elementwise. Its derivative is the
Heaviside step :math:`H(a)`; at the kink :math:`a = 0`, where no derivative
exists, every :math:`s \in [0, 1]` is a subgradient, and backproof uses
:math:`H(0) = 0` (as PyTorch and the course's ``relup`` do), here and in the training
kernel alike, so the directional derivative is

.. math:: \operatorname{relu}'(a)\,e = H(a) \odot e, \qquad H(a) = [a > 0].

Non-goals: leaky or parametric variants.
"""

from __future__ import annotations

import numpy as np

from ._checks import same_shape
from .errors import InputError

__all__ = ["relu", "relu_jvp"]


def relu(a: np.ndarray) -> np.ndarray:
    r"""Elementwise :math:`\max(a, 0)`.

    Parameters
    ----------
    a : numpy.ndarray
        Any shape, float.

    Returns
    -------
    numpy.ndarray
        Same shape and dtype.
    """
    a = np.asarray(a)
    return np.maximum(a, 0).astype(a.dtype if a.dtype.kind == "f" else np.float64, copy=False)


def relu_jvp(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    r"""Directional derivative of ReLU at ``a`` along ``e`` (course: ``relup``).

    The derivative is the Heaviside step :math:`H(a) = [a > 0]`, with :math:`H(0) = 0`.

    Proved by SymPy (:mod:`backproof.symbolic`; a test keeps these equal to the proved statements):

    :Identity: relu_derivative_is_heaviside_zero_at_kink

    .. math:: \frac{d}{d a} \operatorname{relu}\left(a\right) = H\left(a\right)

    .. math:: H\left(0\right) = 0

    :Identity: relu_subgradient_at_zero_is_any_s_in_0_1

    .. math:: t s \leq \operatorname{relu}\left(t\right)

    Parameters
    ----------
    a : numpy.ndarray
        Pre-activations, shape ``(n,)`` or ``(n, N)``.
    e : numpy.ndarray
        Directions, same shape.

    Returns
    -------
    numpy.ndarray
        Same shape as ``a``.
    """
    arr = np.asarray(a)
    dirs = np.asarray(e)
    same_shape("a", arr, "e", dirs)
    if np.isnan(arr).any():
        raise InputError("a contains NaN, where ReLU's derivative is undefined")
    return np.where(arr > 0, dirs, 0)
