r"""The shallow network 784 → Nh (ReLU) → 10 (softmax): parameters, forward pass, backprop.

With the course's column convention (``x`` is ``(Ni, N)``, one column per sample):

.. math::

   a_1 = W_1 x + b_1, \quad h = \operatorname{relu}(a_1), \quad
   a_2 = W_2 h + b_2, \quad y = g(a_2).

Backprop, for the loss :math:`\sum_n E_n` summed over the batch, goes backwards
from :math:`\delta_2 = \partial E / \partial a_2`:

.. math::

   \nabla_{W_2} = \delta_2 h^\top,\ \nabla_{b_2} = \delta_2 \mathbf{1},\quad
   \delta_1 = \operatorname{relu}'(a_1)\,(W_2^\top \delta_2),\quad
   \nabla_{W_1} = \delta_1 x^\top,\ \nabla_{b_1} = \delta_1 \mathbf{1}.

:math:`\delta_2` comes either by the textbook chain, :math:`e = -d/y` pushed
through :func:`~backproof.softmax.softmax_jvp`, or fused, :math:`\delta_2 = y - d`
(equal when each column of :math:`d` sums to 1; the fused form never divides by
:math:`y`). The gradients returned are summed over the batch, as the course's
``backprop_shallow``; the gradient of the *mean* loss is this divided by N, which
is why the update is :math:`W \leftarrow W - (\gamma / N) \nabla_W`.

This module is the readable reference. :mod:`backproof.training` runs the same
arithmetic with preallocated buffers and is tested against it.

Non-goals: deeper networks, other losses or activations, regularisation.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from ._checks import as_float_matrix, positive_int
from .errors import InputError
from .loss import cross_entropy_from_logits, cross_entropy_grad, misclassification, require_targets_sum_to_one
from .preprocess import one_hot
from .relu import relu, relu_jvp
from .softmax import softmax, softmax_jvp

__all__ = ["Forward", "Parameters", "backprop", "evaluate", "forward", "init_shallow", "predict"]


@dataclass
class Parameters:
    r"""The network's weights and biases; also used for their gradients.

    Attributes
    ----------
    W1 : numpy.ndarray
        ``(Nh, Ni)``.
    b1 : numpy.ndarray
        ``(Nh,)``.
    W2 : numpy.ndarray
        ``(No, Nh)``.
    b2 : numpy.ndarray
        ``(No,)``.
    """

    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray

    def __post_init__(self) -> None:
        Nh, Ni = np.shape(self.W1) if np.ndim(self.W1) == 2 else (None, None)
        No = np.shape(self.W2)[0] if np.ndim(self.W2) == 2 else None
        expected = {"W1": (Nh, Ni), "b1": (Nh,), "W2": (No, Nh), "b2": (No,)}
        if Nh is None or No is None or any(np.shape(getattr(self, k)) != v for k, v in expected.items()):
            got = {k: np.shape(getattr(self, k)) for k in expected}
            raise InputError(
                f"inconsistent parameter shapes: need W1 (Nh, Ni), b1 (Nh,), W2 (No, Nh), b2 (No,); got {got}"
            )

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(Ni, Nh, No)``: inputs, hidden units, outputs."""
        return self.W1.shape[1], self.W1.shape[0], self.W2.shape[0]

    def arrays(self) -> dict[str, np.ndarray]:
        """The four arrays by name, in the order W1, b1, W2, b2."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def copy(self) -> Parameters:
        return Parameters(**{k: v.copy() for k, v in self.arrays().items()})

    def astype(self, dtype) -> Parameters:
        return Parameters(**{k: np.asarray(v, dtype=dtype).copy() for k, v in self.arrays().items()})


def init_shallow(
    Ni: int = 784, Nh: int = 64, No: int = 10, seed: int | np.random.Generator = 0, dtype=np.float32
) -> Parameters:
    r"""Random parameters as in the course's ``init_shallow``.

    Layer 1 (``b1``, ``W1``) is drawn from :math:`\mathcal{N}(0, 1)` and scaled by
    :math:`1/\sqrt{(N_i + 1)/2}` (He's scaling for a ReLU layer, counting the bias
    as an input); layer 2 (``b2``, ``W2``) by :math:`1/\sqrt{N_h + 1}`. Drawn in
    float64 in the course's order b1, W1, b2, W2, then cast to ``dtype``.

    Parameters
    ----------
    Ni, Nh, No : int
        Inputs, hidden units, classes.
    seed : int or numpy.random.Generator
        The same seed gives the same parameters.
    dtype : numpy dtype
        ``float32`` (default, fast) or ``float64``.

    Returns
    -------
    Parameters
    """
    Ni, Nh, No = (positive_int(n, v) for n, v in (("Ni", Ni), ("Nh", Nh), ("No", No)))
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    s1 = 1.0 / np.sqrt((Ni + 1) / 2.0)
    s2 = 1.0 / np.sqrt(Nh + 1.0)
    b1 = rng.standard_normal(Nh) * s1
    W1 = rng.standard_normal((Nh, Ni)) * s1
    b2 = rng.standard_normal(No) * s2
    W2 = rng.standard_normal((No, Nh)) * s2
    return Parameters(W1, b1, W2, b2).astype(dtype)


@dataclass
class Forward:
    r"""Everything the forward pass computes (course: ``forwardprop_shallow``), shapes ``(·, N)``."""

    a1: np.ndarray
    h: np.ndarray
    a2: np.ndarray
    y: np.ndarray


def _check_x(params: Parameters, x) -> np.ndarray:
    x = as_float_matrix("x", x, rows=params.shape[0])
    return x.astype(params.W1.dtype, copy=False)


def forward(params: Parameters, x: np.ndarray) -> Forward:
    r"""Forward pass :math:`y = g(W_2\,\operatorname{relu}(W_1 x + b_1) + b_2)`.

    Parameters
    ----------
    params : Parameters
    x : numpy.ndarray
        ``(Ni, N)``, normalised images as columns.

    Returns
    -------
    Forward
        ``a1``, ``h`` of shape ``(Nh, N)``; ``a2``, ``y`` of shape ``(No, N)``.
    """
    x = _check_x(params, x)
    a1 = params.W1 @ x + params.b1[:, None]
    h = relu(a1)
    a2 = params.W2 @ h + params.b2[:, None]
    return Forward(a1, h, a2, softmax(a2))


def predict(params: Parameters, x: np.ndarray) -> np.ndarray:
    r"""The predicted class of each column of ``x``: :math:`\operatorname{argmax}_k y_k`."""
    return np.argmax(forward(params, x).a2, axis=0)


def backprop(params: Parameters, x: np.ndarray, d: np.ndarray, fused: bool = True) -> Parameters:
    r"""Gradients of the summed loss :math:`\sum_n E_n` (course: ``backprop_shallow``).

    :Identity: network_backprop_equals_sympy_gradient
    :Identity: fused_softmax_cross_entropy_gradient_is_y_minus_d

    Parameters
    ----------
    params : Parameters
    x : numpy.ndarray
        ``(Ni, N)``.
    d : numpy.ndarray
        One-hot targets ``(No, N)``.
    fused : bool
        ``True``: :math:`\delta_2 = y - d`. ``False``: the textbook chain
        :math:`\delta_2 = J^\top(-d/y)` through ``softmax_jvp`` (fails where
        :math:`y` underflows to 0).

    Returns
    -------
    Parameters
        ``nabla_W1, nabla_b1, nabla_W2, nabla_b2`` in the fields ``W1, b1, W2, b2``.
    """
    x = _check_x(params, x)
    d = as_float_matrix("d", d, rows=params.shape[2])
    if d.shape[1] != x.shape[1]:
        raise InputError(f"x has {x.shape[1]} samples but d has {d.shape[1]}")
    if fused:
        require_targets_sum_to_one(d)  # y - d is the gradient only then (identities 6 and 10)
    fw = forward(params, x)
    if fused:
        delta2 = fw.y - d
    else:
        e = cross_entropy_grad(fw.y, d)
        delta2 = softmax_jvp(fw.a2, e)
    nabla_W2 = delta2 @ fw.h.T
    nabla_b2 = delta2.sum(axis=1)
    delta1 = relu_jvp(fw.a1, params.W2.T @ delta2)
    nabla_W1 = delta1 @ x.T
    nabla_b1 = delta1.sum(axis=1)
    return Parameters(nabla_W1, nabla_b1, nabla_W2, nabla_b2)


def evaluate(params: Parameters, x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    r"""Mean cross-entropy and misclassification in percent (course: ``eval_loss``, ``eval_perfs``).

    The loss is computed from the logits, so it stays finite where :math:`y` underflows.

    Returns
    -------
    loss : float
        Mean over samples of :math:`-\sum_i d_i \log y_i` (the course's number × 10).
    error : float
        Misclassified samples in percent.
    """
    fw = forward(params, x)
    d = one_hot(labels, params.shape[2], dtype=fw.a2.dtype)
    if d.shape[1] != fw.a2.shape[1]:
        raise InputError(f"x has {fw.a2.shape[1]} samples but labels has {d.shape[1]}")
    return cross_entropy_from_logits(fw.a2, d), misclassification(fw.a2, labels)
