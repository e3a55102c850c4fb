r"""Cross-entropy loss, its gradient, and the misclassification rate.

For one sample with one-hot target :math:`d` and prediction :math:`y = g(a)`,
:math:`E = -\sum_i d_i \log y_i` and :math:`\nabla_y E = -d / y`. The loss
reported over a batch is the mean of :math:`E` over samples.

The course's ``eval_loss`` divided by :math:`10 N` instead of :math:`N`, so its
numbers are ours divided by 10 (its initial "≈ 0.26" is our ≈ 2.6); wherever
backproof compares with the course it says so.

Targets need not be one-hot: for any targets the gradient through the softmax is
:math:`y \sum_j d_j - d`, which is the fused :math:`y - d` exactly when each column sums to
1, as one-hot and label-smoothed targets do (:func:`require_targets_sum_to_one`).

Non-goals: class weights; a helper that builds smoothed targets.
"""

from __future__ import annotations

import numpy as np

from ._checks import as_float_matrix, labels_array, same_shape
from .errors import InputError

__all__ = [
    "cross_entropy",
    "cross_entropy_from_logits",
    "cross_entropy_grad",
    "misclassification",
    "require_targets_sum_to_one",
]


def cross_entropy(y: np.ndarray, d: np.ndarray) -> float:
    r"""Mean over samples of :math:`E = -\sum_i d_i \log y_i` (columns are samples).

    Terms with :math:`d_i = 0` contribute 0 even where :math:`y_i = 0`.

    Parameters
    ----------
    y : numpy.ndarray
        Predicted probabilities, shape ``(n, N)``.
    d : numpy.ndarray
        Targets (one-hot columns), same shape.

    Returns
    -------
    float
    """
    y = as_float_matrix("y", y)
    d = as_float_matrix("d", d)
    same_shape("y", y, "d", d)
    logs = np.zeros(y.shape, dtype=np.float64)
    np.log(y, out=logs, where=d != 0)
    return float(-(d * logs).sum(dtype=np.float64) / y.shape[1])


def cross_entropy_grad(y: np.ndarray, d: np.ndarray) -> np.ndarray:
    r"""Gradient of each sample's loss with respect to its prediction (the course's starting point).

    Proved by SymPy (:mod:`backproof.symbolic`; a test keeps these equal to the proved statements):

    :Identity: cross_entropy_gradient_is_minus_d_over_y

    .. math:: \nabla_{y} E = - d / y

    This is the textbook start of backprop. It divides by :math:`y`, so where
    :math:`y` underflows to 0 it is infinite: the fused :math:`y - d` of
    :func:`backproof.backprop` avoids that.

    Parameters
    ----------
    y, d : numpy.ndarray
        Shape ``(n, N)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(n, N)``.
    """
    y = as_float_matrix("y", y)
    d = as_float_matrix("d", d)
    same_shape("y", y, "d", d)
    with np.errstate(divide="ignore", invalid="ignore"):
        return -d / y


def cross_entropy_from_logits(a: np.ndarray, d: np.ndarray) -> float:
    r"""The same mean cross-entropy computed from logits, :math:`E = \log\sum_j e^{a_j} - \sum_i d_i a_i`.

    Equal to ``cross_entropy(softmax(a), d)`` but exact where :math:`y` would
    underflow; this is what training reports.

    The log-sum-exp it evaluates (after subtracting the maximum) is bounded, proved by SymPy:

    :Identity: log_sum_exp_is_between_max_and_max_plus_log_n

    .. math:: {a}_{p} \leq \log{\left(\sum_{k=1}^{n} \exp\left({a}_{k}\right) \right)}

    .. math::

       \log{\left(\sum_{k=1}^{n} \exp\left({a}_{k}\right) \right)} \leq \max_{j} a_{j} + \log{\left(n \right)}

    """
    a = as_float_matrix("a", a)
    d = as_float_matrix("d", d)
    same_shape("a", a, "d", d)
    m = a.max(axis=0)
    lse = m + np.log(np.exp(a - m).sum(axis=0))
    return float(((d.sum(axis=0) * lse) - (d * a).sum(axis=0)).sum(dtype=np.float64) / a.shape[1])


def misclassification(y: np.ndarray, labels: np.ndarray) -> float:
    r"""Percentage of columns whose most probable class is not the label.

    Parameters
    ----------
    y : numpy.ndarray
        Probabilities or logits, shape ``(n, N)``.
    labels : numpy.ndarray
        Class indices, shape ``(N,)``.

    Returns
    -------
    float
        In percent, 0..100.
    """
    y = as_float_matrix("y", y)
    lbl = labels_array("labels", labels, y.shape[0])
    if lbl.shape[0] != y.shape[1]:
        raise InputError(f"{lbl.shape[0]} labels for {y.shape[1]} columns of y")
    return float(100.0 * np.mean(np.argmax(y, axis=0) != lbl))


#: How far from 1 a column sum of the targets may be for the fused gradient y - d
#: (2^-16, about 1.5e-5: well above float32 rounding of smoothed targets, and exactly representable).
TARGET_SUM_TOLERANCE = 2.0**-16


def require_targets_sum_to_one(d: np.ndarray) -> None:
    r"""Raise :class:`~backproof.errors.InputError` unless every column of ``d`` sums to 1.

    The fused gradient :math:`\delta_2 = y - d` equals :math:`J^\top(-d/y) = y\sum_j d_j - d`
    only when :math:`\sum_j d_j = 1` (identities 6 and 10): one-hot and label-smoothed targets
    qualify; other targets would give a silently wrong gradient. A sum off by at most
    :data:`TARGET_SUM_TOLERANCE` (float32 rounding of smoothed targets) moves the gradient
    by at most that much times :math:`y`, and is accepted.
    """
    d = np.asarray(d)
    if d.size == 0:
        return
    sums = d.sum(axis=0, dtype=np.float64)
    bad = np.flatnonzero(~(np.abs(sums - 1.0) <= TARGET_SUM_TOLERANCE))
    if bad.size:
        col = int(bad[0])
        raise InputError(
            f"the fused gradient y - d needs targets whose columns sum to 1, but column {col} of d sums to "
            f"{sums[col]:g} ({bad.size} such columns); normalise the targets, or pass fused=False for the "
            "general form y * sum(d) - d"
        )
