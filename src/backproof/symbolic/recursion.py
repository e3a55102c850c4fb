r"""Backprop's recursion for a network of :math:`L` layers, as an induction downward on the layer.

:math:`h_0 = x`, :math:`a_l = W_l h_{l-1} + b_l\mathbb{1}^\top`, :math:`h_l = \sigma(a_l)` for
:math:`l < L`, :math:`y = g(a_L)` (softmax per column) and :math:`E = -\sum_{p,q} d_{p,q}
\log y_{p,q}` summed over the batch, each column of :math:`d` summing to 1. With
:math:`\delta_l = \partial E/\partial a_l`: :math:`\delta_L = y - d`;
:math:`\delta_{l-1} = \sigma'(a_{l-1}) \odot W_l^\top \delta_l` for :math:`2 \le l \le L`;
:math:`\nabla_{W_l} = \delta_l h_{l-1}^\top`, :math:`\nabla_{b_l} = \delta_l \mathbb{1}` for
:math:`1 \le l \le L` (:func:`recursion_theorem`).

Non-goals: losses other than softmax cross-entropy.
"""

from __future__ import annotations

import functools
import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .chain_rule import chain_rule_chain
from .indexed import Claim, IndexedChain, LayerIdentity, _canonical, _checks, _kernel_checks, defn, rewrite
from .layer_lemmas import _linear_claims
from .point_refutation import (
    SQUARE,
    PointVariant,
    _first_order,
    _gradient,
    _provably_different,
    _rmat,
    _test_loss,
    _test_sigma,
    _test_sigma_prime,
    _variant,
)
from .rules import CHAIN_RULE, INDUCTION_HYPOTHESIS, INDUCTION_PRINCIPLE, NETWORK_STRUCTURE, cite
from .symbols import (
    E,
    L,
    N,
    _int,
    _ones_row,
    derivative_of,
    elementwise,
    p,
    q,
    r,
    s,
    sigma,
    t,
)

# --------------------------------------------------------------------------- the layer index l

#: The layer index and the depth: :math:`1 \le l \le L`.
l = sp.Symbol("l", integer=True, positive=True)
#: The width of layer :math:`k`: :math:`n(k)` (:math:`n(0)` inputs, :math:`n(L)` classes).
width = sp.Function("n", integer=True, positive=True)
n_prev, n_l, n_L = width(l - 1), width(l), width(L)
u, v = _int("u"), _int("v")


class LayerMatrix(sp.MatrixSymbol):
    r"""The matrix ``name`` of layer ``layer``, such as :math:`a_{l-1}` (``layer`` in :math:`l, L`).

    The layer is an argument, so substituting :math:`l \to l - 1` or :math:`l \to L` in an
    expression maps :math:`a_l` to :math:`a_{l-1}` or :math:`a_L` (and :math:`n(l)` to
    :math:`n(l-1)`): this is how the induction's base case and step are checked by substitution.
    """

    def __new__(cls, name, rows, cols, layer):
        obj = super().__new__(cls, name, rows, cols)
        obj._args = (*obj.args[:3], sp.sympify(layer))
        return obj

    @property
    def layer(self):
        return self.args[3]

    def doit(self, **hints):
        return self

    @property
    def free_symbols(self):
        return {self} | self.layer.free_symbols

    def _latex(self, printer):
        return f"{self.name}_{{{printer._print(self.layer)}}}"


def layer(name: str, k, rows, cols) -> LayerMatrix:
    return LayerMatrix(name, rows, cols, k)


def a_(k):
    return layer("a", k, width(k), N)


def h_(k):
    return layer("h", k, width(k), N)


def W_(k):
    return layer("W", k, width(k), width(k - 1))


def b_(k):
    return layer("b", k, width(k), 1)


def delta_(k):
    return layer(r"\delta", k, width(k), N)


def P(k):
    r""":math:`P(k)`, entry :math:`(r, s)`: :math:`\partial E/\partial (a_k)_{r,s} = (\delta_k)_{r,s}`.

    An expression in ``k``: ``P(l)``, ``P(L)`` and ``P(l - 1)`` are made by substitution.
    """
    return sp.Eq(sp.Derivative(E, a_(k)[r, s]), delta_(k)[r, s], evaluate=False)


def _base_claim() -> Claim:
    a, d, y = a_(L), sp.MatrixSymbol("d", n_L, N), sp.MatrixSymbol("y", n_L, N)
    kd = sp.KroneckerDelta
    S_q = sp.Sum(sp.exp(a[t, q]), (t, 0, n_L - 1))
    E_y = -sp.Sum(d[p, q] * sp.log(sp.exp(a[p, q]) / S_q), (p, 0, n_L - 1), (q, 0, N - 1))  # y written out
    E_lse = -sp.Sum(d[p, q] * (a[p, q] - sp.log(S_q)), (p, 0, n_L - 1), (q, 0, N - 1))
    y_rs = sp.exp(a[r, s]) / sp.Sum(sp.exp(a[t, s]), (t, 0, n_L - 1))
    total = sp.Sum(d[p, s], (p, 0, n_L - 1))
    chain = IndexedChain(
        "base case $P(L)$: entry $(r, s)$, symbolic $L$, $n(L)$ and $N$",
        [
            defn(sp.Derivative(E, a[r, s]), ""),
            defn(
                sp.Derivative(E_y, a[r, s]),
                "definition: $E = -\\sum_{p,q} d_{p,q} \\log y_{p,q}$ with $y = g(a_L)$, "
                "$y_{p,q} = e^{a_{p,q}} / \\sum_t e^{a_{t,q}}$",
            ),
            rewrite(
                sp.Derivative(E_lse, a[r, s]),
                "$\\log y_{p,q} = a_{p,q} - \\log \\sum_t e^{a_{t,q}}$ (SymPy differentiates both forms)",
            ),
            rewrite(
                -sp.Sum(
                    d[p, q]
                    * (
                        kd(p, r, (0, n_L - 1)) * kd(q, s, (0, N - 1))
                        - sp.Sum(
                            sp.exp(a[t, q]) * kd(t, r, (0, n_L - 1)) * kd(q, s, (0, N - 1)), (t, 0, n_L - 1)
                        )
                        / S_q
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
            defn(delta_(L)[r, s], "definition: $\\delta_L := y - d$"),
        ],
        definitions={
            E: E_y,
            y[r, s]: y_rs,
            delta_(L): sp.MatAdd(y, -d, evaluate=False),
        },
        assumptions={total: 1, _canonical(total): 1},
        hypotheses={sp.Q.real_elements(a): True},  # stated: the logits are real
    )
    return Claim(delta_(L), chain, sp.Derivative(E, a[r, s]), condition=r"\delta_L := y - d")


def _step_claims() -> list[Claim]:
    W, h, a_prev, a_l, b, delta = W_(l), h_(l - 1), a_(l - 1), a_(l), b_(l), delta_(l)
    kd = sp.KroneckerDelta
    dh = sp.MatrixSymbol(r"\frac{\partial E}{\partial h_{l-1}}", n_prev, N)
    sigma_prime = sp.HadamardProduct(elementwise(derivative_of(sigma), a_prev), W.T * delta)

    def d_sigma(i, j):  # the entry h_{l-1}[i, j] = sigma(a_{l-1}[i, j]), differentiated by a_{l-1}[r, s]
        return sp.Derivative(sigma(a_prev[i, j]), a_prev[r, s])

    def over_pq(term):
        return sp.Sum(term, (p, 0, n_prev - 1), (q, 0, N - 1))

    through_h = over_pq(dh[p, q] * sp.Derivative(h[p, q], a_prev[r, s]))
    through_a = sp.Sum(
        sp.Derivative(E, a_l[u, v]) * sp.Derivative(a_l[u, v], h[p, q]), (u, 0, n_l - 1), (v, 0, N - 1)
    )
    hypothesis = (P(l).lhs.xreplace({r: u, s: v}), P(l).rhs.xreplace({r: u, s: v}))
    with_delta = through_a.xreplace(dict([hypothesis]))
    lin = W.T * delta
    chain = IndexedChain(
        "inductive step $P(l) \\Rightarrow P(l-1)$, $2 \\le l \\le L$: entry $(r, s)$, "
        "symbolic $n(l-1), n(l), N$",
        [
            defn(sp.Derivative(E, a_prev[r, s]), ""),
            cite(
                through_h,
                "chain rule: $E$ depends on $a_{l-1}$ only through $h_{l-1}$",
                [CHAIN_RULE, NETWORK_STRUCTURE],
                [(sp.Derivative(E, a_prev[r, s]), through_h)],
            ),
            cite(
                over_pq(dh[p, q] * d_sigma(p, q)),
                "the network: $h_{l-1} = \\sigma(a_{l-1})$ entry by entry",
                [NETWORK_STRUCTURE],
                [(h[p, q], sigma(a_prev[p, q]))],
            ),
            cite(
                over_pq(through_a * d_sigma(p, q)),
                "chain rule: $E$ depends on $h_{l-1}$ only through $a_l$",
                [CHAIN_RULE, NETWORK_STRUCTURE],
                [(dh[p, q], through_a)],
            ),
            cite(
                over_pq(with_delta * d_sigma(p, q)),
                "$P(l)$, the induction hypothesis: $\\partial E / \\partial a_l = \\delta_l$",
                [INDUCTION_HYPOTHESIS],
                [hypothesis],
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
            defn(MatrixElement(sigma_prime, r, s), "elementwise and matrix product"),
            defn(
                delta_(l - 1)[r, s],
                "definition: $\\delta_{l-1} := \\sigma'(a_{l-1}) \\odot W_l^\\top \\delta_l$",
            ),
        ],
        definitions={a_l: W * h + b * _ones_row(N), delta_(l - 1): sigma_prime},
    )
    return [
        Claim(
            delta_(l - 1),
            chain,
            sp.Derivative(E, a_prev[r, s]),
            premise="P(l)",
            condition=r"\delta_{l-1} := \sigma'(a_{l-1}) \odot W_l^\top \delta_l",
        )
    ]


def _consequence_claims() -> list[Claim]:
    W, h, b, delta, a = W_(l), h_(l - 1), b_(l), delta_(l), a_(l)
    claims = _linear_claims(
        W, h, b, delta, a, n_l, n_prev, N, layer="$P(l)$", rules=(CHAIN_RULE, INDUCTION_HYPOTHESIS)
    )[:2]
    for c in claims:
        c.premise = "P(l)"
        c.chain.title = c.chain.title.replace(
            "symbolic sizes", "$1 \\le l \\le L$, symbolic $n(l-1), n(l), N$"
        )
    return claims


@dataclass(eq=False, repr=False)  # the engine's short repr, not every chain
class Induction(LayerIdentity):
    r"""A theorem proved by induction downward on the layer index :math:`l`, :math:`1 \le l \le L`.

    ``predicate(k)`` is the statement :math:`P(k)` as a SymPy expression in ``k``. ``base``
    proves :math:`P(L)`; ``step`` proves :math:`P(l) \Rightarrow P(l-1)` for :math:`2 \le l \le L`;
    ``consequences`` prove, from :math:`P(l)`, the gradients of layer :math:`l`. Besides each
    chain, :meth:`induction_checks` checks by substitution that the base chain runs from
    :math:`P(l)|_{l=L}`'s left side to its right side, that the step chain runs from
    :math:`P(l)|_{l \to l-1}`'s left side to its right side, and that the only hypothesis the step
    substitutes is :math:`P(l)` itself (at other indices). That these give :math:`P(l)` for every
    :math:`l` is the induction principle, cited (:data:`~backproof.symbolic.rules.INDUCTION_PRINCIPLE`).
    """

    hypothesis: str = ""
    base: list = field(default_factory=list)
    step: list = field(default_factory=list)
    consequences: list = field(default_factory=list)
    predicate: Callable | None = None
    index: sp.Symbol = l
    depth: sp.Symbol = L
    cites: tuple = ()

    def induction_checks(self) -> dict[str, bool]:
        r"""The checks that make the chains an induction on :math:`l`, each by substitution."""
        assert self.predicate is not None
        Pl = self.predicate(self.index)
        at_L, at_prev = Pl.xreplace({self.index: self.depth}), Pl.xreplace({self.index: self.index - 1})
        base, step = self.base[0].chain, self.step[0].chain
        hyp_steps = [st for st in step.steps if INDUCTION_HYPOTHESIS in getattr(st, "rules", ())]
        uses = [pair for st in hyp_steps for pair in st.uses]
        free = {x for x in (r, s) if x in Pl.free_symbols}
        is_P_l = [
            any(lhs == Pl.lhs.xreplace(m) and rhs == Pl.rhs.xreplace(m) for m in _renamings(free, lhs))
            for lhs, rhs in uses
        ]
        return {
            "P(l) mentions l": self.index in Pl.free_symbols,
            "base case is P(l) at l = L": (base.steps[0].expr, base.steps[-1].expr) == (at_L.lhs, at_L.rhs),
            "step concludes P(l) at l - 1": (step.steps[0].expr, step.steps[-1].expr)
            == (at_prev.lhs, at_prev.rhs),
            "step assumes P(l), nothing else": bool(uses) and all(is_P_l),
            "base case mentions L": self.depth in _symbols_of(base),
            "step mentions l": self.index in _symbols_of(step),
        }

    def statement_checks(self) -> list[bool]:
        return [*super().statement_checks(), *self.induction_checks().values()]


def _symbols_of(chain) -> set:
    return set().union(*(sp.sympify(st.expr).free_symbols for st in chain.steps))


def _renamings(free: set, lhs) -> list[dict]:
    r"""Every renaming of the free indices of :math:`P` to the indices of ``lhs`` (at most 2 indices)."""
    found = sp.sympify(lhs).atoms(sp.Symbol)  # free_symbols would miss the indices of a derivative's variable
    idx = sorted((x for x in found if x.is_integer and x not in (l, L, N)), key=str)
    names = sorted(free, key=str)
    return [dict(zip(names, perm)) for perm in itertools.permutations(idx, len(names))] or [{}]


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
        [*(c.chain for c in claims), chain_rule_chain("linear"), chain_rule_chain("step")],
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
        size_note="symbolic l, L, widths n(0) … n(L) and batch N (every depth and size), from cited rules",
        hypothesis="$P(l)$: $\\partial E / \\partial a_l = \\delta_l$",
        base=base,
        step=step,
        consequences=consequences,
        predicate=P,
        cites=(INDUCTION_PRINCIPLE,),
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
