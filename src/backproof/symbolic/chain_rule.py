r"""The chain rule's instances in the layer proofs, checked by SymPy at every size up to 3.

The layer proofs cite the multivariable chain rule (:data:`~backproof.symbolic.rules.CHAIN_RULE`):
for :math:`E` differentiable and depending on :math:`X` only through :math:`u`,
:math:`\partial E/\partial X_{r,s} = \sum_{p,q} \partial E/\partial u_{p,q}\,
\partial u_{p,q}/\partial X_{r,s}`. SymPy does not derive it for symbolic sizes. Here each
instance the proofs use is checked at **every size from 1 to 3 in each dimension**: for an
undefined function :math:`E` of all entries of :math:`u`, SymPy's own derivative of the
composition :math:`E(u(X))` by each entry of :math:`X` must equal the rule's right side, with
:math:`\partial E/\partial u_k` at :math:`u(X)` and :math:`\partial u_k/\partial X_{r,s}` from
SymPy:

* ``"linear"``: :math:`u = a = W x + b\mathbb{1}^\top`, for :math:`X = W`, :math:`b` and
  :math:`x` (the linear layer lemma, and the gradients of :math:`W_l, b_l` in the recursion);
* ``"activation"``: :math:`u = h = \sigma(a)` entry by entry, :math:`\sigma` an undefined
  function, for :math:`X = a` (the activation lemma);
* ``"step"``: through :math:`h_{l-1} = \sigma(a_{l-1})` and then :math:`a_l = W_l h_{l-1} +
  b_l\mathbb{1}^\top`, for :math:`X = a_{l-1}` (the recursion's inductive step).

SymPy's derivative of :math:`E(u(X))` is a sum of terms :math:`\partial_k E` at :math:`u(X)`
(``Subs`` objects); each is matched to the partial derivative it is (argument :math:`k`, evaluated
exactly at :math:`u(X)`, checked) and the two sides are compared as polynomials. A rule with a stray
factor, a missing term or a transposed index fails (see the tests).

Non-goals: the chain rule for symbolic sizes (it stays cited there, and says so).
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import Callable

import sympy as sp

from .chain import Step
from .indexed import IndexedChain, rewrite
from .rules import CHAIN_RULE, CHAIN_RULE_SIZES

__all__ = ["INSTANCES", "chain_rule_chain", "chain_rule_holds", "check_instance"]

#: The instances the layer proofs use: their text, and the dimensions they range over.
INSTANCES = {
    "linear": ("through $a = W x + b \\mathbb{1}^\\top$, for $W$, $b$ and $x$", "m, n, N"),
    "activation": ("through $h = \\sigma(a)$ entry by entry, for $a$", "m, N"),
    "step": ("through $h_{l-1} = \\sigma(a_{l-1})$ and $a_l = W_l h_{l-1} + b_l \\mathbb{1}^\\top$, "
             "for $a_{l-1}$", "n_{l-1}, n_l, N"),
}  # fmt: skip


def _mat(name: str, rows: int, cols: int) -> sp.Matrix:
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i}{j}", real=True))


def _partials(expr, E, u: list, D: list):
    r"""``expr`` with each :math:`\partial_k E` at :math:`u` replaced by ``D[k]``; any other point is kept."""

    def is_partial(node) -> bool:
        inner = node.expr if isinstance(node, sp.Subs) else node
        return (
            isinstance(inner, sp.Derivative)
            and getattr(inner.expr, "func", None) == E
            and len(inner.variable_count) == 1
            and inner.variable_count[0][1] == 1
        )

    def as_symbol(node):
        inner, at = (
            (node.expr, dict(zip(node.variables, node.point))) if isinstance(node, sp.Subs) else (node, {})
        )
        args = list(inner.expr.args)
        k = args.index(inner.variables[0])
        if [arg.xreplace(at) for arg in args] != list(u):
            return node  # a derivative at another point: left as it is, so the comparison fails
        return D[k]

    return expr.replace(is_partial, as_symbol)


def chain_rule_holds(u: list, inputs: list, rule) -> bool:
    r"""Whether :math:`\partial E(u)/\partial w` equals ``rule(D, w)`` for every ``w`` in ``inputs``.

    ``u`` lists the inner expressions (functions of the inputs), :math:`E` is an undefined
    function of all of them and ``D[k]`` stands for :math:`\partial E/\partial u_k` at ``u``.
    """
    E = sp.Function("E")
    D = [sp.Symbol(f"D_{k}") for k in range(len(u))]
    composed = E(*u)
    for w in inputs:
        lhs = _partials(sp.diff(composed, w), E, u, D)
        if sp.expand(lhs - rule(D, w)) != 0:
            return False
    return True


def _linear(m: int, n: int, N: int, scale=1) -> bool:
    W, x, b = _mat("W", m, n), _mat("x", n, N), _mat("b", m, 1)
    u = list(W * x + b * sp.ones(1, N))

    def rule(D, w):  # sum over p, q of dE/da_pq * da_pq/dw
        return scale * sp.Add(*[D[k] * sp.diff(u[k], w) for k in range(len(u))])

    return chain_rule_holds(u, [*W, *b, *x], rule)


def _activation(m: int, N: int) -> bool:
    sigma = sp.Function("sigma")
    a = _mat("a", m, N)
    u = [sigma(v) for v in a]

    def rule(D, w):
        return sp.Add(*[D[k] * sp.diff(u[k], w) for k in range(len(u))])

    return chain_rule_holds(u, list(a), rule)


def _step(n_prev: int, n_l: int, N: int) -> bool:
    r"""Two instances in a row, as the inductive step applies them: through :math:`h_{l-1}`, then :math:`a_l`.

    ``n_prev, n_l, N``: the widths of layers :math:`l - 1` and :math:`l`, and the batch.
    """
    sigma = sp.Function("sigma")
    a_prev, h = _mat("a", n_prev, N), _mat("h", n_prev, N)
    W, b = _mat("W", n_l, n_prev), _mat("b", n_l, 1)
    a_l = W * h + b * sp.ones(1, N)
    at = {h[k]: sigma(a_prev[k]) for k in range(len(h))}
    u = [v.xreplace(at) for v in a_l]

    def rule(D, w):  # sum_pq (sum_uv delta_uv da_uv/dh_pq) dh_pq/dw, delta_uv = D_uv
        through_a = [sp.Add(*[D[k] * sp.diff(a_l[k], h[j]) for k in range(len(a_l))]) for j in range(len(h))]
        return sp.Add(*[through_a[j].xreplace(at) * sp.diff(sigma(a_prev[j]), w) for j in range(len(h))])

    return chain_rule_holds(u, list(a_prev), rule)


_CHECKS: dict[str, tuple[Callable[..., bool], int]] = {
    "linear": (_linear, 3),
    "activation": (_activation, 2),
    "step": (_step, 3),
}


@functools.cache
def check_instance(kind: str) -> tuple[bool, float]:
    r"""Whether instance ``kind`` holds at every size in :data:`CHAIN_RULE_SIZES`, and the seconds taken."""
    start = time.perf_counter()
    fn, dims = _CHECKS[kind]
    ok = all(fn(*sizes) for sizes in itertools.product(CHAIN_RULE_SIZES, repeat=dims))
    return ok, time.perf_counter() - start


class ChainRuleCheck(IndexedChain):
    r"""A chain whose one relation is an instance of the chain rule, checked at every size up to 3."""

    kind: str = "linear"

    def check(self) -> list[bool]:
        return [check_instance(self.kind)[0]]


def chain_rule_chain(kind: str = "linear") -> ChainRuleCheck:
    r"""The chain-rule instance ``kind`` (a key of :data:`INSTANCES`) as a chain of an identity.

    Shown with its symbolic form; checked (:meth:`ChainRuleCheck.check`) at every size up to 3 in
    each of its dimensions.
    """
    text, dims = INSTANCES[kind]
    top = max(CHAIN_RULE_SIZES)
    E, X, u, r, s, p, q = sp.symbols("E X u r s p q")
    chain = ChainRuleCheck(
        f"{CHAIN_RULE.name} {text}, checked at ${dims} \\le {top}$",
        [
            Step(sp.Derivative(E, sp.Indexed(X, r, s))),
            rewrite(
                sp.Sum(
                    sp.Derivative(E, sp.Indexed(u, p, q))
                    * sp.Derivative(sp.Indexed(u, p, q), sp.Indexed(X, r, s)),
                    (p, 0, sp.Symbol("P")),
                    (q, 0, sp.Symbol("Q")),
                ),
                f"{CHAIN_RULE.name}: SymPy's derivative of $E(u(X))$, $E$ undefined",
            ),
        ],
        size=f"{dims} <= {top}",
        show_latex=False,
    )
    chain.kind = kind
    return chain
