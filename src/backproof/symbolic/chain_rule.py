r"""The multivariable chain rule, as the layer proofs cite it, checked by SymPy at concrete sizes.

Non-goals: a proof of the chain rule for symbolic sizes (it is cited there).
"""

from __future__ import annotations

import sympy as sp

from .engine import Step
from .indexed import IndexedChain, rewrite


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
