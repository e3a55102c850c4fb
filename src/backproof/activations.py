r"""The hidden activations, each beside its directional derivative, and the table of them.

Every activation :math:`\sigma` acts elementwise, and backprop needs only its
directional derivative :math:`\sigma'(a) \odot e`, computed by ``<name>_jvp(a, e)``
without forming a Jacobian (it is diagonal). The four activations:

========================  ===========================================  ==============================
name                      :math:`\sigma(a)`                            :math:`\sigma'(a)`
========================  ===========================================  ==============================
``relu``                  :math:`\max(a, 0)`                           :math:`[a > 0]`
``leaky_relu``            :math:`a` if :math:`a > 0`, else             :math:`1` if :math:`a > 0`,
                          :math:`\alpha a`                             else :math:`\alpha`
``sigmoid``               :math:`1 / (1 + e^{-a})`                     :math:`\sigma(a)(1 - \sigma(a))`
``tanh``                  :math:`\tanh a`                              :math:`1 - \tanh^2 a`
========================  ===========================================  ==============================

Conventions at kinks: ReLU and leaky ReLU have no derivative at :math:`a = 0`;
backproof takes the left one there (:math:`0` for ReLU, :math:`\alpha` for leaky
ReLU), as PyTorch does. Sigmoid and tanh are smooth: no kink, no convention.

All four are computed without overflow for any finite input (``±1000`` gives no
warning and no NaN): the sigmoid is evaluated as :math:`1/(1 + e^{-a})` for
:math:`a \ge 0` and :math:`e^{a}/(1 + e^{a})` for :math:`a < 0`, so the
exponential's argument is never positive.

:data:`ACTIVATIONS` maps each name to its pair ``(f, jvp)``, the one table the
network, the training kernel, the CLI and the proofs look names up in.

Non-goals: parametric or learned activations, softmax as a hidden activation
(it lives in :mod:`backproof.softmax`, as the output).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ._checks import same_shape
from .errors import InputError
from .relu import relu, relu_jvp

__all__ = [
    "ACTIVATIONS",
    "LEAKY_RELU_ALPHA",
    "Activation",
    "activation",
    "leaky_relu",
    "leaky_relu_jvp",
    "relu",
    "relu_jvp",
    "sigmoid",
    "sigmoid_jvp",
    "tanh",
    "tanh_jvp",
]

LEAKY_RELU_ALPHA = 0.01
r"""The default slope :math:`\alpha` of leaky ReLU for :math:`a \le 0` (PyTorch's default)."""


def _float(a) -> np.ndarray:
    arr = np.asarray(a)
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _pair(a, e) -> tuple[np.ndarray, np.ndarray]:
    arr, dirs = _float(a), np.asarray(e)
    same_shape("a", arr, "e", dirs)
    if np.isnan(arr).any():
        raise InputError("a contains NaN, where the activation's derivative is undefined")
    return arr, dirs


def leaky_relu(a: np.ndarray, alpha: float = LEAKY_RELU_ALPHA) -> np.ndarray:
    r"""Elementwise :math:`a` for :math:`a > 0` and :math:`\alpha a` otherwise.

    Parameters
    ----------
    a : numpy.ndarray
        Any shape.
    alpha : float
        The slope for :math:`a \le 0`, :math:`0 \le \alpha < 1`.

    Returns
    -------
    numpy.ndarray
        Same shape; float dtype of ``a`` (float64 for integer input).
    """
    arr = _float(a)
    return np.where(arr > 0, arr, arr.dtype.type(alpha) * arr)


def leaky_relu_jvp(a: np.ndarray, e: np.ndarray, alpha: float = LEAKY_RELU_ALPHA) -> np.ndarray:
    r"""Directional derivative of leaky ReLU: :math:`([a > 0] + \alpha [a \le 0]) \odot e`.

    At the kink :math:`a = 0` the derivative is taken as :math:`\alpha` (the left one).
    """
    arr, dirs = _pair(a, e)
    return np.where(arr > 0, dirs, arr.dtype.type(alpha) * dirs)


def sigmoid(a: np.ndarray) -> np.ndarray:
    r"""Elementwise logistic function :math:`\sigma(a) = 1 / (1 + e^{-a})`.

    Computed as :math:`e^{-|a|}`-based fractions on each side of 0, so no
    exponential overflows: :math:`\sigma(\pm 1000)` is exactly 1 and 0.
    """
    arr = _float(a)
    z = np.exp(-np.abs(arr))  # in (0, 1]: never overflows
    return np.where(arr >= 0, 1 / (1 + z), z / (1 + z))


def sigmoid_jvp(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    r"""Directional derivative of the sigmoid: :math:`\sigma(a)(1 - \sigma(a)) \odot e` (smooth, no kink).

    The code evaluates the equal form :math:`\sigma(a)\,\sigma(-a)`, which has no
    cancellation: :math:`1 - \sigma(a)` loses every digit in float32 once
    :math:`\sigma(a)` rounds to nearly 1 (:math:`a \gtrsim 10`), :math:`\sigma(-a)` does not.
    """
    arr, dirs = _pair(a, e)
    return sigmoid(arr) * sigmoid(-arr) * dirs


def tanh(a: np.ndarray) -> np.ndarray:
    r"""Elementwise hyperbolic tangent :math:`\tanh a = (e^{a} - e^{-a}) / (e^{a} + e^{-a})`.

    NumPy's, which saturates to exactly :math:`\pm 1` without overflow.
    """
    return np.tanh(_float(a))


def tanh_jvp(a: np.ndarray, e: np.ndarray) -> np.ndarray:
    r"""Directional derivative of tanh: :math:`(1 - \tanh^2 a) \odot e` (smooth, no kink).

    The code evaluates the equal form :math:`\operatorname{sech}^2 a = 4z/(1 + z)^2` with
    :math:`z = e^{-2|a|} \in (0, 1]`, which neither overflows nor cancels (``1 - t*t`` loses
    the digits of a small derivative once :math:`|\tanh a|` rounds to nearly 1).
    """
    arr, dirs = _pair(a, e)
    z = np.exp(-2 * np.abs(arr))
    return 4 * z / ((1 + z) * (1 + z)) * dirs


class Activation(NamedTuple):
    r"""An activation as the table stores it: the function and its directional derivative."""

    f: Callable[[np.ndarray], np.ndarray]
    jvp: Callable[[np.ndarray, np.ndarray], np.ndarray]


ACTIVATIONS: dict[str, Activation] = {
    "relu": Activation(relu, relu_jvp),
    "leaky_relu": Activation(leaky_relu, leaky_relu_jvp),
    "sigmoid": Activation(sigmoid, sigmoid_jvp),
    "tanh": Activation(tanh, tanh_jvp),
}
r"""Name → ``(f, jvp)`` for every hidden activation; leaky ReLU with :data:`LEAKY_RELU_ALPHA`."""


def activation(name: str) -> Activation:
    r"""The table entry for ``name``, or an :class:`~backproof.errors.InputError` listing the names."""
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}") from None
