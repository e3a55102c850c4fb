r"""Backprop through any number of layers, proved by SymPy for symbolic sizes.

The shallow network's recursion is proved in :mod:`backproof.symbolic` on one tiny
network (identity ``network_backprop_equals_sympy_gradient``, 4 → 3 → 3, batch 2). This
module proves the pieces it is made of for every size, and then the recursion for every depth:

* **Linear layer lemma** (:func:`linear_layer_lemma`). For :math:`a = W x + b\mathbb{1}^\top`
  with :math:`W` of shape :math:`(m, n)`, :math:`x` of shape :math:`(n, N)` and any
  differentiable loss :math:`E` of :math:`a` with upstream gradient
  :math:`\delta = \partial E / \partial a`:
  :math:`\partial E/\partial W = \delta x^\top`, :math:`\partial E/\partial b = \delta\mathbb{1}`,
  :math:`\partial E/\partial x = W^\top \delta`.
  **Sizes: symbolic** :math:`m, n, N` (SymPy ``MatrixSymbol`` entries, sums over
  symbolic ranges, range-aware ``KroneckerDelta``). No size is substituted.
* **Elementwise activation lemma** (:func:`activation_lemma`). For :math:`h = \sigma(a)`
  elementwise, :math:`\sigma` any differentiable function and :math:`e = \partial E/\partial h`:
  :math:`\partial E/\partial a = \sigma'(a) \odot e`. **Sizes: symbolic** :math:`m, N`;
  :math:`\sigma` is an undefined SymPy function, so the proof holds for every :math:`\sigma`.
* **Activation derivatives** (:func:`activation_derivatives`), each from its definition,
  for a real scalar :math:`a` (so for every entry of a matrix of any size):
  leaky ReLU :math:`\operatorname{lrelu}_\alpha'(a) = 1` for :math:`a > 0`, :math:`\alpha`
  for :math:`a < 0`, and by backproof's convention :math:`\alpha` at the kink :math:`a = 0`;
  :math:`\operatorname{sigmoid}' = s(1 - s)` with :math:`s = 1/(1 + e^{-a})`;
  :math:`\tanh' = 1 - \tanh^2` with :math:`\tanh a = (e^a - e^{-a})/(e^a + e^{-a})`.
  (ReLU's is identity 7 of :mod:`backproof.symbolic`.)
* **The recursion theorem** (:func:`recursion_theorem`), for a network of :math:`L`
  layers, :math:`L` symbolic: :math:`h_0 = x`, :math:`a_l = W_l h_{l-1} + b_l\mathbb{1}^\top`,
  :math:`h_l = \sigma(a_l)` for :math:`l < L`, :math:`y = g(a_L)` (softmax per column) and
  :math:`E = -\sum_{p,q} d_{p,q} \log y_{p,q}` summed over the batch, each column of
  :math:`d` summing to 1. With :math:`\delta_l = \partial E/\partial a_l`:
  :math:`\delta_L = y - d`; :math:`\delta_{l-1} = \sigma'(a_{l-1}) \odot W_l^\top \delta_l`
  for :math:`2 \le l \le L`; :math:`\nabla_{W_l} = \delta_l h_{l-1}^\top`,
  :math:`\nabla_{b_l} = \delta_l \mathbb{1}` for :math:`1 \le l \le L`.
  An :class:`Induction`, downward on :math:`l`: the base case (:math:`l = L`) is proved from
  the definition of :math:`E` for symbolic class count :math:`n_L` and batch :math:`N`
  (the same result as identity 6, there per column); the inductive step and the
  gradients of layer :math:`l` are the two lemmas instantiated at layer :math:`l`, for
  symbolic widths :math:`n_{l-1}, n_l` and batch :math:`N`.

* **The 3-layer cross-check** (identity ``three_layer_backprop_equals_sympy_gradient``):
  backprop's formulas equal SymPy's derivatives of the whole explicit network
  3 → 2 → 2 → 3 with an undefined activation :math:`\sigma`, for **one sample at that size
  only** (like identity 8 for the shallow network); numerically, ``backprop`` and one step of
  ``train_minibatch`` are compared with SymPy's derivatives for each of the four activations.

**What SymPy checks, and what it does not.** Every ``=`` of every chain is checked by
SymPy (derivatives of entries of symbolic-size matrix expressions, sums over symbolic
ranges, Kronecker deltas) after the definitions are substituted. Steps are of two kinds
(``Step.kind``): ``"definition"`` (a definition, a cited rule or the induction
hypothesis is substituted: the check is that the substitution was made as written) and
``"rewrite"`` (SymPy derives the next line). The multivariable chain rule
(:math:`\partial E/\partial W_{r,s} = \sum_{p,q} \partial E/\partial a_{p,q}\, \partial
a_{p,q}/\partial W_{r,s}` for :math:`E` differentiable) is cited as a rule of calculus,
marked ``"definition"``; it is not derived for symbolic sizes. :func:`chain_rule_chain`
checks it with SymPy for an undefined :math:`E` of all entries at one concrete size
(:math:`m, n, N = 2, 2, 2`) only, and the cross-checks
(:mod:`backproof.symbolic._layer_numeric`) compare ``backprop`` with SymPy's own derivatives of
whole explicit 3-layer networks (3 → 2 → 2 → 3), which use SymPy's differentiation, not this step.
The induction itself (a proof of :math:`P(L)` and of :math:`P(l) \Rightarrow P(l-1)` for
every :math:`l` gives :math:`P(l)` for every :math:`1 \le l \le L`) is the principle of
induction, not a SymPy computation.

Indices start at 0, as in NumPy: :math:`W_{r,s}` with :math:`0 \le r \le m - 1`. The free
indices of a chain (:math:`r, s`) are assumed to be valid indices of the matrix they index:
SymPy's range-aware Kronecker deltas (``KroneckerDelta(p, r, (0, m - 1))``) carry that
hypothesis, which is what lets a sum over :math:`0 \le p \le m - 1` of :math:`[p = r] f(p)`
collapse to :math:`f(r)` for symbolic :math:`m`.
The Kronecker delta is printed as the Iverson bracket :math:`[p = r]`, since
:math:`\delta` is the upstream gradient.

**Wrong variants.** Each lemma, derivative and theorem part carries realistic wrong
versions (a missing transpose, :math:`a` for :math:`h`, a missing :math:`\sigma'`, the
wrong sum axis, :math:`x^\top\delta` for :math:`\delta x^\top`, ...). :meth:`PointVariant.refute`
evaluates the variant and the true derivative exactly (rational arithmetic) at a random
rational point of a concrete instance (sizes given in the verdict; all sizes 3 so every
variant is well typed and is refuted by value, not by shape; for the sigmoid, tanh and the
softmax the point is :math:`a = \log u` with :math:`u` rational, where every value is
rational) and reports the refutation. The true derivative there is SymPy's
:math:`\mathrm{d}E(X + \epsilon E_{ij})/\mathrm{d}\epsilon` at 0 of the definitions (a
polynomial stands for "any :math:`E`" and "any :math:`\sigma`"), no formula of backprop.
A refutation at one point is a proof that the variant is not an identity; the true
statement is evaluated at the same point and must agree.

**Numeric checks** (:mod:`backproof.symbolic._layer_numeric`, attached to each identity as
:class:`~backproof.symbolic.engine.Check`\ s): the NumPy code (``<name>_jvp``, ``backprop``,
one step of ``train_minibatch``) against SymPy's expressions at 50 digits, float64 and float32,
and finite differences. Every identity here is in the catalogue (``backproof verify``,
numbers after the softmax, ReLU and network identities).

Non-goals: convolutional or recurrent layers, losses other than softmax cross-entropy,
a general theorem prover.
"""

from __future__ import annotations

import functools
import importlib
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction
from sympy.matrices.expressions.matexpr import MatrixElement

from . import core
from .core import Rule
from .engine import DEFINITION, REFUTATION, REWRITE, Chain, Check, Identity, Step, Verdict, register
from .notation import _Printer

__all__ = [
    "Claim",
    "IndexedChain",
    "Induction",
    "LayerIdentity",
    "PointVariant",
    "activation_derivatives",
    "activation_lemma",
    "chain_rule_chain",
    "equal_general",
    "layer_identities",
    "layer_identity",
    "linear_layer_lemma",
    "recursion_theorem",
    "to_latex",
]

# --------------------------------------------------------------------------- notation


class _LayerPrinter(_Printer):
    r"""LaTeX for indexed proofs: :math:`[p = r]` for Kronecker, :math:`\odot`, :math:`\sigma'(a)`."""

    def _print_KroneckerDelta(self, expr, exp=None):
        i, j = (self._print(x) for x in expr.args[:2])
        return rf"\left[{i} = {j}\right]"

    def _print_HadamardProduct(self, expr):
        return r" \odot ".join(self.parenthesize(x, 50) for x in expr.args)

    def _print_OneMatrix(self, expr):
        return r"\mathbb{1}"

    def _print_MatrixElement(self, expr):
        parent = self._print(expr.parent)
        if isinstance(expr.parent, sp.MatrixSymbol):
            i, j = (self._print(x) for x in (expr.i, expr.j))
            if expr.parent.shape[1] == 1 and expr.j == 0:
                return rf"{{{parent}}}_{{{i}}}"
            return rf"{{{parent}}}_{{{i},{j}}}"
        i, j = (self._print(x) for x in (expr.i, expr.j))
        if expr.parent.shape[1] == 1 and expr.j == 0:
            return rf"\left({parent}\right)_{{{i}}}"
        return rf"\left({parent}\right)_{{{i},{j}}}"

    def _print_ElementwiseApplyFunction(self, expr):
        f, arg = expr.function, self._print(expr.expr)
        if isinstance(f, sp.Lambda) and isinstance(f.expr, sp.Derivative):
            return rf"{self._print(f.expr.expr.func)}'\left({arg}\right)"
        return rf"{self._print(f)}\left({arg}\right)"

    def _print_FunctionClass(self, expr):
        return (
            self._deal_with_super_sub(expr.__name__) if hasattr(self, "_deal_with_super_sub") else str(expr)
        )

    def _print_Derivative(self, expr):
        f, (x, count) = expr.expr, expr.variable_count[0]
        if len(expr.variable_count) == 1 and count == 1:
            if isinstance(f, sp.core.function.AppliedUndef) and f.args == (x,):
                return rf"{self._print(f.func)}'\left({self._print(x)}\right)"
            if isinstance(f, (sp.Symbol, sp.Indexed, sp.MatrixSymbol)) or isinstance(
                f, sp.matrices.expressions.matexpr.MatrixElement
            ):
                return rf"\frac{{\partial {self._print(f)}}}{{\partial {self._print(x)}}}"
            return rf"\frac{{\partial}}{{\partial {self._print(x)}}}\left({self._print(f)}\right)"
        return super()._print_Derivative(expr)


def to_latex(expr) -> str:
    r"""LaTeX of an expression of this module, as the site shows it (terms in the order written)."""
    tex = _LayerPrinter({"order": "none"}).doprint(expr)
    return re.sub(r"-1 \+ ([A-Za-z][A-Za-z0-9]*(?:_\{[^}]*\}|_\w)?)", r"\1 - 1", tex)  # bounds: N - 1


def _int(name: str):
    return sp.Symbol(name, integer=True)


def _size(name: str):
    return sp.Symbol(name, integer=True, positive=True)


p, q, r, s, t = (_int(v) for v in "pqrst")
E = sp.Symbol("E")  # the loss: any differentiable function of the layer's output
sigma = sp.Function("sigma", real=True)  # any differentiable real activation
_u = sp.Dummy("u")


def elementwise(f, X) -> ElementwiseApplyFunction:
    r""":math:`f(X)` entry by entry."""
    return ElementwiseApplyFunction(f, X)


def derivative_of(f) -> sp.Lambda:
    r""":math:`f'`, as the function :math:`u \mapsto \mathrm{d}f(u)/\mathrm{d}u`."""
    return sp.Lambda(_u, sp.Derivative(f(_u), _u))


def _ones_row(N) -> sp.OneMatrix:
    return sp.OneMatrix(1, N)


def _ones_col(N) -> sp.OneMatrix:
    return sp.OneMatrix(N, 1)


# --------------------------------------------------------------------------- the checker


_canonical = core.canonical  # bound variables renamed by the core, capture-free


def normal_form(expr, definitions: dict | None = None):
    r"""The core's normal form (:func:`backproof.symbolic.core.normal_form`)."""
    return core.normal_form(expr, definitions)


def equal_general(a, b, definitions: dict | None = None, assumptions: dict | None = None, case=None) -> bool:
    r"""Whether the core proves ``a == b`` for expressions with symbolic-size sums and Kronecker deltas.

    Both sides are brought to the core's normal form (definitions unfolded, derivatives and sums
    evaluated, a sum taken first over the variable its Kronecker delta pins when its range does
    not depend on another, bound variables renamed apart and then canonically), ``assumptions``
    and ``case`` substituted, and the difference must simplify to 0.
    """
    sides = [core.normal_form(x, definitions, assumptions, case) for x in (a, b)]
    return core.equal(*sides)


def defn(expr, why: str) -> Step:
    r"""A step that substitutes a definition, a cited rule (the chain rule) or the induction hypothesis."""
    return Step(expr, why, DEFINITION)


def rewrite(expr, why: str) -> Step:
    r"""A step SymPy derives: a derivative, a Kronecker delta collapsing a sum, a cancellation."""
    return Step(expr, why, REWRITE)


def _cited(lhs, rhs) -> Rule:
    name = "the loss as defined, differentiated" if isinstance(rhs, sp.Derivative) else "chain rule"
    return Rule(name, sp.Eq(lhs, rhs, evaluate=False), "cited")


class IndexedChain(Chain):
    r"""A :class:`~backproof.symbolic.engine.Chain` checked by :func:`equal_general`.

    The engine's :func:`~backproof.symbolic.engine.equal` evaluates once; entries of
    symbolic-size matrix expressions need the definitions substituted again after
    evaluating, the delta-pinned sum taken first, and summation variables renamed.
    """

    def __post_init__(self) -> None:
        # A left side such as dE/dW_rs is not a fresh name: the chain rule it states is a cited
        # rule, named and counted, never a definition (the core refuses it as one).
        cited = {k: v for k, v in self.definitions.items() if isinstance(k, sp.Derivative)}
        if cited:
            self.definitions = {k: v for k, v in self.definitions.items() if k not in cited}
            self.rules = [*self.rules, *(_cited(k, v) for k, v in cited.items())]

    def latex(self) -> list[str]:
        return [to_latex(step.expr) for step in self.steps]


# --------------------------------------------------------------------------- objects


@dataclass(repr=False)
class Claim:
    r"""One equation, shown as ``lhs = rhs``, and the entrywise chain that proves it.

    The shown left side is made from ``lhs_entry``, the chain's first step: for a matrix claim
    :math:`\partial E/\partial X_{r,s}` it is :math:`\partial E/\partial X`, for a scalar claim
    the entry itself; so it cannot say anything the chain does not start from.
    :meth:`matches_chain` checks that the chain starts at ``lhs_entry`` and ends at entry
    ``index`` of ``rhs`` (``rhs`` itself when ``index`` is ``()``). ``premise`` (such as the
    induction hypothesis ``P(l)``) and ``condition`` (such as :math:`a \ne 0`) are printed with it.
    """

    rhs: sp.Basic
    chain: IndexedChain
    lhs_entry: sp.Basic
    index: tuple = (r, s)
    premise: str = ""
    condition: str = ""

    @property
    def lhs(self):
        if not self.index:
            return self.lhs_entry
        var = self.lhs_entry.variables[0]
        return sp.Derivative(self.lhs_entry.expr, var.parent, evaluate=False)

    def matches_chain(self) -> bool:
        first, last = self.chain.steps[0].expr, self.chain.steps[-1].expr
        rhs_entry = MatrixElement(self.rhs, *self.index) if self.index else self.rhs
        return first == self.lhs_entry and equal_general(last, rhs_entry)

    def latex(self) -> str:
        body = f"{to_latex(self.lhs)} = {to_latex(self.rhs)}"
        if self.premise:
            body = f"{self.premise} \\;\\Rightarrow\\; {body}"
        if self.condition:
            body = f"{body} \\quad ({self.condition})"
        return body

    def __repr__(self) -> str:
        return f"Claim({self.latex()!r})"

    def entry_latex(self) -> str:
        """The entrywise statement, from the two ends of the chain."""
        return f"{to_latex(self.chain.steps[0].expr)} = {to_latex(self.chain.steps[-1].expr)}"


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


@dataclass(eq=False, repr=False)  # the engine's short repr, not every chain
class LayerIdentity(Identity):
    r"""An :class:`~backproof.symbolic.engine.Identity` whose statement is a list of :class:`Claim`\ s.

    The displayed statement is the claims' matrix equations; each is checked against the two
    ends of its chain (:meth:`Claim.matches_chain`). The wrong variants are
    :class:`PointVariant`\ s, evaluated on a concrete instance. ``size_note`` says in words
    for which sizes the chains hold.
    """

    claims: list = field(default_factory=list)
    size_note: str = ""

    def __post_init__(self) -> None:
        eqs = [sp.Eq(c.lhs, c.rhs, evaluate=False) for c in self.claims]
        self.statement = eqs[0] if len(eqs) == 1 else sp.Tuple(*eqs)
        self.generated = False

    def statement_checks(self) -> list[bool]:
        return [c.matches_chain() for c in self.claims]

    def statement_latex(self) -> list[str]:
        return [c.latex() for c in self.claims]

    def _refute_uncached(self, seed: int) -> list[Verdict]:
        return [v.refute(seed) for v in self.variants]  # type: ignore[attr-defined]  # a LayerIdentity holds PointVariants, which refute themselves


# --------------------------------------------------------------------------- concrete instances


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


def _checks(name: str) -> list[Check]:
    r"""The numeric checks of identity ``name``: NumPy against SymPy at 50 digits, and finite differences.

    The code lives in :mod:`backproof.symbolic._layer_numeric`, imported when a check runs.
    """

    def run(kind):
        def check(rng):
            return importlib.import_module("backproof.symbolic._layer_numeric").run_check(name, kind, rng)

        return check

    return [
        Check("float64 vs SymPy (mpmath, 50 digits)", "float64", run("float64")),
        Check("float32 vs SymPy (mpmath, 50 digits)", "float32", run("float32")),
        Check("finite differences (float64)", "fd", run("fd")),
    ]


def _kernel_checks(name: str) -> list[Check]:
    r"""One training step of ``train_minibatch`` against SymPy's gradient (3-layer nets, each activation)."""

    def run(dtype):
        def check(rng):
            numeric = importlib.import_module("backproof.symbolic._layer_numeric")
            return numeric.run_check(name, f"kernel-{dtype}", rng)

        return check

    return [
        Check("train_minibatch step vs SymPy, float64", "float64", run("float64")),
        Check("train_minibatch step vs SymPy, float32", "float32", run("float32")),
    ]


def _lemma(name, title, claims, assumptions, size_note, variants, extra_chains=(), numeric_function=""):
    return LayerIdentity(
        name,
        title,
        [c.chain for c in claims] + list(extra_chains),
        assumptions=assumptions,
        variants=variants,
        checks=_checks(name),
        implements=numeric_function,
        claims=claims,
        size_note=size_note,
    )


# --------------------------------------------------------------------------- linear layer lemma

m, n, N = _size("m"), _size("n"), _size("N")


def _linear_claims(W, x, b, delta, a, rows, inner, batch, layer: str = "") -> list[Claim]:
    r"""The three claims of the linear layer lemma for ``a = W x + b 1^T`` (names given).

    Used for the lemma itself and, renamed, for layer :math:`l` of the recursion theorem.
    """
    a_def = W * x + b * _ones_row(batch)
    defs = {a: a_def}
    rule = f"chain rule; ${to_latex(delta)} = \\partial E / \\partial {to_latex(a)}$" + (
        f" ({layer})" if layer else ""
    )
    kd = sp.KroneckerDelta

    def upstream(var):
        return sp.Sum(delta[p, q] * sp.Derivative(a[p, q], var), (p, 0, rows - 1), (q, 0, batch - 1))

    cW = IndexedChain(
        f"$\\partial E / \\partial {to_latex(W)}$, entry $(r, s)$, symbolic sizes",
        [
            defn(sp.Derivative(E, W[r, s]), ""),
            defn(upstream(W[r, s]), rule),
            rewrite(
                sp.Sum(
                    delta[p, q]
                    * sp.Sum(kd(p, r, (0, rows - 1)) * kd(t, s, (0, inner - 1)) * x[t, q], (t, 0, inner - 1)),
                    (p, 0, rows - 1),
                    (q, 0, batch - 1),
                ),
                f"differentiate ${to_latex(a[p, q])} = \\sum_t {to_latex(W[p, t])} {to_latex(x[t, q])}"
                f" + {to_latex(b[p, 0])}$",
            ),
            rewrite(
                sp.Sum(delta[r, q] * x[s, q], (q, 0, batch - 1)), "the brackets keep $p = r$ and $t = s$"
            ),
            defn(MatrixElement(delta * x.T, r, s), "matrix product"),
        ],
        definitions={**defs, sp.Derivative(E, W[r, s]): upstream(W[r, s])},
    )
    cb = IndexedChain(
        f"$\\partial E / \\partial {to_latex(b)}$, entry $r$, symbolic sizes",
        [
            defn(sp.Derivative(E, b[r, 0]), ""),
            defn(upstream(b[r, 0]), rule),
            rewrite(
                sp.Sum(delta[p, q] * kd(p, r, (0, rows - 1)), (p, 0, rows - 1), (q, 0, batch - 1)),
                f"differentiate ${to_latex(a[p, q])}$: "
                f"only ${to_latex(b[p, 0])}$ depends on ${to_latex(b[r, 0])}$",
            ),
            rewrite(sp.Sum(delta[r, q], (q, 0, batch - 1)), "the bracket keeps $p = r$"),
            defn(MatrixElement(delta * _ones_col(batch), r, 0), "matrix product with $\\mathbb{1}$"),
        ],
        definitions={**defs, sp.Derivative(E, b[r, 0]): upstream(b[r, 0])},
    )
    cx = IndexedChain(
        f"$\\partial E / \\partial {to_latex(x)}$, entry $(r, s)$, symbolic sizes",
        [
            defn(sp.Derivative(E, x[r, s]), ""),
            defn(upstream(x[r, s]), rule),
            rewrite(
                sp.Sum(
                    delta[p, q]
                    * sp.Sum(
                        W[p, t] * kd(t, r, (0, inner - 1)) * kd(q, s, (0, batch - 1)), (t, 0, inner - 1)
                    ),
                    (p, 0, rows - 1),
                    (q, 0, batch - 1),
                ),
                f"differentiate ${to_latex(a[p, q])}$",
            ),
            rewrite(sp.Sum(W[p, r] * delta[p, s], (p, 0, rows - 1)), "the brackets keep $t = r$ and $q = s$"),
            defn(MatrixElement(W.T * delta, r, s), "matrix product"),
        ],
        definitions={**defs, sp.Derivative(E, x[r, s]): upstream(x[r, s])},
    )
    return [
        Claim(delta * x.T, cW, sp.Derivative(E, W[r, s])),
        Claim(delta * _ones_col(batch), cb, sp.Derivative(E, b[r, 0]), (r, 0)),
        Claim(W.T * delta, cx, sp.Derivative(E, x[r, s])),
    ]


def _linear_instance(rng: random.Random) -> dict:
    k = SQUARE
    W, x, b = _rmat(rng, k, k), _rmat(rng, k, k), _rmat(rng, k, 1)
    loss = _test_loss(rng, k, k)

    def a_of(W_, x_, b_):
        return W_ * x_ + b_ * sp.ones(1, k)

    a = a_of(W, x, b)
    delta = _gradient(loss, a)  # the upstream gradient dE/da at this point
    return dict(
        W=W,
        x=x,
        b=b,
        delta=delta,
        one=sp.ones(k, 1),
        dW=_gradient(lambda V: loss(a_of(V, x, b)), W),
        db=_gradient(lambda V: loss(a_of(W, x, V)), b),
        dx=_gradient(lambda V: loss(a_of(W, V, b)), x),
    )


def _variant(name, description, target, true_fn, wrong_fn, sizes, instance) -> PointVariant:
    return PointVariant(name, description, instance, target, true_fn, wrong_fn, sizes)


def _linear_variants() -> list[PointVariant]:
    sizes = f"m = n = N = {SQUARE}, E a nonlinear polynomial of a"
    inst = _linear_instance

    def dW(P):
        return P["delta"] * P["x"].T

    def db(P):
        return P["delta"] * P["one"]

    def dx(P):
        return P["W"].T * P["delta"]

    return [
        _variant(
            "nabla_W_is_x_transpose_delta",
            "∂E/∂W = xᵀ δ (factors swapped)",
            "dW",
            dW,
            lambda P: P["x"].T * P["delta"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_W_is_delta_x",
            "∂E/∂W = δ x (missing transpose)",
            "dW",
            dW,
            lambda P: P["delta"] * P["x"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_W_is_x_delta_transpose",
            "∂E/∂W = x δᵀ (transposed gradient)",
            "dW",
            dW,
            lambda P: P["x"] * P["delta"].T,
            sizes,
            inst,
        ),
        _variant(
            "nabla_b_sums_wrong_axis",
            "∂E/∂b = δᵀ 1 (sum over the wrong axis)",
            "db",
            db,
            lambda P: P["delta"].T * P["one"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_b_is_mean",
            "∂E/∂b = δ 1 / N (mean, not sum)",
            "db",
            db,
            lambda P: P["delta"] * P["one"] / SQUARE,
            sizes,
            inst,
        ),
        _variant(
            "nabla_x_is_W_delta",
            "∂E/∂x = W δ (missing transpose)",
            "dx",
            dx,
            lambda P: P["W"] * P["delta"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_x_is_delta_transpose_W",
            "∂E/∂x = (δᵀ W)ᵀ with W for Wᵀ: δᵀ Wᵀ transposed",
            "dx",
            dx,
            lambda P: (P["delta"].T * P["W"].T).T,
            sizes,
            inst,
        ),
    ]


@functools.lru_cache(maxsize=1)
def linear_layer_lemma() -> LayerIdentity:
    r"""The linear layer lemma, proved for symbolic :math:`m, n, N`.

    :math:`a = W x + b\mathbb{1}^\top`, :math:`W` :math:`(m, n)`, :math:`x` :math:`(n, N)`,
    :math:`b` :math:`(m, 1)`, :math:`\delta = \partial E/\partial a` :math:`(m, N)` for any
    differentiable :math:`E`. Proved: :math:`\partial E/\partial W = \delta x^\top`,
    :math:`\partial E/\partial b = \delta\mathbb{1}`, :math:`\partial E/\partial x = W^\top\delta`,
    entry by entry, each chain's derivative and sums evaluated by SymPy with :math:`m, n, N`
    symbolic. The chain rule step is cited (see the module docstring).
    """
    W, x = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, N)
    b, delta, a = sp.MatrixSymbol("b", m, 1), sp.MatrixSymbol(r"\delta", m, N), sp.MatrixSymbol("a", m, N)
    return _lemma(
        "linear_layer_gradients_delta_x_transpose",
        "Linear layer lemma: ∂E/∂W = δ xᵀ, ∂E/∂b = δ 1, ∂E/∂x = Wᵀ δ",
        _linear_claims(W, x, b, delta, a, m, n, N),
        [
            "$a = W x + b \\mathbb{1}^\\top$",
            "$E$ differentiable in $a$, $\\delta = \\partial E / \\partial a$",
        ],
        "symbolic m, n, N (every size); apart from that, the cited chain-rule step alone is checked "
        "at m = n = N = 2",
        _linear_variants(),
        extra_chains=[chain_rule_chain()],
        numeric_function="backprop",
    )


# --------------------------------------------------------------------------- activation lemma


def _activation_claim(a, e, h, rows, batch, f=sigma, layer: str = "") -> Claim:
    kd = sp.KroneckerDelta
    defs = {h: elementwise(f, a)}
    upstream = sp.Sum(e[p, q] * sp.Derivative(h[p, q], a[r, s]), (p, 0, rows - 1), (q, 0, batch - 1))
    chain = IndexedChain(
        f"$\\partial E / \\partial {to_latex(a)}$, entry $(r, s)$, symbolic sizes, any $\\sigma$",
        [
            defn(sp.Derivative(E, a[r, s]), ""),
            defn(
                upstream,
                f"chain rule; ${to_latex(e)} = \\partial E / \\partial {to_latex(h)}$"
                + (f" ({layer})" if layer else ""),
            ),
            rewrite(
                sp.Sum(
                    e[p, q]
                    * sp.Derivative(f(a[p, q]), a[p, q])
                    * kd(p, r, (0, rows - 1))
                    * kd(q, s, (0, batch - 1)),
                    (p, 0, rows - 1),
                    (q, 0, batch - 1),
                ),
                f"differentiate ${to_latex(h[p, q])} = \\sigma({to_latex(a[p, q])})$: "
                f"it depends on ${to_latex(a[p, q])}$ only",
            ),
            rewrite(sp.Derivative(f(a[r, s]), a[r, s]) * e[r, s], "the brackets keep $p = r$ and $q = s$"),
            defn(
                MatrixElement(sp.HadamardProduct(elementwise(derivative_of(f), a), e), r, s),
                "elementwise product",
            ),
        ],
        definitions={**defs, sp.Derivative(E, a[r, s]): upstream},
    )
    return Claim(sp.HadamardProduct(elementwise(derivative_of(f), a), e), chain, sp.Derivative(E, a[r, s]))


def _activation_instance(rng: random.Random) -> dict:
    k = SQUARE
    a = _rmat(rng, k, k)
    loss = _test_loss(rng, k, k)
    h = a.applyfunc(_test_sigma)
    return dict(
        a=a,
        h=h,
        e=_gradient(loss, h),
        sp_a=a.applyfunc(_test_sigma_prime),
        sp_h=h.applyfunc(_test_sigma_prime),
        da=_gradient(lambda V: loss(V.applyfunc(_test_sigma)), a),
    )


def _activation_variants() -> list[PointVariant]:
    sizes = f"m = N = {SQUARE}, σ(t) = t + t²/2 − t³/3, E a nonlinear polynomial of h"
    inst = _activation_instance

    def true(P):
        return P["sp_a"].multiply_elementwise(P["e"])

    return [
        _variant(
            "missing_sigma_prime", "∂E/∂a = e (σ' forgotten)", "da", true, lambda P: P["e"], sizes, inst
        ),
        _variant(
            "sigma_for_sigma_prime",
            "∂E/∂a = σ(a) ⊙ e",
            "da",
            true,
            lambda P: P["h"].multiply_elementwise(P["e"]),
            sizes,
            inst,
        ),
        _variant(
            "sigma_prime_at_h",
            "∂E/∂a = σ'(h) ⊙ e (σ' at the output, not the input)",
            "da",
            true,
            lambda P: P["sp_h"].multiply_elementwise(P["e"]),
            sizes,
            inst,
        ),
        _variant(
            "matrix_product_for_elementwise",
            "∂E/∂a = σ'(a) e (matrix product for ⊙)",
            "da",
            true,
            lambda P: P["sp_a"] * P["e"],
            sizes,
            inst,
        ),
    ]


@functools.lru_cache(maxsize=1)
def activation_lemma() -> LayerIdentity:
    r"""The elementwise activation lemma, proved for symbolic :math:`m, N` and any :math:`\sigma`.

    :math:`h = \sigma(a)` entry by entry, :math:`a` :math:`(m, N)`, :math:`e = \partial E/\partial h`:
    :math:`\partial E/\partial a = \sigma'(a) \odot e`. :math:`\sigma` is an undefined SymPy
    function, so this holds for each activation once its derivative is known.
    """
    a, e, h = sp.MatrixSymbol("a", m, N), sp.MatrixSymbol("e", m, N), sp.MatrixSymbol("h", m, N)
    return _lemma(
        "activation_gradient_is_sigma_prime_times_e",
        "Elementwise activation lemma: ∂E/∂a = σ'(a) ⊙ ∂E/∂h",
        [_activation_claim(a, e, h, m, N)],
        ["$h = \\sigma(a)$ entry by entry, $\\sigma$ differentiable", "$e = \\partial E / \\partial h$"],
        "symbolic m, N (every size), any differentiable σ",
        _activation_variants(),
        numeric_function="activation_jvp",
    )


# --------------------------------------------------------------------------- activation derivatives

_a = sp.Symbol("a", real=True)
_a_pos, _a_neg = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)
alpha = sp.Symbol("alpha", positive=True)


class LeakyRelu(sp.Function):
    r""":math:`\operatorname{lrelu}_\alpha(a)` (display head; its definition is substituted to check)."""

    def _latex(self, printer, exp=None):
        return rf"\operatorname{{lrelu}}_{{\alpha}}\left({printer._print(self.args[0])}\right)"


class LeakySlope(sp.Function):
    r""":math:`H_\alpha(a)`: 1 for :math:`a > 0`, :math:`\alpha` for :math:`a \le 0` (the convention)."""

    def _latex(self, printer, exp=None):
        return rf"H_{{\alpha}}\left({printer._print(self.args[0])}\right)"


class Sigmoid(sp.Function):
    r""":math:`\operatorname{sigmoid}(a)` (display head)."""

    def _latex(self, printer, exp=None):
        return rf"\operatorname{{sigmoid}}\left({printer._print(self.args[0])}\right)"


class Tanh(sp.Function):
    r""":math:`\tanh(a)` (display head; defined by exponentials, not by SymPy's ``tanh``)."""

    def _latex(self, printer, exp=None):
        power = f"^{{{exp}}}" if exp else ""
        return rf"\tanh{power}\left({printer._print(self.args[0])}\right)"


LEAKY_DEF = sp.Piecewise((_a, _a > 0), (alpha * _a, True))
LEAKY_SLOPE = sp.Piecewise((1, _a > 0), (alpha, True))
SIGMOID_DEF = 1 / (1 + sp.exp(-_a))
TANH_DEF = (sp.exp(_a) - sp.exp(-_a)) / (sp.exp(_a) + sp.exp(-_a))


def _derivative_instance(fn_def, point_kind: str):
    """A random rational point; for exponential activations a = log(u), u rational, so values are exact."""

    def build(rng: random.Random) -> dict:
        if point_kind == "log":
            u = sp.Rational(rng.randint(2, 9), rng.randint(1, 9))
            while u == 1:
                u = sp.Rational(rng.randint(2, 9), rng.randint(1, 9))
            pts = [sp.log(u), -sp.log(u)]
        else:
            pts = [abs(_rational(rng)), -abs(_rational(rng))]
        al = sp.Rational(rng.randint(1, 9), 10)
        vals = [fn_def.subs({alpha: al, _a: v}) for v in pts]
        truth = sp.Matrix([sp.simplify(sp.diff(fn_def, _a).subs({alpha: al}).subs(_a, v)) for v in pts])
        return dict(points=pts, alpha=al, f=sp.Matrix([sp.simplify(v) for v in vals]), truth_=truth)

    return build


def _deriv_variants(fn_def, kind: str, true_fn, wrongs) -> list[PointVariant]:
    inst = _derivative_instance(fn_def, kind)
    where = "a = ±log u, u rational" if kind == "log" else "a rational, one point > 0 and one < 0"
    sizes = f"{where}, α rational in (0, 1)" if kind != "log" else where
    return [PointVariant(name, desc, inst, "truth_", true_fn, wrong, sizes) for name, desc, wrong in wrongs]


def _activation_derivative_lemmas() -> list[LayerIdentity]:
    # leaky ReLU
    lr = IndexedChain(
        "where the derivative exists, $a \\ne 0$ (checked for $a > 0$ and for $a < 0$)",
        [
            defn(sp.Derivative(LeakyRelu(_a), _a), ""),
            defn(
                sp.Derivative(LEAKY_DEF, _a),
                "$\\operatorname{lrelu}_\\alpha(a) = a$ for $a > 0$, else $\\alpha a$",
            ),
            rewrite(LEAKY_SLOPE, "differentiate each piece"),
            defn(LeakySlope(_a), "the step $H_\\alpha$"),
        ],
        definitions={LeakyRelu(_a): LEAKY_DEF, LeakySlope(_a): LEAKY_SLOPE},
    )
    lr.cases = [{_a: _a_pos}, {_a: _a_neg}]
    lr.hypotheses = {sp.Ne(_a, 0): True}  # stated: the two cases cover exactly a != 0
    kink = IndexedChain(
        "at the kink $a = 0$, where the derivative does not exist: the convention",
        [
            defn(LeakySlope(0), ""),
            defn(alpha, "backproof's $H_\\alpha(0) = \\alpha$, as PyTorch's leaky ReLU"),
        ],
        definitions={LeakySlope(0): LEAKY_SLOPE.subs(_a, 0)},
    )

    def lr_true(P):
        return sp.Matrix([LEAKY_SLOPE.subs({alpha: P["alpha"], _a: v}) for v in P["points"]])

    leaky = _lemma(
        "leaky_relu_derivative_is_one_or_alpha",
        "Leaky ReLU's derivative is 1 for a > 0 and α for a < 0 (α at the kink, by convention)",
        [
            Claim(LeakySlope(_a), lr, sp.Derivative(LeakyRelu(_a), _a), (), condition=r"a \ne 0"),
            Claim(alpha, kink, LeakySlope(0), (), condition=r"\text{the convention at the kink}"),
        ],
        ["$\\alpha > 0$", "at $a = 0$ there is no derivative: backproof uses $\\alpha$"],
        "a real scalar (each entry of a matrix of any size)",
        _deriv_variants(
            LEAKY_DEF,
            "rat",
            lr_true,
            [
                (
                    "relu_slope",
                    "lrelu' = H(a) (α forgotten: ReLU's derivative)",
                    lambda P: sp.Matrix([1 if v > 0 else 0 for v in P["points"]]),
                ),
                (
                    "slopes_swapped",
                    "lrelu' = α for a > 0, 1 for a < 0",
                    lambda P: sp.Matrix([P["alpha"] if v > 0 else 1 for v in P["points"]]),
                ),
                ("lrelu_for_derivative", "lrelu' = lrelu(a)", lambda P: P["f"]),
            ],
        ),
        numeric_function="leaky_relu_jvp",
    )

    # sigmoid
    S = SIGMOID_DEF
    sig = IndexedChain(
        "any real $a$, from $\\operatorname{sigmoid}(a) = 1 / (1 + e^{-a})$",
        [
            defn(sp.Derivative(Sigmoid(_a), _a), ""),
            defn(sp.Derivative(S, _a), "definition"),
            rewrite(sp.exp(-_a) / (1 + sp.exp(-_a)) ** 2, "quotient rule"),
            rewrite(sp.Mul(S, sp.exp(-_a) / (1 + sp.exp(-_a)), evaluate=False), "split the fraction"),
            rewrite(sp.Mul(S, 1 - S, evaluate=False), "$e^{-a} / (1 + e^{-a}) = 1 - 1 / (1 + e^{-a})$"),
            defn(sp.Mul(Sigmoid(_a), 1 - Sigmoid(_a), evaluate=False), "definition"),
        ],
        definitions={Sigmoid(_a): S},
    )

    def sig_true(P):
        return sp.Matrix([v * (1 - v) for v in P["f"]])

    sigmoid_lemma = _lemma(
        "sigmoid_derivative_is_s_times_one_minus_s",
        "The sigmoid's derivative is s(1 − s)",
        [
            Claim(
                sp.Mul(Sigmoid(_a), 1 - Sigmoid(_a), evaluate=False),
                sig,
                sp.Derivative(Sigmoid(_a), _a),
                (),
            )
        ],
        [],
        "a real scalar (each entry of a matrix of any size)",
        _deriv_variants(
            S,
            "log",
            sig_true,
            [
                ("missing_one_minus_s", "sigmoid' = s", lambda P: P["f"]),
                (
                    "one_minus_s_squared",
                    "sigmoid' = 1 − s² (tanh's form)",
                    lambda P: P["f"].applyfunc(lambda v: 1 - v**2),
                ),
                (
                    "a_for_s",
                    "sigmoid' = a(1 − a) (the input for the output)",
                    lambda P: sp.Matrix([v * (1 - v) for v in P["points"]]),
                ),
            ],
        ),
        numeric_function="sigmoid_jvp",
    )

    # tanh
    T = TANH_DEF
    th = IndexedChain(
        "any real $a$, from $\\tanh a = (e^{a} - e^{-a}) / (e^{a} + e^{-a})$",
        [
            defn(sp.Derivative(Tanh(_a), _a), ""),
            defn(sp.Derivative(T, _a), "definition"),
            rewrite(
                ((sp.exp(_a) + sp.exp(-_a)) ** 2 - (sp.exp(_a) - sp.exp(-_a)) ** 2)
                / (sp.exp(_a) + sp.exp(-_a)) ** 2,
                "quotient rule",
            ),
            rewrite(1 - T**2, "split the fraction"),
            defn(1 - Tanh(_a) ** 2, "definition"),
        ],
        definitions={Tanh(_a): T},
    )

    def th_true(P):
        return P["f"].applyfunc(lambda v: 1 - v**2)

    tanh_lemma = _lemma(
        "tanh_derivative_is_one_minus_tanh_squared",
        "tanh's derivative is 1 − tanh²",
        [Claim(1 - Tanh(_a) ** 2, th, sp.Derivative(Tanh(_a), _a), ())],
        [],
        "a real scalar (each entry of a matrix of any size)",
        _deriv_variants(
            T,
            "log",
            th_true,
            [
                (
                    "one_plus_tanh_squared",
                    "tanh' = 1 + tanh² (sign)",
                    lambda P: P["f"].applyfunc(lambda v: 1 + v**2),
                ),
                (
                    "one_minus_tanh",
                    "tanh' = 1 − tanh (square forgotten)",
                    lambda P: P["f"].applyfunc(lambda v: 1 - v),
                ),
                (
                    "a_for_tanh",
                    "tanh' = 1 − a² (the input for the output)",
                    lambda P: sp.Matrix([1 - v**2 for v in P["points"]]),
                ),
            ],
        ),
        numeric_function="tanh_jvp",
    )
    return [leaky, sigmoid_lemma, tanh_lemma]


@functools.lru_cache(maxsize=1)
def activation_derivatives() -> tuple[LayerIdentity, ...]:
    r"""The derivatives of leaky ReLU, the sigmoid and tanh, each from its definition.

    Proved for a real scalar :math:`a` (so for every entry of a matrix of any size):
    leaky ReLU on :math:`a > 0` and on :math:`a < 0` separately, and its value at the kink
    fixed by convention (:math:`\alpha`); the sigmoid and tanh for every real :math:`a`.
    """
    return tuple(_activation_derivative_lemmas())


# --------------------------------------------------------------------------- recursion theorem

L = _size("L")
n_prev, n_l, n_L = _size("n_{l-1}"), _size("n_{l}"), _size("n_{L}")


@dataclass(eq=False, repr=False)  # the engine's short repr, not every chain
class Induction(LayerIdentity):
    r"""A theorem proved by induction downward on the layer :math:`l`.

    ``base`` proves :math:`P(L)`; ``step`` proves :math:`P(l) \Rightarrow P(l-1)` for
    :math:`2 \le l \le L`; ``consequences`` prove, from :math:`P(l)`, the gradients of
    layer :math:`l`. Each is a :class:`Claim` whose chain SymPy checks and whose displayed
    equation is tied to the chain's two ends. That :math:`P(L)` and the step give
    :math:`P(l)` for every :math:`l` is the principle of induction, not a computation.
    """

    hypothesis: str = ""
    base: list = field(default_factory=list)
    step: list = field(default_factory=list)
    consequences: list = field(default_factory=list)


def _base_claim() -> Claim:
    a, d, y = (sp.MatrixSymbol(v, n_L, N) for v in ("a_{L}", "d", "y"))
    kd = sp.KroneckerDelta
    lse = sp.log(sp.Sum(sp.exp(a[t, q]), (t, 0, n_L - 1)))
    E_def = -sp.Sum(d[p, q] * (a[p, q] - lse), (p, 0, n_L - 1), (q, 0, N - 1))
    y_rs = sp.exp(a[r, s]) / sp.Sum(sp.exp(a[t, s]), (t, 0, n_L - 1))
    total = sp.Sum(d[p, s], (p, 0, n_L - 1))
    chain = IndexedChain(
        "base case $l = L$: entry $(r, s)$, symbolic $n_L$ and $N$",
        [
            defn(sp.Derivative(E, a[r, s]), ""),
            defn(
                sp.Derivative(E_def, a[r, s]),
                "definition: $E = -\\sum_{p,q} d_{p,q} \\log y_{p,q}$, "
                "$\\log y_{p,q} = a_{p,q} - \\log \\sum_t e^{a_{t,q}}$",
            ),
            rewrite(
                -sp.Sum(
                    d[p, q]
                    * (
                        kd(p, r, (0, n_L - 1)) * kd(q, s, (0, N - 1))
                        - sp.Sum(
                            sp.exp(a[t, q]) * kd(t, r, (0, n_L - 1)) * kd(q, s, (0, N - 1)), (t, 0, n_L - 1)
                        )
                        / sp.Sum(sp.exp(a[t, q]), (t, 0, n_L - 1))
                    ),
                    (p, 0, n_L - 1),
                    (q, 0, N - 1),
                ),
                "differentiate each term",
            ),
            rewrite(y_rs * total - d[r, s], "the brackets keep $p = r$, $q = s$, $t = r$"),
            rewrite(y_rs - d[r, s], "assumption: each column of $d$ sums to 1"),
            defn(
                MatrixElement(sp.MatAdd(y, -d, evaluate=False), r, s),
                "definition of the softmax $y = g(a_L)$",
            ),
        ],
        definitions={sp.Derivative(E, a[r, s]): sp.Derivative(E_def, a[r, s]), y[r, s]: y_rs},
        assumptions={total: 1, _canonical(total): 1},
        hypotheses={sp.Q.real_elements(a): True},  # stated: the logits are real
    )
    return Claim(sp.MatAdd(y, -d, evaluate=False), chain, sp.Derivative(E, a[r, s]))


def _step_claims() -> list[Claim]:
    W = sp.MatrixSymbol("W_{l}", n_l, n_prev)
    h = sp.MatrixSymbol("h_{l-1}", n_prev, N)
    a_prev = sp.MatrixSymbol("a_{l-1}", n_prev, N)
    a_l = sp.MatrixSymbol("a_{l}", n_l, N)
    b = sp.MatrixSymbol("b_{l}", n_l, 1)
    delta = sp.MatrixSymbol(r"\delta_{l}", n_l, N)
    kd = sp.KroneckerDelta
    dh = sp.MatrixSymbol(r"\frac{\partial E}{\partial h_{l-1}}", n_prev, N)
    u, v = _int("u"), _int("v")

    def d_sigma(i, j):  # the entry h_{l-1}[i, j] = sigma(a_{l-1}[i, j]), differentiated by a_{l-1}[r, s]
        return sp.Derivative(sigma(a_prev[i, j]), a_prev[r, s])

    def over_pq(term):
        return sp.Sum(term, (p, 0, n_prev - 1), (q, 0, N - 1))

    through_h = over_pq(dh[p, q] * d_sigma(p, q))
    through_a = sp.Sum(delta[u, v] * sp.Derivative(a_l[u, v], h[p, q]), (u, 0, n_l - 1), (v, 0, N - 1))
    lin = W.T * delta
    chain = IndexedChain(
        "inductive step $P(l) \\Rightarrow P(l-1)$, $2 \\le l \\le L$: entry $(r, s)$, "
        "symbolic $n_{l-1}, n_l, N$",
        [
            defn(sp.Derivative(E, a_prev[r, s]), ""),
            defn(
                through_h,
                "chain rule: $E$ depends on $a_{l-1}$ only through $h_{l-1} = \\sigma(a_{l-1})$",
            ),
            defn(
                over_pq(through_a * d_sigma(p, q)),
                "chain rule: $E$ depends on $h_{l-1}$ only through $a_l$; "
                "$P(l)$, the induction hypothesis: $\\partial E / \\partial a_l = \\delta_l$",
            ),
            rewrite(
                over_pq(MatrixElement(lin, p, q) * d_sigma(p, q)),
                "differentiate $a_l = W_l h_{l-1} + b_l \\mathbb{1}^\\top$ (the linear layer lemma's "
                "$\\partial E / \\partial x = W^\\top \\delta$, derived here at layer $l$)",
            ),
            rewrite(
                over_pq(
                    MatrixElement(lin, p, q)
                    * sp.Derivative(sigma(a_prev[p, q]), a_prev[p, q])
                    * kd(p, r, (0, n_prev - 1))
                    * kd(q, s, (0, N - 1))
                ),
                "differentiate $\\sigma(a_{l-1})$ entry by entry",
            ),
            rewrite(
                sp.Derivative(sigma(a_prev[r, s]), a_prev[r, s])
                * sp.Sum(W[p, r] * delta[p, s], (p, 0, n_l - 1)),
                "activation lemma with $e = W_l^\\top \\delta_l$: the brackets keep $p = r$, $q = s$",
            ),
            defn(
                MatrixElement(sp.HadamardProduct(elementwise(derivative_of(sigma), a_prev), lin), r, s),
                "elementwise and matrix product",
            ),
        ],
        definitions={
            sp.Derivative(E, a_prev[r, s]): through_h,
            dh[p, q]: through_a,
            a_l: W * h + b * _ones_row(N),
        },
    )
    return [
        Claim(
            sp.HadamardProduct(elementwise(derivative_of(sigma), a_prev), lin),
            chain,
            sp.Derivative(E, a_prev[r, s]),
            premise="P(l)",
        )
    ]


def _consequence_claims() -> list[Claim]:
    W = sp.MatrixSymbol("W_{l}", n_l, n_prev)
    h = sp.MatrixSymbol("h_{l-1}", n_prev, N)
    b = sp.MatrixSymbol("b_{l}", n_l, 1)
    delta = sp.MatrixSymbol(r"\delta_{l}", n_l, N)
    a_l = sp.MatrixSymbol("a_{l}", n_l, N)
    claims = _linear_claims(W, h, b, delta, a_l, n_l, n_prev, N, layer="$P(l)$")[:2]
    for c in claims:
        c.premise = "P(l)"
        c.chain.title = c.chain.title.replace(
            "symbolic sizes", "$1 \\le l \\le L$, symbolic $n_{l-1}, n_l, N$"
        )
    return claims


# --- concrete instance of one hidden layer inside a network, for the variants


def _network_instance(rng: random.Random) -> dict:
    r"""Layer :math:`l = 2` of a 3-layer network, all widths and the batch 3, at a rational point.

    :math:`a_1` is free, :math:`h_1 = \sigma(a_1)`, :math:`a_2 = W_2 h_1 + b_2`,
    :math:`h_2 = \sigma(a_2)`, :math:`a_3 = W_3 h_2 + b_3`, :math:`E` a nonlinear
    polynomial of :math:`a_3`; :math:`\sigma` the polynomial stand-in.
    """
    k = SQUARE
    a1, W2, b2, W3, b3 = (
        _rmat(rng, k, k),
        _rmat(rng, k, k),
        _rmat(rng, k, 1),
        _rmat(rng, k, k),
        _rmat(rng, k, 1),
    )
    top = _test_loss(rng, k, k)
    ones = sp.ones(1, k)

    def from_a2(a2):  # intermediate results truncated to first order in epsilon, to keep them small
        return top(_first_order(W3 * _first_order(a2.applyfunc(_test_sigma)) + b3 * ones))

    def a2_of(a1_, W2_, b2_):
        return _first_order(W2_ * _first_order(a1_.applyfunc(_test_sigma)) + b2_ * ones)

    h1 = a1.applyfunc(_test_sigma)
    a2 = a2_of(a1, W2, b2)
    return dict(
        a1=a1,
        h1=h1,
        W2=W2,
        one=sp.ones(k, 1),
        sp_a1=a1.applyfunc(_test_sigma_prime),
        sp_a2=a2.applyfunc(_test_sigma_prime),
        sp_h1=h1.applyfunc(_test_sigma_prime),
        delta2=_gradient(from_a2, a2),
        delta1=_gradient(lambda V: from_a2(a2_of(V, W2, b2)), a1),
        dW2=_gradient(lambda V: from_a2(a2_of(a1, V, b2)), W2),
        db2=_gradient(lambda V: from_a2(a2_of(a1, W2, V)), b2),
    )


def _output_instance(rng: random.Random) -> dict:
    r"""The output layer at :math:`a_L = \log u` (u rational), so softmax and its derivative are exact."""
    k = SQUARE
    u = sp.Matrix(k, k, lambda *_: sp.Rational(rng.randint(1, 9), rng.randint(1, 9)))
    d = sp.zeros(k, k)
    for c in range(k):
        d[rng.randrange(k), c] = 1
    eps = sp.Symbol("epsilon")

    def loss(U):  # U = exp(a_L), entry by entry
        return -sum(d[i, c] * sp.log(U[i, c] / sum(U[:, c])) for i in range(k) for c in range(k))

    grad = sp.zeros(k, k)
    for idx in range(k * k):
        U = sp.Matrix(u)
        U[idx] = u[idx] * sp.exp(eps)
        grad[idx] = sp.simplify(sp.diff(loss(U), eps).subs(eps, 0))
    y = sp.Matrix(k, k, lambda i, c: u[i, c] / sum(u[:, c]))
    return dict(y=y, d=d, a=u.applyfunc(sp.log), deltaL=grad)


def _recursion_variants() -> list[PointVariant]:
    hid = (
        f"layer 2 of a 3-layer network, widths and batch {SQUARE}, σ(t) = t + t²/2 − t³/3, "
        "E a polynomial of a_3"
    )
    out = f"n_L = N = {SQUARE}, one-hot d, a_L = log u with u rational"
    net, outp = _network_instance, _output_instance

    def step(P):
        return P["sp_a1"].multiply_elementwise(P["W2"].T * P["delta2"])

    def gW(P):
        return P["delta2"] * P["h1"].T

    def gb(P):
        return P["delta2"] * P["one"]

    def base(P):
        return P["y"] - P["d"]

    return [
        _variant(
            "base_d_minus_y", "δ_L = d − y (sign)", "deltaL", base, lambda P: P["d"] - P["y"], out, outp
        ),
        _variant(
            "base_logits_minus_d",
            "δ_L = a_L − d (logits for probabilities)",
            "deltaL",
            base,
            lambda P: P["a"] - P["d"],
            out,
            outp,
        ),
        _variant(
            "base_minus_d_over_y",
            "δ_L = −d / y (the gradient with respect to y, J forgotten)",
            "deltaL",
            base,
            lambda P: -P["d"].multiply_elementwise(P["y"].applyfunc(lambda v: 1 / v)),
            out,
            outp,
        ),
        _variant(
            "step_missing_transpose",
            "δ_{l−1} = σ'(a_{l−1}) ⊙ W_l δ_l (missing transpose)",
            "delta1",
            step,
            lambda P: P["sp_a1"].multiply_elementwise(P["W2"] * P["delta2"]),
            hid,
            net,
        ),
        _variant(
            "step_missing_sigma_prime",
            "δ_{l−1} = W_lᵀ δ_l (σ' forgotten)",
            "delta1",
            step,
            lambda P: P["W2"].T * P["delta2"],
            hid,
            net,
        ),
        _variant(
            "step_sigma_prime_of_next_layer",
            "δ_{l−1} = σ'(a_l) ⊙ W_lᵀ δ_l (σ' of the wrong layer)",
            "delta1",
            step,
            lambda P: P["sp_a2"].multiply_elementwise(P["W2"].T * P["delta2"]),
            hid,
            net,
        ),
        _variant(
            "step_sigma_prime_at_h",
            "δ_{l−1} = σ'(h_{l−1}) ⊙ W_lᵀ δ_l (h for a)",
            "delta1",
            step,
            lambda P: P["sp_h1"].multiply_elementwise(P["W2"].T * P["delta2"]),
            hid,
            net,
        ),
        _variant(
            "nabla_W_a_for_h",
            "∇W_l = δ_l a_{l−1}ᵀ (a for h)",
            "dW2",
            gW,
            lambda P: P["delta2"] * P["a1"].T,
            hid,
            net,
        ),
        _variant(
            "nabla_W_transposed",
            "∇W_l = h_{l−1} δ_lᵀ (transposed)",
            "dW2",
            gW,
            lambda P: P["h1"] * P["delta2"].T,
            hid,
            net,
        ),
        _variant(
            "nabla_b_wrong_axis",
            "∇b_l = δ_lᵀ 1 (sum over the wrong axis)",
            "db2",
            gb,
            lambda P: P["delta2"].T * P["one"],
            hid,
            net,
        ),
    ]


@functools.lru_cache(maxsize=1)
def recursion_theorem() -> Induction:
    r"""Backprop's recursion for :math:`L` layers, :math:`L` symbolic, as an induction on :math:`l`.

    :math:`P(l)`: :math:`\partial E/\partial a_l = \delta_l` with :math:`\delta_L = y - d` and
    :math:`\delta_{l-1} = \sigma'(a_{l-1}) \odot W_l^\top\delta_l`.

    * Base case :math:`P(L)`: proved from the definition of the summed cross-entropy of the
      softmax, for symbolic class count :math:`n_L` and batch :math:`N`, each column of
      :math:`d` summing to 1 (identity 6 of :mod:`backproof.symbolic` proves the same per
      column as :math:`J^\top(-d/y) = y - d`).
    * Inductive step :math:`P(l) \Rightarrow P(l-1)`, :math:`2 \le l \le L`: the chain rule
      through :math:`h_{l-1}`, the linear layer lemma (:math:`\partial E/\partial h_{l-1} =
      W_l^\top\delta_l`) and the activation lemma, for symbolic :math:`n_{l-1}, n_l, N` and
      any differentiable :math:`\sigma`.
    * Consequences, for :math:`1 \le l \le L` given :math:`P(l)` (with :math:`h_0 = x`):
      :math:`\nabla_{W_l} = \delta_l h_{l-1}^\top`, :math:`\nabla_{b_l} = \delta_l\mathbb{1}`,
      the linear layer lemma at layer :math:`l`, symbolic :math:`n_{l-1}, n_l, N`.

    By induction, :math:`P(l)` holds for every :math:`1 \le l \le L`, for every :math:`L \ge 1`
    and all widths. For ReLU and leaky ReLU, :math:`\sigma'` at the kink is the convention
    of identity 7 and :func:`activation_derivatives`: there the result is the gradient on
    each linear region, not a derivative at the kink.
    """
    base, step, consequences = [_base_claim()], _step_claims(), _consequence_claims()
    claims = [*base, *step, *consequences]
    name = "backprop_recursion_for_any_depth"
    return Induction(
        name,
        "The recursion theorem: ∂E/∂a_l = δ_l for every layer l, "
        "where δ_L := y − d and δ_{l−1} := σ'(a_{l−1}) ⊙ W_lᵀ δ_l",
        [c.chain for c in claims],
        assumptions=[
            "$\\delta_L := y - d$ and $\\delta_{l-1} := \\sigma'(a_{l-1}) \\odot W_l^\\top \\delta_l$ "
            "(the recursion defines $\\delta_l$); $P(l)$: $\\partial E / \\partial a_l = \\delta_l$; "
            "by induction from $l = L$ down, $P(l)$ holds for $1 \\le l \\le L$",
            "$h_0 = x$, $a_l = W_l h_{l-1} + b_l \\mathbb{1}^\\top$, $h_l = \\sigma(a_l)$ for $l < L$, "
            "$y = g(a_L)$; $E$ depends on $h_{l-1}$ only through $a_l$ (the network's structure)",
            "$E = -\\sum_{p,q} d_{p,q} \\log y_{p,q}$ summed over the batch; each column of $d$ sums to 1",
            "$\\sigma$ differentiable (ReLU, leaky ReLU: on each linear region; the kink by convention)",
        ],
        variants=_recursion_variants(),  # type: ignore[arg-type]  # PointVariant plays the role of Variant for layer identities (same refute protocol)
        checks=[*_checks(name), *_kernel_checks(name)],
        implements="backprop",
        necessity=_base_case_needs_the_assumption,
        claims=claims,
        size_note="symbolic L, widths n_0 … n_L and batch N (every depth and size)",
        hypothesis="$P(l)$: $\\partial E / \\partial a_l = \\delta_l$",
        base=base,
        step=step,
        consequences=consequences,
    )


def _base_case_needs_the_assumption() -> bool:
    r"""``True`` when a point refutes the base case without "each column of d sums to 1".

    :math:`n_L = 2`, one sample, :math:`d = (2, 0)` and :math:`a_L = (0, \log 2)`: SymPy's
    :math:`\partial E/\partial a_L` is :math:`y \sum_k d_k - d = (-4/3, 4/3)`, not
    :math:`y - d = (-5/3, 2/3)`.
    """
    a0, a1 = sp.symbols("a0 a1", real=True)
    d = (2, 0)
    lse = sp.log(sp.exp(a0) + sp.exp(a1))
    E_ = -(d[0] * (a0 - lse) + d[1] * (a1 - lse))
    point = {a0: 0, a1: sp.log(2)}
    grad = sp.Matrix([sp.diff(E_, v).subs(point) for v in (a0, a1)])
    y = sp.Matrix([sp.exp(v) for v in (a0, a1)]).subs(point) / (sp.exp(a0) + sp.exp(a1)).subs(point)
    return _provably_different(grad, y - sp.Matrix(d))


# --------------------------------------------------------------------------- the chain rule, concretely


def chain_rule_chain(rows: int = 2, inner: int = 2, batch: int = 2) -> IndexedChain:
    r"""The chain-rule step of the linear layer lemma, checked by SymPy at one concrete size.

    For an undefined function :math:`E` of all :math:`m N` entries of :math:`a = W x + b\mathbb{1}^\top`,
    SymPy's own derivative :math:`\partial E(a(W))/\partial W_{r,s}` equals
    :math:`\sum_{p,q} \partial E/\partial a_{p,q}\,\partial a_{p,q}/\partial W_{r,s}` for every
    :math:`(r, s)`. Sizes ``rows, inner, batch`` (default :math:`m = n = N = 2`) only.
    """
    W = sp.Matrix(rows, inner, lambda i, j: sp.Symbol(f"W_{i}{j}", real=True))
    x = sp.Matrix(inner, batch, lambda i, j: sp.Symbol(f"x_{i}{j}", real=True))
    b = sp.Matrix(rows, 1, lambda i, j: sp.Symbol(f"b_{i}", real=True))
    A = sp.Matrix(rows, batch, lambda i, j: sp.Symbol(f"a_{i}{j}", real=True))
    Ef = sp.Function("E")(*A)
    a = W * x + b * sp.ones(1, batch)
    at = dict(zip(A, a))
    composed = Ef.subs(at, simultaneous=True)
    dE = [sp.Derivative(Ef, v) for v in A]
    lhs = W.applyfunc(lambda w: sp.Derivative(composed, w))
    rhs = W.applyfunc(
        lambda w: sum(dE[k].subs(at, simultaneous=True) * sp.diff(a[k], w) for k in range(len(A)))
    )
    return IndexedChain(
        "the chain-rule step, for an undefined $E$ of all entries of $a$ "
        f"($m = {rows}, n = {inner}, N = {batch}$)",
        [
            Step(lhs),
            rewrite(
                rhs,
                "chain rule: $\\sum_{p,q} \\partial E / \\partial a_{p,q} "
                "\\cdot \\partial a_{p,q} / \\partial W_{r,s}$",
            ),
        ],
        size=f"m = {rows}, n = {inner}, N = {batch}",
        show_latex=False,
    )


# --------------------------------------------------------------------------- the 3-layer cross-check


class SigmaPrimeOf(sp.Function):
    r""":math:`\sigma'(a_l)`, a display head; a Link gives its meaning (:math:`\sigma'` at each entry)."""

    def _latex(self, printer, exp=None):
        return rf"\sigma'\left({printer._print(self.args[0])}\right)"


THREE_LAYER_SIZES = (3, 2, 2, 3)  # n_0 .. n_3: two hidden layers, 3 classes
THREE_LAYER_LABEL = 0  # the batch is one sample, of class 0


@functools.lru_cache(maxsize=1)
def three_layer_network() -> dict:
    r"""SymPy's explicit 3-layer network (3 → 2 → 2 → 3, one sample), activation an undefined :math:`\sigma`.

    Returns the parameters ``W1, b1, ..., W3, b3``, ``x``, ``d``, the pre-activations ``a`` and
    activations ``h`` (lists, ``h[0] = x``), ``y``, the recursion's ``delta`` and ``sigma_prime``
    (dicts by layer), backprop's formulas ``backprop`` and SymPy's derivatives ``dE`` of the loss
    :math:`E = -\sum_k d_k \log y_k` (by layer name).
    """
    sizes, N = THREE_LAYER_SIZES, 1
    L = len(sizes) - 1
    W = [
        sp.Matrix(sizes[k + 1], sizes[k], lambda i, j, k=k: sp.Symbol(f"w{k + 1}_{i}{j}", real=True))
        for k in range(L)
    ]
    b = [
        sp.Matrix(sizes[k + 1], 1, lambda i, j, k=k: sp.Symbol(f"b{k + 1}_{i}", real=True)) for k in range(L)
    ]
    x = sp.Matrix(sizes[0], N, lambda i, j: sp.Symbol(f"x_{i}{j}", real=True))
    d = sp.Matrix(sizes[-1], N, lambda i, j: 1 if i == THREE_LAYER_LABEL else 0)
    hs, acts = [x], []
    for k in range(L):
        acts.append(W[k] * hs[-1] + b[k] * sp.ones(1, N))
        if k < L - 1:
            hs.append(acts[-1].applyfunc(sigma))
    top = acts[-1]
    lse = sp.log(sum(sp.exp(top[i, 0]) for i in range(sizes[-1])))
    E = -sum(d[i, 0] * (top[i, 0] - lse) for i in range(sizes[-1]))
    total = sum(sp.exp(top[i, 0]) for i in range(sizes[-1]))
    y = top.applyfunc(lambda v: sp.exp(v) / total)
    deltas, primes, backprop = {L: y - d}, {}, {}
    for k in range(L, 0, -1):
        backprop[f"W{k}"] = deltas[k] * hs[k - 1].T
        backprop[f"b{k}"] = deltas[k] * sp.ones(N, 1)
        if k > 1:
            primes[k - 1] = acts[k - 2].applyfunc(lambda v: sp.Subs(sp.Derivative(sigma(_u), _u), _u, v))
            deltas[k - 1] = primes[k - 1].multiply_elementwise(W[k - 1].T * deltas[k])
    params = {}
    for k in range(L):
        params[f"W{k + 1}"], params[f"b{k + 1}"] = W[k], b[k]
    dE = {key: P.applyfunc(lambda p_: sp.diff(E, p_)) for key, P in params.items()}
    return dict(
        params=params, x=x, d=d, a=acts, h=hs, y=y, delta=deltas, sigma_prime=primes, backprop=backprop, dE=dE
    )


def _three_layer_identity() -> Identity:
    from .engine import Link, Variant
    from .notation import Had, nc

    net = three_layer_network()
    size = "n = 3, 2, 2, 3; N = 1"
    order = ("W3", "b3", "W2", "b2", "W1", "b1")
    grads = {
        key: Chain(
            f"$\\partial E / \\partial {key[0]}_{key[1]}$ for 3 → 2 → 2 → 3, one sample, any $\\sigma$",
            [
                Step(net["dE"][key]),
                rewrite(net["backprop"][key], "SymPy differentiates; backprop's formula")
                if net["dE"][key] != net["backprop"][key]
                else defn(net["backprop"][key], "SymPy's derivative is backprop's formula as it stands"),
            ],
            size=size,
            show_latex=False,
        )
        for key in order
    }
    dl = {k: nc(rf"\delta_{k}") for k in (1, 2, 3)}
    Wt = {k: nc(rf"W_{k}^{{\top}}") for k in (2, 3)}
    hT = {k: nc(rf"h_{k}^{{\top}}") for k in (1, 2)}
    xT, y, d, one = nc(r"x^{\top}", "y", "d", r"\mathbf{1}")
    SP = SigmaPrimeOf
    a_ = {k: nc(f"a_{k}") for k in (1, 2)}
    nab = {key: sp.Symbol(rf"\nabla_{{{key[0]}_{key[1]}}}", commutative=False) for key in order}
    P = net["params"]
    meaning = {
        y: net["y"],
        d: net["d"],
        one: sp.ones(1, 1),
        xT: net["x"].T,
        **{dl[k]: net["delta"][k] for k in dl},
        **{Wt[k]: P[f"W{k}"].T for k in Wt},
        **{hT[k]: net["h"][k].T for k in hT},
        **{SP(a_[k]): net["sigma_prime"][k] for k in a_},
        **{nab[key]: net["dE"][key] for key in order},
    }
    deltas = {
        k: Chain(
            f"the recursion, $\\delta_{k}$",
            [
                Step(net["delta"][k]),
                defn(
                    net["y"] - net["d"]
                    if k == 3
                    else net["sigma_prime"][k].multiply_elementwise(P[f"W{k + 1}"].T * net["delta"][k + 1]),
                    f"definition of $\\delta_{k}$",
                ),
            ],
            size=size,
            show_latex=False,
        )
        for k in (3, 2, 1)
    }
    eqs: list = []
    links: list = []

    def add(eq, chain):
        links.append(Link(chain.title, meaning, len(eqs)))
        eqs.append(eq)

    add(sp.Eq(dl[3], sp.Add(y, -d, evaluate=False), evaluate=False), deltas[3])
    for k, below in ((3, hT[2]), (2, hT[1]), (1, xT)):
        if k < 3:
            add(sp.Eq(dl[k], Had(SP(a_[k]), Wt[k + 1] * dl[k + 1]), evaluate=False), deltas[k])
        add(sp.Eq(nab[f"W{k}"], dl[k] * below, evaluate=False), grads[f"W{k}"])
        add(sp.Eq(nab[f"b{k}"], dl[k] * one, evaluate=False), grads[f"b{k}"])
    h1, a1, W2 = net["h"][1], net["a"][0], P["W2"]
    variants = [
        Variant("a_for_h", "∇W_2 = δ_2 a_1ᵀ (a in place of h)", net["delta"][2] * a1.T, grads["W2"].title),
        Variant("transposed_gradient", "∇W_2 = h_1 δ_2ᵀ", h1 * net["delta"][2].T, grads["W2"].title),
        Variant(
            "missing_transpose",
            "δ_1 = σ'(a_1) ⊙ W_2 δ_2 (W_2 not transposed)",
            net["sigma_prime"][1].multiply_elementwise(W2 * net["delta"][2]) * net["x"].T,
            grads["W1"].title,
        ),
        Variant(
            "missing_sigma_prime",
            "δ_1 = W_2ᵀ δ_2 (σ' forgotten)",
            (W2.T * net["delta"][2]) * net["x"].T,
            grads["W1"].title,
        ),
    ]
    name = "three_layer_backprop_equals_sympy_gradient"
    return Identity(
        name,
        "Backprop through a whole 3-layer network (two hidden layers) equals SymPy's derivatives",
        [*(grads[key] for key in order), *(deltas[k] for k in (3, 2, 1))],
        statement=sp.Tuple(*eqs),
        links=links,
        assumptions=["$\\sigma$ any differentiable function (an undefined SymPy function)", "one sample"],
        variants=variants,
        checks=_checks(name),
        implements="backprop",
    )


# --------------------------------------------------------------------------- registry


@functools.lru_cache(maxsize=1)
def layer_identities() -> tuple:
    r"""Every identity of this module: the two lemmas, three derivatives, the recursion theorem."""
    return (linear_layer_lemma(), activation_lemma(), *activation_derivatives(), recursion_theorem())


def layer_identity(name: str):
    r"""The identity of this module called ``name``."""
    for ident in layer_identities():
        if ident.name == name:
            return ident
    names = ", ".join(x.name for x in layer_identities())
    raise KeyError(f"no layer identity {name!r}; they are: {names}")


# Catalogue numbers 20+ (the layers' block); the factories return the cached objects.
register(linear_layer_lemma, order=20)
register(activation_lemma, order=21)
for _order, _q in ((22, 0), (23, 1), (24, 2)):
    register(lambda q=_q: activation_derivatives()[q], order=_order)  # type: ignore[misc]  # the default argument binds q; mypy cannot infer a lambda in a loop
register(recursion_theorem, order=25)
register(_three_layer_identity, order=26)
