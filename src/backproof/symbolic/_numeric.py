r"""Shared pieces of the numeric checks: 50-digit references, logits, finite differences.

Imported only when a numeric check runs (NumPy and mpmath are not needed for the proofs).
Backproof functions are looked up on their modules at call time, so that a test which
replaces one (say a softmax without the max-subtraction) is seen by every check.

Non-goals: statistics over many seeds; the tests draw inputs with Hypothesis.
"""

from __future__ import annotations

import functools
import importlib
import math

import mpmath
import numpy as np
import sympy as sp

from .symbols import softmax_vector

# the modules, not the functions backproof re-exports under the same names
_loss = importlib.import_module("backproof.loss")
_relu = importlib.import_module("backproof.relu")
_softmax = importlib.import_module("backproof.softmax")

DPS = 50
N_EXPLICIT = 10  # the number of classes of the course
SCALES = (1.0, 10.0, 1000.0)  # logit scales tried for the softmax identities


def worst(errors) -> float:
    r"""The largest error; NaN if any is NaN (Python's ``max`` would drop a trailing NaN)."""
    errors = [float(e) for e in errors]
    if any(math.isnan(e) for e in errors):
        return math.nan
    return max(errors)


def softmax(a):
    return _softmax.softmax(a)


def softmax_jvp(a, e):
    return _softmax.softmax_jvp(a, e)


def relu(a):
    return _relu.relu(a)


def relu_jvp(a, e):
    return _relu.relu_jvp(a, e)


def cross_entropy(y, d):
    return _loss.cross_entropy(y, d)


def cross_entropy_grad(y, d):
    return _loss.cross_entropy_grad(y, d)


def explicit(size: int = N_EXPLICIT):
    r"""Logit, direction and target symbols ``a, e, d`` of one column of ``size``, and its softmax."""
    a = sp.Matrix(sp.symbols(f"a_1:{size + 1}", real=True))
    e = sp.Matrix(sp.symbols(f"e_1:{size + 1}", real=True))
    d = sp.Matrix(sp.symbols(f"d_1:{size + 1}", real=True))
    return a, e, d, softmax_vector(a)


@functools.lru_cache(maxsize=1)
def softmax_refs():
    r"""mpmath-lambdified references at n = 10: ``J``, ``jvp``, ``fused``, ``general``, ``grad_y``."""
    a, e, d, g = explicit()
    J = g.jacobian(a)
    general = J.T * (-d).multiply_elementwise(g.applyfunc(lambda v: 1 / v))
    ys = sp.Matrix(sp.symbols(f"y_1:{N_EXPLICIT + 1}", positive=True))
    E = -sum(d[r] * sp.log(ys[r]) for r in range(N_EXPLICIT))
    grad_y = sp.Matrix([E]).jacobian(ys).T
    lse = sp.log(sum(sp.exp(v) for v in a))
    mp = ["mpmath"]
    return {
        "g": sp.lambdify([list(a)], g, mp),
        "J": sp.lambdify([list(a)], J, mp),
        "jvp": sp.lambdify([list(a), list(e)], J.T * e, mp),
        "fused": sp.lambdify([list(a), list(d)], general, mp),
        "general": sp.lambdify([list(a), list(d)], general, mp),
        "grad_y": sp.lambdify([list(ys), list(d)], grad_y, mp),
        "lse": sp.lambdify([list(a)], sp.Matrix([lse]), mp),
    }


def mp(fn, *cols):
    """Evaluate an mpmath-lambdified reference at 50 digits, column by column."""
    with mpmath.workdps(DPS):
        outs = []
        for args in zip(*(c.T for c in cols)):
            value = fn(*[[mpmath.mpf(float(v)) for v in col] for col in args])
            outs.append(np.array(value.tolist(), dtype=object).astype(float).reshape(-1))
    return np.array(outs).T


def jacobian_by_jvp(a: np.ndarray) -> np.ndarray:
    """The Jacobian at one column ``a``, built only from softmax_jvp (as backproof never does)."""
    n = a.shape[0]
    return softmax_jvp(np.repeat(a[:, None], n, axis=1), np.eye(n, dtype=a.dtype))


def logits(rng, dtype, scale, cols=4):
    return (rng.standard_normal((N_EXPLICIT, cols)) * scale).astype(dtype)


def centred(f, x, direction, eps=1e-6):
    return (f(x + eps * direction) - f(x - eps * direction)) / (2 * eps)
