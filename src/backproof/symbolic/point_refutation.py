r"""Wrong variants refuted at a random rational point of a concrete instance (:class:`PointVariant`).

An instance is a dict of exact SymPy matrices at a random rational point (all sizes
:data:`SQUARE`, so every variant is well typed and is refuted by value, not by shape), among
them the true derivative, which SymPy computes from the definitions as
:math:`\mathrm{d}E(X + \epsilon E_{ij})/\mathrm{d}\epsilon` at 0 (a polynomial stands for
"any :math:`E`" and "any :math:`\sigma`"), no formula of backprop. A variant is refuted when it
differs provably from that derivative while the claim agrees with it at the same point.

Non-goals: refuting at random sizes (the engine's refuter does that for scalar identities).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp

from .chain import Verdict
from .refuter import REFUTATION


@dataclass
class PointVariant:
    r"""A realistic wrong version of a claim, refuted by exact evaluation at a random rational point.

    ``instance(rng)`` builds a concrete instance at a random rational point: a dict of exact
    SymPy matrices, among them ``target``, the derivative SymPy computes there from the
    definitions (no formula of backprop used). ``true`` computes the claimed formula and
    ``wrong`` the variant from the same dict. The variant is refuted when it differs from
    the derivative while the claim agrees with it.
    """

    name: str
    description: str
    instance: Callable[[random.Random], dict]
    target: str
    true: Callable[[dict], sp.Matrix]
    wrong: Callable[[dict], sp.Matrix]
    sizes: str

    def refute(self, seed: int = 0, points: int = 4) -> Verdict:
        r"""Evaluate the variant, the claim and the true derivative exactly at the points of seeds
        ``seed, seed + 1, ...`` (``points`` of them), until one refutes the variant: one point may
        be where the variant happens to hold (leaky ReLU's ``1 - α`` at ``α = 1/2``)."""
        start = time.perf_counter()
        holds = False
        for at in range(seed, seed + points):
            point = _instance_at(self.instance, at)
            truth = point[self.target]
            holds = _exactly_equal(truth, self.true(point))
            differs = _provably_different(truth, self.wrong(point))
            if not holds or differs:
                break
        where = {"seed": at, "sizes": self.sizes, "claim_holds_there": holds}
        method = REFUTATION if holds else "the claim itself failed at the point"
        return Verdict(self.name, holds and differs, method, time.perf_counter() - start, where)


@functools.lru_cache(maxsize=64)
def _instance_at(instance: Callable[[random.Random], dict], seed: int) -> dict:
    return instance(random.Random(seed))


def _provably_different(a, b) -> bool:
    r"""Whether some entry of ``a - b`` is provably nonzero: exactly for rationals, else by the
    engine's 50-digit interval arithmetic (:func:`~backproof.symbolic.refuter._sign`)."""
    from .refuter import _sign

    a, b = sp.Matrix(a), sp.Matrix(b)
    if a.shape != b.shape:
        return True
    return any(_sign(x - y) in (1, -1) for x, y in zip(a, b))


def _exactly_equal(a, b) -> bool:
    a, b = sp.Matrix(a), sp.Matrix(b)
    if a.shape != b.shape:
        return False
    return all(sp.simplify(x - y) == 0 for x, y in zip(a, b))


def _rational(rng: random.Random) -> sp.Rational:
    """A random nonzero rational with small numerator and denominator."""
    num = 0
    while num == 0:
        num = rng.randint(-9, 9)
    return sp.Rational(num, rng.randint(1, 7))


def _rmat(rng: random.Random, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda *_: _rational(rng))


_EPS = sp.Symbol("epsilon")


def _first_order(M: sp.Matrix) -> sp.Matrix:
    r"""Drop the terms of order :math:`\epsilon^2` and higher: they cannot change a derivative at 0."""
    return M.applyfunc(lambda v: (lambda w: w.coeff(_EPS, 0) + w.coeff(_EPS, 1) * _EPS)(sp.expand(v)))


def _gradient(f: Callable[[sp.Matrix], sp.Expr], X: sp.Matrix) -> sp.Matrix:
    r"""Exact :math:`\partial f/\partial X` at a rational point, entry by entry.

    Entry :math:`(i, j)` is :math:`\mathrm{d}f(X + \epsilon E_{ij})/\mathrm{d}\epsilon` at 0: the
    coefficient of :math:`\epsilon` in SymPy's expansion of the polynomial :math:`f(X + \epsilon E_{ij})`
    (every ``f`` here is a polynomial: the stand-ins for :math:`E` and :math:`\sigma` are).
    """
    out = sp.zeros(*X.shape)
    for idx in range(len(X)):
        Y = sp.Matrix(X)
        Y[idx] = X[idx] + _EPS
        out[idx] = sp.expand(f(Y)).coeff(_EPS, 1)  # f is a polynomial in epsilon: d/d epsilon at 0
    return out


def _test_loss(rng: random.Random, rows: int, cols: int) -> Callable[[sp.Matrix], sp.Expr]:
    r"""A nonlinear polynomial loss of all entries, standing for "any :math:`E`"."""
    c = _rmat(rng, rows, cols)

    def loss(a: sp.Matrix) -> sp.Expr:
        lin = sum(c[i] * a[i] for i in range(len(a)))
        return lin**2 / 2 + sum(v**3 for v in a) / 6

    return loss


def _test_sigma(t):
    r"""A polynomial activation, standing for "any :math:`\sigma`": :math:`t + t^2/2 - t^3/3`."""
    return t + t**2 / 2 - t**3 / 3


def _test_sigma_prime(t):
    return 1 + t - t**2


SQUARE = 3  # every concrete size in the refutations: all variants are then well typed


def _variant(name, description, target, true_fn, wrong_fn, sizes, instance) -> PointVariant:
    return PointVariant(name, description, instance, target, true_fn, wrong_fn, sizes)
