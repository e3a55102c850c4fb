r"""The numeric side of the layer proofs: each identity of :mod:`.layer_identities` against NumPy.

For every layer identity this module compares backproof's NumPy code with a reference
that SymPy computes from the definitions, evaluated with mpmath at 50 digits, in
float64 and float32, and the NumPy code with centred finite differences in float64,
with the tolerances and error measures of :mod:`backproof.verify`:

* the activation derivatives and the activation lemma: each ``<name>_jvp(a, e)`` of
  :mod:`backproof.activations` against SymPy's :math:`\mathrm{d}\sigma/\mathrm{d}a \cdot e`
  from the definition (leaky ReLU with its :math:`\alpha`), at logit scales 1, 10 and
  1000 (including the kink :math:`a = 0` for leaky ReLU, where the convention applies);
* the recursion theorem also against the training kernel: one step of
  :func:`backproof.train_minibatch` (one batch) moves the parameters by :math:`-(\gamma/B)`
  times SymPy's gradient, in float64 and float32, for each activation;
* the linear layer lemma and the recursion theorem: :func:`backproof.network.backprop`
  on explicit 3-layer networks (:data:`CROSS_SIZES`, 3 → 2 → 2 → 3, batch 2, two hidden
  layers) for each of the four activations, against SymPy's derivatives of the summed
  loss of the same network written out (:func:`explicit_network`). For the linear
  lemma's :math:`\partial E/\partial x = W^\top\delta` the network is run one sample
  at a time, where :math:`\delta_1 = \nabla_{b_1}`, and :math:`W_1^\top \nabla_{b_1}` is
  compared with SymPy's :math:`\partial E/\partial x`.

The sigmoid is :math:`1/(1 + e^{-t})` and tanh :math:`1 - 2/(e^{2t} + 1)` (its definition
with numerator and denominator multiplied by :math:`e^t`; one exponential keeps SymPy's
derivatives of the network small).
ReLU and leaky ReLU are written, as in identity 8, on the linear region of the point
(:math:`\sigma(a) = (M + \alpha(1 - M)) \odot a` with the mask :math:`M = [a > 0]` held
fixed), and the points stay at least 0.01 away from the kinks.

The same 3-layer network is also checked symbolically, for an undefined activation
(so for every activation at once) and one sample: identity
``three_layer_backprop_equals_sympy_gradient`` of :mod:`.layer_identities`.

Against finite differences the networks' error is normwise per column
(:func:`~backproof.verify.col_rel_error`): an entry of a 3-layer gradient far smaller
than its column carries the loss's rounding divided by the step :math:`h`, about
:math:`10^{-16}/h` (``FD_STEP`` :math:`= 10^{-5}`), which an elementwise measure would blame on
the code. The activations' finite differences are elementwise (CS231n), at :math:`|a| \lesssim 3`.

Non-goals: statistical testing; training.
"""

from __future__ import annotations

import functools

import mpmath
import numpy as np
import sympy as sp

from ..activations import ACTIVATIONS, LEAKY_RELU_ALPHA
from ..loss import cross_entropy
from ..network import Parameters, backprop, forward
from ..preprocess import one_hot
from ._accuracy import col_rel_error, rel_error
from ._numeric import worst
from .symbols import SIGMOID_DEF, _a

__all__ = [
    "CROSS_SIZES",
    "explicit_network",
    "fd_check",
    "network_cross_check",
    "network_gradients",
    "numeric_check",
    "prebuild",
    "run_check",
]

CROSS_SIZES = (3, 2, 2, 3)  # n_0 .. n_L of the explicit networks: two hidden layers, 3 classes
CROSS_BATCH = 2
CROSS_LABELS = (0, 2)
SCALES = (1.0, 10.0, 1000.0)
FD_STEP = 1e-5  # for the networks: rounding of the loss / step ~ 1e-11, truncation ~ step^2 ~ 1e-10
_DPS = 50

# --------------------------------------------------------------------------- SymPy references

_t = sp.Symbol("t", real=True)


def activation_definition(name: str, mask=None):
    r"""The activation as a SymPy expression in :math:`t` (ReLU-family: on the region of ``mask``)."""
    alpha = sp.Rational(LEAKY_RELU_ALPHA).limit_denominator(10**6)
    if name == "sigmoid":
        return SIGMOID_DEF.xreplace({_a: _t})
    if name == "tanh":  # the definition with numerator and denominator multiplied by e^t: one exponential
        return 1 - 2 / (sp.exp(2 * _t) + 1)
    if name == "relu":
        return mask * _t
    if name == "leaky_relu":
        return (mask + alpha * (1 - mask)) * _t
    raise KeyError(name)


@functools.cache
def _derivative_reference(name: str):
    """mpmath function (a, e, mask) -> d sigma / da * e, SymPy's derivative of the definition."""
    mask = sp.Symbol("M")
    deriv = sp.diff(activation_definition(name, mask), _t)
    return sp.lambdify([_t, sp.Symbol("e"), mask], deriv * sp.Symbol("e"), "mpmath")


def _mask(name: str, a):
    """For leaky ReLU, [a > 0]: at a = 0 it is 0, which is backproof's convention (slope alpha)."""
    return 1 if a > 0 else 0


def _jvp_reference(name: str, a: np.ndarray, e: np.ndarray) -> np.ndarray:
    f = _derivative_reference(name)
    with mpmath.workdps(_DPS):
        out = [
            float(f(mpmath.mpf(float(x)), mpmath.mpf(float(v)), _mask(name, float(x))))
            for x, v in zip(a.ravel(), e.ravel())
        ]
    return np.array(out).reshape(a.shape)


def network_gradients(name: str) -> dict:
    r"""SymPy's explicit 3-layer network of :data:`CROSS_SIZES` with activation ``name``, and its gradients.

    Returns the parameter symbols by name (``W1, b1, ..., W3, b3``), the inputs ``x``, the
    masks (ReLU family), the labels' one-hot ``d``, the summed loss ``E`` and ``grads``:
    SymPy's :math:`\partial E/\partial \theta` for every parameter and for ``x``. Only SymPy
    objects: the result can be made in another process and sent back (:func:`prebuild`).
    """
    sizes, N = CROSS_SIZES, CROSS_BATCH
    L = len(sizes) - 1
    W = [
        sp.Matrix(sizes[l + 1], sizes[l], lambda i, j, l=l: sp.Symbol(f"w{l + 1}_{i}{j}", real=True))
        for l in range(L)
    ]
    b = [
        sp.Matrix(sizes[l + 1], 1, lambda i, j, l=l: sp.Symbol(f"b{l + 1}_{i}", real=True)) for l in range(L)
    ]
    x = sp.Matrix(sizes[0], N, lambda i, j: sp.Symbol(f"x_{i}{j}", real=True))
    masks = [
        sp.Matrix(sizes[l + 1], N, lambda i, j, l=l: sp.Symbol(f"m{l + 1}_{i}{j}")) for l in range(L - 1)
    ]
    d = sp.Matrix(sizes[-1], N, lambda r, c: 1 if CROSS_LABELS[c] == r else 0)
    h = x
    for l in range(L):
        a = W[l] * h + b[l] * sp.ones(1, N)
        if l < L - 1:
            h = sp.Matrix(
                a.shape[0],
                N,
                lambda i, j, a=a, l=l: activation_definition(name, masks[l][i, j]).xreplace({_t: a[i, j]}),
            )
    E = 0
    for c in range(N):
        lse = sp.log(sum(sp.exp(a[r, c]) for r in range(sizes[-1])))
        E += -sum(d[r, c] * (a[r, c] - lse) for r in range(sizes[-1]))
    params = {}
    for l in range(L):
        params[f"W{l + 1}"], params[f"b{l + 1}"] = W[l], b[l]
    grads = {k: P.applyfunc(lambda v: sp.diff(E, v)) for k, P in {**params, "x": x}.items()}
    return dict(params=params, x=x, masks=masks, E=E, grads=grads, d=d)


_BUILT: dict = {}  # activation name -> explicit_network(name), made once per process
_PREBUILT: dict = {}  # activation name -> a future of network_gradients(name), see prebuild


def prebuild(names, submit) -> None:
    r"""Start making :func:`network_gradients` for each of ``names`` not made yet with
    ``submit`` (a process pool's), so that :func:`explicit_network` finds them made: SymPy's
    derivatives, the slow part, then run beside the other work. The result is the same."""
    for name in names:
        if name not in _BUILT and name not in _PREBUILT:
            _PREBUILT[name] = submit(network_gradients, name)


def explicit_network(name: str) -> dict:
    r""":func:`network_gradients` and ``fn``: all the gradients in one function lambdified for
    mpmath, which returns them in the order of ``grads``. Made once per process."""
    net = _BUILT.get(name)
    if net is not None:
        return net
    pending = _PREBUILT.pop(name, None)
    try:
        net = pending.result() if pending is not None else network_gradients(name)
    except Exception:  # the pool is gone or was shut down (cancelled): make them here instead
        net = network_gradients(name)
    params, x, masks = net["params"], net["x"], net["masks"]
    inputs = [*(v for P in params.values() for v in P), *x, *(v for M in masks for v in M)]
    # one function for all the gradients: one common-subexpression pass shares their chain factors
    net["fn"] = sp.lambdify([inputs], list(net["grads"].values()), "mpmath", cse=True)
    _BUILT[name] = net
    return net


def _network_point(rng: np.random.Generator, name: str, dtype):
    sizes, N = CROSS_SIZES, CROSS_BATCH
    while True:
        W = [rng.standard_normal((sizes[l + 1], sizes[l])) for l in range(len(sizes) - 1)]
        b = [rng.standard_normal(sizes[l + 1]) for l in range(len(sizes) - 1)]
        p = Parameters(W=W, b=b, activation=name).astype(dtype)
        x = rng.standard_normal((sizes[0], N)).astype(dtype)
        fw = forward(p, x)
        if min(float(np.min(np.abs(a))) for a in fw.a[:-1]) >= 1e-2:  # away from the kinks
            break
    d = one_hot(np.array(CROSS_LABELS), sizes[-1], dtype=dtype)
    return p, x, d, fw


def _sympy_network_grads(name: str, p: Parameters, x: np.ndarray, fw) -> dict:
    net = explicit_network(name)
    point = [mpmath.mpf(float(v)) for arr in p.arrays().values() for v in np.asarray(arr).ravel()]
    point += [mpmath.mpf(float(v)) for v in x.ravel()]
    point += [int(v > 0) for a in fw.a[:-1] for v in np.asarray(a, dtype=np.float64).ravel()]
    out = {}
    with mpmath.workdps(_DPS):
        values = net["fn"](point)
    for k, value in zip(net["grads"], values):
        shape = x.shape if k == "x" else np.shape(p.arrays()[k])
        out[k] = np.array(value.tolist(), dtype=object).astype(float).reshape(shape)
    return out


# --------------------------------------------------------------------------- numeric checks


def _check_activation(name: str):
    def check(rng, dtype):
        errs = []
        for scale in SCALES:
            a = (rng.standard_normal((6, 4)) * scale).astype(dtype)
            if name == "leaky_relu":
                a[0, :] = 0  # the kink: backproof's convention, slope alpha
            e = rng.standard_normal(a.shape).astype(dtype)
            errs.append(col_rel_error(ACTIVATIONS[name].jvp(a, e), _jvp_reference(name, a, e)))
        return worst(errs)

    return check


def _check_activation_lemma(rng, dtype):
    return worst(_check_activation(name)(rng, dtype) for name in ACTIVATIONS)


def network_cross_check(name: str, rng: np.random.Generator, dtype=np.float64, points: int = 2) -> float:
    r"""Largest error of ``backprop`` on the 3-layer network with activation ``name`` against SymPy."""
    errs = []
    for _ in range(points):
        p, x, d, fw = _network_point(rng, name, dtype)
        ref = _sympy_network_grads(name, p, x, fw)
        got = backprop(p, x, d).arrays()
        errs.append(worst(col_rel_error(got[k], ref[k]) for k in got))
    return worst(errs)


def _check_recursion(rng, dtype):
    return worst(network_cross_check(name, rng, dtype) for name in ACTIVATIONS)


def _check_linear(rng, dtype):
    r"""Every layer's :math:`\nabla_{W_l}, \nabla_{b_l}`; :math:`W_1^\top\delta_1` against SymPy's ∂E/∂x."""
    errs = []
    for name in ACTIVATIONS:
        p, x, d, fw = _network_point(rng, name, dtype)
        ref = _sympy_network_grads(name, p, x, fw)
        got = backprop(p, x, d).arrays()
        errs.append(worst(col_rel_error(got[k], ref[k]) for k in got))
        # dE/dx column by column: with one sample, delta_1 is nabla_b1
        dx = np.column_stack([p.W[0].T @ backprop(p, x[:, [c]], d[:, [c]]).b[0] for c in range(x.shape[1])])
        errs.append(col_rel_error(dx, ref["x"]))
    return worst(errs)


def _check_training_step(rng, dtype, gamma: float = 2.0):
    r"""One step of :func:`~backproof.train_minibatch` (one batch of :math:`B`) on each 3-layer net.

    The parameters must move by :math:`-(\gamma/B)` times SymPy's gradient of the summed loss
    (the error is that of the step itself, normwise per column): the training kernel, not only
    the reference ``backprop``, follows the recursion. :math:`\gamma = 2`, so that the step, not
    the float32 rounding of the parameters it is added to (:math:`6 \cdot 10^{-8}|\theta|`), sets
    the scale of the comparison.
    """
    from ..training import train_minibatch

    errs = []
    for name in ACTIVATIONS:
        p, x, _, fw = _network_point(rng, name, dtype)
        ref = _sympy_network_grads(name, p, x, fw)
        B = x.shape[1]
        q = train_minibatch(
            x, np.array(CROSS_LABELS), epochs=1, batch_size=B, lr=gamma, params=p.copy(), activation=name
        ).params
        for k, v in q.arrays().items():
            moved = (v.astype(np.float64) - p.arrays()[k].astype(np.float64)).reshape(v.shape[0], -1)
            errs.append(col_rel_error(moved, (-gamma / B * ref[k]).reshape(v.shape[0], -1)))
    return worst(errs)


_NUMERIC = {
    "linear_layer_gradients_delta_x_transpose": _check_linear,
    "activation_gradient_is_sigma_prime_times_e": _check_activation_lemma,
    "leaky_relu_derivative_is_one_or_alpha": _check_activation("leaky_relu"),
    "sigmoid_derivative_is_s_times_one_minus_s": _check_activation("sigmoid"),
    "tanh_derivative_is_one_minus_tanh_squared": _check_activation("tanh"),
    "backprop_recursion_for_any_depth": _check_recursion,
    "three_layer_backprop_equals_sympy_gradient": _check_recursion,
}


def numeric_check(name: str, dtype=np.float64, seed: int = 0) -> float:
    r"""Largest relative error of the NumPy code against SymPy's reference for the layer identity ``name``."""
    return _NUMERIC[name](np.random.default_rng(seed), np.dtype(dtype).type)


# --------------------------------------------------------------------------- finite differences


def _centred(f, x, direction, eps=1e-6):
    return (f(x + eps * direction) - f(x - eps * direction)) / (2 * eps)


def _fd_activation(name: str):
    def check(rng):
        a = rng.standard_normal((6, 4))  # |a| <~ 3: where sigma' is small, eps / sigma' swamps the difference
        a[np.abs(a) < 1e-3] = 0.5  # finite differences need a neighbourhood without the kink
        e = rng.standard_normal(a.shape)
        f, jvp = ACTIVATIONS[name]
        return rel_error(jvp(a, e), _centred(f, a, e))

    return check


def _fd_network(rng, names=tuple(ACTIVATIONS)):
    errs = []
    for name in names:
        p, x, d, _ = _network_point(rng, name, np.float64)
        N = x.shape[1]
        grads = backprop(p, x, d).arrays()
        for key, value in p.arrays().items():
            numeric = np.zeros_like(value)
            for idx in np.ndindex(value.shape):
                old = value[idx]
                value[idx] = old + FD_STEP
                up = cross_entropy(forward(p, x).y, d)
                value[idx] = old - FD_STEP
                down = cross_entropy(forward(p, x).y, d)
                value[idx] = old
                numeric[idx] = (up - down) / (2 * FD_STEP) * N  # cross_entropy is the mean; E is the sum
            errs.append(col_rel_error(grads[key], numeric))
    return worst(errs)


_FD = {
    "linear_layer_gradients_delta_x_transpose": _fd_network,
    "activation_gradient_is_sigma_prime_times_e": lambda r: worst(_fd_activation(n)(r) for n in ACTIVATIONS),
    "leaky_relu_derivative_is_one_or_alpha": _fd_activation("leaky_relu"),
    "sigmoid_derivative_is_s_times_one_minus_s": _fd_activation("sigmoid"),
    "tanh_derivative_is_one_minus_tanh_squared": _fd_activation("tanh"),
    "backprop_recursion_for_any_depth": _fd_network,
    "three_layer_backprop_equals_sympy_gradient": _fd_network,
}


def fd_check(name: str, seed: int = 0) -> float:
    r"""Relative error of the NumPy derivative against centred finite differences (float64)."""
    return _FD[name](np.random.default_rng(seed))


def run_check(name: str, kind: str, rng: np.random.Generator) -> float:
    r"""The check of kind ``"float64"``, ``"float32"``, ``"fd"``, ``"kernel-float64"``, ``"kernel-float32"``.

    The last two (one training step, :func:`_check_training_step`) are the recursion theorem's.
    """
    if kind == "fd":
        return _FD[name](rng)
    if kind.startswith("kernel-"):
        return _check_training_step(rng, np.dtype(kind.split("-")[1]).type)
    return _NUMERIC[name](rng, np.dtype(kind).type)
