r"""Networks of any depth: parameters, initialisation, forward pass, backprop by the recursion.

A network is a list of layer sizes :math:`(n_0, n_1, \dots, n_L)`, one hidden
activation :math:`\sigma` (a name from :data:`backproof.activations.ACTIVATIONS`)
and a softmax output :math:`g` trained with cross-entropy. With the course's column
convention (``x`` is ``(n_0, N)``, one column per sample) and :math:`h_0 = x`:

.. math::

   a_l = W_l h_{l-1} + b_l, \quad h_l = \sigma(a_l) \quad (l = 1, \dots, L - 1),
   \qquad a_L = W_L h_{L-1} + b_L, \quad y = g(a_L).

Backprop, for the loss :math:`\sum_n E_n` summed over the batch, is the recursion
from the output layer down:

.. math::

   \delta_L = y - d, \qquad
   \nabla_{W_l} = \delta_l h_{l-1}^\top, \quad \nabla_{b_l} = \delta_l \mathbf{1}, \qquad
   \delta_{l-1} = \sigma'(a_{l-1}) \odot W_l^\top \delta_l.

:math:`\delta_L` comes either fused, :math:`y - d`, or by the textbook chain,
:math:`e = -d/y` pushed through :func:`~backproof.softmax.softmax_jvp` (equal when
each column of :math:`d` sums to 1; the fused form never divides by :math:`y`). The
gradients are summed over the batch, as the course's ``backprop_shallow``; the
gradient of the *mean* loss is this divided by N, hence the update
:math:`W \leftarrow W - (\gamma / N) \nabla_W`.

The course's network is the case ``[784, 64, 10]`` with ReLU and the course's
initialisation (:func:`init_shallow`); its names keep working: ``params.W1``,
``params.b2``, ``forward(...).a1``, ``.a2``, ``.y``.

This module is the readable reference. :mod:`backproof.training` runs the same
arithmetic with preallocated buffers and is tested against it for several depths.

Non-goals: other losses or output layers, a different activation per layer,
regularisation, convolutions.
"""

from __future__ import annotations

import re

import numpy as np

from ._checks import as_float_matrix, positive_int
from .activations import LEAKY_RELU_ALPHA, activation
from .errors import InputError
from .loss import cross_entropy_from_logits, cross_entropy_grad, misclassification, require_targets_sum_to_one
from .preprocess import one_hot
from .softmax import softmax, softmax_jvp

__all__ = [
    "INITS",
    "Forward",
    "Parameters",
    "backprop",
    "evaluate",
    "forward",
    "init_network",
    "init_shallow",
    "predict",
]

_LAYER_NAME = re.compile(r"^([Wb])([1-9][0-9]*)$")


class Parameters:
    r"""A network's weights, biases and hidden activation; also used for their gradients.

    Layer :math:`l = 1, \dots, L` has ``W[l - 1]``, shape ``(n_l, n_{l-1})``, and
    ``b[l - 1]``, shape ``(n_l,)``. The course's names are attributes too:
    ``params.W1`` is ``params.W[0]``, ``params.b2`` is ``params.b[1]``, and so on.

    Construct with lists, ``Parameters(W=[W1, W2, W3], b=[b1, b2, b3], activation="tanh")``,
    or as the course does, ``Parameters(W1, b1, W2, b2)`` (positional pairs, any number)
    or ``Parameters(W1=..., b1=..., W2=..., b2=...)``.

    Attributes
    ----------
    W : list of numpy.ndarray
        :math:`W_1, \dots, W_L`.
    b : list of numpy.ndarray
        :math:`b_1, \dots, b_L`.
    activation : str
        The hidden activation's name, a key of :data:`~backproof.activations.ACTIVATIONS`.
    """

    __slots__ = ("W", "activation", "b")

    def __init__(self, *arrays, W=None, b=None, activation: str = "relu", **named) -> None:
        if sum(x is not None and x != [] for x in (arrays or None, W, named or None)) > 1:
            raise InputError(
                "give the parameters one way: positional W1, b1, W2, b2, ..., or W=, b=, or W1=, ..."
            )
        if arrays:
            if len(arrays) % 2:
                raise InputError(
                    f"positional parameters come in pairs W1, b1, W2, b2, ...; got {len(arrays)}"
                )
            W, b = list(arrays[0::2]), list(arrays[1::2])
        elif named:
            W, b = _from_names(named)
        elif W is None or b is None:
            raise InputError("Parameters needs W=[W1, ..., WL] and b=[b1, ..., bL]")
        object.__setattr__(self, "W", [np.asarray(w) for w in W])
        object.__setattr__(self, "b", [np.asarray(v) for v in b])
        object.__setattr__(self, "activation", _activation_name(activation))
        _check_shapes(self.W, self.b)

    # the course's names W1, b1, W2, ...
    def __getattr__(self, name: str):
        m = _LAYER_NAME.match(name)
        if m is not None:
            layers = object.__getattribute__(self, m.group(1))
            if int(m.group(2)) <= len(layers):
                return layers[int(m.group(2)) - 1]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")

    def __setattr__(self, name: str, value) -> None:
        m = _LAYER_NAME.match(name)
        if m is None or int(m.group(2)) > len(self.W):
            raise AttributeError(f"cannot set {name!r} on Parameters (layers are W1..W{len(self.W)})")
        layers = getattr(self, m.group(1))
        value = np.asarray(value)
        old = layers[int(m.group(2)) - 1]
        if value.shape != old.shape:
            raise InputError(f"{name} must have shape {old.shape}, got {value.shape}")
        layers[int(m.group(2)) - 1] = value

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.sizes))
        return f"Parameters(sizes={sizes}, activation={self.activation!r}, dtype={self.dtype})"

    @property
    def sizes(self) -> tuple[int, ...]:
        r""":math:`(n_0, n_1, \dots, n_L)`: inputs, each hidden layer's units, outputs."""
        return (int(self.W[0].shape[1]), *(int(w.shape[0]) for w in self.W))

    @property
    def shape(self) -> tuple[int, ...]:
        """The same tuple as :attr:`sizes` (the course's ``(Ni, Nh, No)`` for the shallow net)."""
        return self.sizes

    @property
    def L(self) -> int:
        r""":math:`L`, the number of layers with weights (2 for the shallow network)."""
        return len(self.W)

    @property
    def dtype(self) -> np.dtype:
        return self.W[0].dtype

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name, in the order W1, b1, W2, b2, ..., WL, bL (the same objects, not copies)."""
        out = {}
        for l, (w, v) in enumerate(zip(self.W, self.b, strict=True), start=1):
            out[f"W{l}"], out[f"b{l}"] = w, v
        return out

    def copy(self) -> Parameters:
        return self.astype(self.dtype)

    def astype(self, dtype) -> Parameters:
        """A copy with every array in ``dtype``."""
        return Parameters(
            W=[np.array(w, dtype=dtype) for w in self.W],
            b=[np.array(v, dtype=dtype) for v in self.b],
            activation=self.activation,
        )


def _activation_name(name) -> str:
    activation(name)  # raises InputError listing the names
    return name


def _from_names(named: dict) -> tuple[list, list]:
    L = len(named) // 2
    want = [f"{k}{l}" for l in range(1, L + 1) for k in "Wb"]
    if len(named) % 2 or sorted(named) != sorted(want):
        raise InputError(f"parameters must be named W1, b1, ..., WL, bL; got {', '.join(sorted(named))}")
    return [named[f"W{l}"] for l in range(1, L + 1)], [named[f"b{l}"] for l in range(1, L + 1)]


def _check_shapes(W: list, b: list) -> None:
    ok = len(W) == len(b) and len(W) >= 1 and all(np.ndim(w) == 2 for w in W)
    if ok:
        for l in range(len(W)):
            n_prev = W[l - 1].shape[0] if l else W[0].shape[1]
            ok = ok and W[l].shape[1] == n_prev and np.shape(b[l]) == (W[l].shape[0],)
    if not ok:
        got = ", ".join(
            f"W{l + 1} {np.shape(w)}, b{l + 1} {np.shape(v)}" for l, (w, v) in enumerate(zip(W, b))
        )
        raise InputError(
            f"inconsistent parameter shapes: need W_l (n_l, n_(l-1)) and b_l (n_l,) for l = 1..L; got {got}"
        )
    for w, v in zip(W, b):
        if w.dtype.kind != "f" or v.dtype.kind != "f":
            raise InputError(f"parameters must be floating point, got {w.dtype} and {v.dtype}")


# ------------------------------------------------------------------------------------------------ init

INITS = ("course", "he", "glorot")
r"""The initialisation schemes of :func:`init_network`."""


def _sizes(sizes) -> tuple[int, ...]:
    try:
        out = tuple(sizes)
    except TypeError:
        raise InputError(
            f"sizes must be a list of layer sizes such as [784, 256, 128, 10], got {sizes!r}"
        ) from None
    if len(out) < 3:
        raise InputError(
            f"a network needs at least one hidden layer: sizes like [784, 64, 10], got {list(out)}"
        )
    return tuple(positive_int(f"sizes[{i}]", n) for i, n in enumerate(out))


def default_init(sizes, activation_name: str) -> str:
    r"""The scheme :func:`init_network` uses by default.

    ``"course"`` for the course's network (one hidden ReLU layer); otherwise ``"he"``
    for ReLU and leaky ReLU, ``"glorot"`` for sigmoid and tanh.
    """
    if activation_name == "relu" and len(tuple(sizes)) == 3:
        return "course"
    return "he" if activation_name in ("relu", "leaky_relu") else "glorot"


def init_network(
    sizes,
    activation: str = "relu",
    seed: int | np.random.Generator = 0,
    dtype=np.float32,
    init: str | None = None,
) -> Parameters:
    r"""Random parameters for a network of layer sizes ``sizes`` (any depth).

    Three schemes, each drawing in float64 from a standard normal and scaling:

    * ``"course"`` (the course's ``init_shallow``, extended layer by layer): for each
      layer in turn, ``b_l`` then ``W_l`` are drawn and scaled by
      :math:`1/\sqrt{(n_{l-1} + 1)/2}` for a hidden layer and :math:`1/\sqrt{n_{l-1} + 1}`
      for the output layer (He's scaling, then LeCun's, counting the bias as an input).
    * ``"he"`` (He et al. 2015, for ReLU-family activations): :math:`b_l = 0` and
      :math:`W_l \sim \mathcal{N}(0, 2 / ((1 + \alpha^2) n_{l-1}))` for every layer
      (:math:`\alpha = 0` for ReLU, :data:`~backproof.activations.LEAKY_RELU_ALPHA` for leaky ReLU).
    * ``"glorot"`` (Glorot and Bengio 2010, for sigmoid and tanh): :math:`b_l = 0` and
      :math:`W_l \sim \mathcal{N}(0, 2 / (n_{l-1} + n_l))`.

    By default (``init=None``) the course's scheme for one hidden ReLU layer, else He
    for ReLU and leaky ReLU, Glorot for sigmoid and tanh (:func:`default_init`).

    Parameters
    ----------
    sizes : sequence of int
        :math:`(n_0, \dots, n_L)`, at least one hidden layer, e.g. ``[784, 256, 128, 10]``.
    activation : str
        The hidden activation's name (``relu``, ``leaky_relu``, ``sigmoid``, ``tanh``).
    seed : int or numpy.random.Generator
        The same seed gives the same parameters.
    dtype : numpy dtype
        ``float32`` (default, fast) or ``float64``.
    init : str, optional
        ``"course"``, ``"he"`` or ``"glorot"``.

    Returns
    -------
    Parameters
    """
    sizes = _sizes(sizes)
    activation_fn = _activation_name(activation)
    scheme = default_init(sizes, activation_fn) if init is None else init
    if scheme not in INITS:
        raise InputError(f"unknown init {init!r}; choose one of {', '.join(INITS)}")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    L = len(sizes) - 1
    W, b = [], []
    for l in range(1, L + 1):
        n_in, n_out = sizes[l - 1], sizes[l]
        if scheme == "course":
            s = 1.0 / np.sqrt((n_in + 1) / 2.0) if l < L else 1.0 / np.sqrt(n_in + 1.0)
            b.append(rng.standard_normal(n_out) * s)
            W.append(rng.standard_normal((n_out, n_in)) * s)
            continue
        if scheme == "he":
            alpha = LEAKY_RELU_ALPHA if activation_fn == "leaky_relu" else 0.0
            s = np.sqrt(2.0 / ((1 + alpha**2) * n_in))
        else:
            s = np.sqrt(2.0 / (n_in + n_out))
        W.append(rng.standard_normal((n_out, n_in)) * s)
        b.append(np.zeros(n_out))
    return Parameters(W=W, b=b, activation=activation_fn).astype(dtype)


def init_shallow(
    Ni: int = 784, Nh: int = 64, No: int = 10, seed: int | np.random.Generator = 0, dtype=np.float32
) -> Parameters:
    r"""Random parameters as in the course's ``init_shallow``: :func:`init_network` of ``[Ni, Nh, No]``.

    Layer 1 (``b1``, ``W1``) is drawn from :math:`\mathcal{N}(0, 1)` and scaled by
    :math:`1/\sqrt{(N_i + 1)/2}` (He's scaling for a ReLU layer, counting the bias
    as an input); layer 2 (``b2``, ``W2``) by :math:`1/\sqrt{N_h + 1}`. Drawn in
    float64 in the course's order b1, W1, b2, W2, then cast to ``dtype``. The
    activation is ReLU.

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
    return init_network([Ni, Nh, No], "relu", seed, dtype, init="course")


# ------------------------------------------------------------------------------------------------ forward


class Forward:
    r"""Everything the forward pass computes, shapes ``(·, N)``.

    Attributes
    ----------
    a : list of numpy.ndarray
        Pre-activations :math:`a_1, \dots, a_L`: ``a[l - 1]`` is :math:`a_l`.
    h : list of numpy.ndarray
        Activations :math:`h_0 = x, h_1, \dots, h_{L-1}`: ``h[l]`` is :math:`h_l`.
    y : numpy.ndarray
        :math:`g(a_L)`, the softmax of the logits.

    The course's names are attributes too: ``a1``, ``a2``, ... and ``h1``, ``h2``, ...
    """

    __slots__ = ("a", "h", "y")

    def __init__(self, a: list, h: list, y: np.ndarray) -> None:
        self.a, self.h, self.y = a, h, y

    def __getattr__(self, name: str):
        m = re.match(r"^([ah])([0-9]+)$", name)
        if m is not None:
            l = int(m.group(2))
            if m.group(1) == "a" and 1 <= l <= len(self.a):
                return self.a[l - 1]
            if m.group(1) == "h" and 1 <= l < len(self.h):
                return self.h[l]
        raise AttributeError(f"Forward has no attribute {name!r}")


def _check_x(params: Parameters, x) -> np.ndarray:
    x = as_float_matrix("x", x, rows=params.sizes[0])
    return x.astype(params.dtype, copy=False)


def forward(params: Parameters, x: np.ndarray) -> Forward:
    r"""Forward pass: :math:`a_l = W_l h_{l-1} + b_l`, :math:`h_l = \sigma(a_l)`, :math:`y = g(a_L)`.

    Parameters
    ----------
    params : Parameters
    x : numpy.ndarray
        ``(n_0, N)``, normalised images as columns.

    Returns
    -------
    Forward
        ``a`` (:math:`a_1, \dots, a_L`), ``h`` (:math:`h_0 = x, \dots, h_{L-1}`) and ``y``.
    """
    sigma = activation(params.activation).f
    h = [_check_x(params, x)]
    a = []
    for l in range(1, params.L + 1):
        a.append(params.W[l - 1] @ h[l - 1] + params.b[l - 1][:, None])
        if l < params.L:
            h.append(sigma(a[-1]))
    return Forward(a, h, softmax(a[-1]))


def predict(params: Parameters, x: np.ndarray) -> np.ndarray:
    r"""The predicted class of each column of ``x``: :math:`\operatorname{argmax}_k y_k`."""
    return np.argmax(forward(params, x).a[-1], axis=0)


def backprop(params: Parameters, x: np.ndarray, d: np.ndarray, fused: bool = True) -> Parameters:
    r"""Gradients of the summed loss :math:`\sum_n E_n` by the recursion (course: ``backprop_shallow``).

    :Identity: network_backprop_equals_sympy_gradient
    :Identity: fused_softmax_cross_entropy_gradient_is_y_minus_d

    Parameters
    ----------
    params : Parameters
    x : numpy.ndarray
        ``(n_0, N)``.
    d : numpy.ndarray
        One-hot targets ``(n_L, N)``.
    fused : bool
        ``True``: :math:`\delta_L = y - d`. ``False``: the textbook chain
        :math:`\delta_L = J^\top(-d/y)` through ``softmax_jvp`` (fails where
        :math:`y` underflows to 0).

    Returns
    -------
    Parameters
        :math:`\nabla_{W_l}` in ``W[l - 1]`` (``W1``, ...) and :math:`\nabla_{b_l}` in
        ``b[l - 1]`` (``b1``, ...), same shapes as ``params``.
    """
    x = _check_x(params, x)
    d = as_float_matrix("d", d, rows=params.sizes[-1])
    if d.shape[1] != x.shape[1]:
        raise InputError(f"x has {x.shape[1]} samples but d has {d.shape[1]}")
    sigma_jvp = activation(params.activation).jvp
    if fused:
        require_targets_sum_to_one(d)  # y - d is the gradient only then (identities 6 and 10)
    fw = forward(params, x)
    L = params.L
    if fused:
        delta = fw.y - d  # delta_L
    else:
        delta = softmax_jvp(fw.a[L - 1], cross_entropy_grad(fw.y, d))
    nabla_W: list = [None] * L
    nabla_b: list = [None] * L
    for l in range(L, 0, -1):
        nabla_W[l - 1] = delta @ fw.h[l - 1].T  # delta_l h_(l-1)^T
        nabla_b[l - 1] = delta.sum(axis=1)  # delta_l 1
        if l > 1:
            delta = sigma_jvp(fw.a[l - 2], params.W[l - 1].T @ delta)  # delta_(l-1)
    return Parameters(W=nabla_W, b=nabla_b, activation=params.activation)


def evaluate(params: Parameters, x: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    r"""Mean cross-entropy and misclassification in percent (course: ``eval_loss``, ``eval_perfs``).

    The loss is computed from the logits, so it stays finite where :math:`y` underflows.

    Returns
    -------
    loss : float
        Mean over samples of :math:`-\sum_i d_i \log y_i` (the course's number × 10).
    error : float
        Misclassified samples in percent.

    Raises
    ------
    InputError
        ``x`` has no samples (a mean over none is undefined), or shapes disagree.
    """
    x = _check_x(params, x)
    N = x.shape[1]
    if N == 0:
        raise InputError("cannot evaluate on 0 samples: x has no columns; pass a non-empty set")
    d = one_hot(labels, params.sizes[-1], dtype=np.result_type(x.dtype, params.W[0].dtype))
    if d.shape[1] != N:
        raise InputError(f"x has {N} samples but labels has {d.shape[1]}")
    lbl = np.asarray(labels)
    # in chunks of samples, so that a wide network's activations stay within _EVAL_BYTES
    chunk = max(1, min(N, _EVAL_BYTES // (3 * sum(params.sizes[1:]) * d.dtype.itemsize)))
    loss_sum, wrong = 0.0, 0.0
    for k in range(0, N, chunk):
        a_L = forward(params, x[:, k : k + chunk]).a[-1]
        n = a_L.shape[1]
        loss_sum += cross_entropy_from_logits(a_L, d[:, k : k + chunk]) * n
        wrong += misclassification(a_L, lbl[k : k + chunk]) * n
    return loss_sum / N, wrong / N


#: Bytes of activations :func:`evaluate` holds at once (it works through the samples in chunks).
_EVAL_BYTES = 256 * 2**20
