r"""Known slips: a one-sentence diagnosis for a step that does not follow.

Only called on a step already refuted by an exact counterexample. A slip matches when a
repair of the learner's line (or the slip applied to the line before it) gives back the
correct expression at every sample point, or, for a few slips, when the line has the slip's
shape (a summation index used as a free index, :math:`e^{a-1}`, :math:`e^{a_i a_j}`,
:math:`\sum_k e^{2a_k}` for :math:`(\sum_k e^{a_k})^2`). The diagnosis says what is probably
wrong; the counterexample is what shows it.

Non-goals: diagnosing a step that follows; more than one slip per step.
"""

from __future__ import annotations

import re

import sympy as sp

from . import _decide as D
from .read import Env, Read

__all__ = ["SLIPS", "catalogue", "diagnose"]

SLIPS: dict[str, str] = {
    "index-clash": "the summation index {k} is also used as a free index: Σ_{k} runs over every class, so "
    "write it with a letter of its own (Σ_m) and keep {k} for the class you differentiate by",
    "quotient-square": "the quotient rule's denominator must be squared: (u/v)′ = (u′v − uv′)/v², not /v",
    "sign-lost": "a sign is lost: the step is right up to the sign of {what}",
    "sum-of-difference": "Σ_k (u_k − c) is Σ_k u_k − n·c, not Σ_k u_k − c: a term that does not depend on k "
    "belongs outside the sum",
    "transposed": "the Jacobian is transposed: the indices of {what} are swapped "
    "(the chain rule sums ∂a_k/∂h_j over the first index k)",
    "wrong-index": "{x} is written where {y} belongs",
    "sum-kept": "only the k = {x} term of the sum depends on the variable with index {x}: "
    "the derivative of the sum is that one term, not the whole sum",
    "inner-product-dropped": "the inner product ⟨g, e⟩ = Σ_k g_k e_k is dropped "
    "(or replaced by one of its terms)",
    "delta-dropped": "∂a_{i}/∂a_{j} is δ_{i}{j}, which is 0 for {j} ≠ {i}: the Kronecker delta is dropped",
    "exp-power-rule": "the derivative of e^x is e^x: "
    "the power rule (x e^(x−1)) does not apply to an exponential",
    "exp-product": "e^x e^y = e^(x+y), not e^(xy)",
    "square-of-sum": "the square of a sum is not the sum of the squares: (Σ_k e^(a_k))² ≠ Σ_k e^(2a_k)",
    "factor-dropped": "the line differs from the one before by a factor {what}: "
    "a factor is dropped (or added)",
}


def catalogue() -> list[tuple[str, str]]:
    r"""``(key, diagnosis)`` of every slip, with example indices in place of the blanks (for the site)."""
    example = {"k": "i", "what": "a term", "x": "j", "y": "i", "i": "i", "j": "j"}
    return [_say(key, **example) for key in SLIPS]


def show(expr) -> str:
    r"""An expression as a learner reads it: g_i, d_i/y_i, g_i^2 (not g[i], g[i]**2)."""
    text = str(expr).replace("**", "^").replace("*", "·")
    return re.sub(r"(\w+)\[([^\]]+)\]", lambda m: f"{m.group(1)}_{m.group(2).replace(', ', '')}", text)


def _say(key: str, **kw) -> tuple[str, str]:
    text = SLIPS[key]
    for k, v in kw.items():
        text = text.replace("{" + k + "}", show(v))
    return key, text


def _closed_sums(expr: sp.Expr) -> list[sp.Sum]:
    r"""The sums of ``expr`` that do not use the index of a sum around them."""
    return [
        s
        for s in expr.atoms(sp.Sum)
        if not any(isinstance(x, sp.Symbol) and ("'" in x.name or "κ" in x.name) for x in s.free_symbols)
    ]


def diagnose(b: Read, a: Read, B: sp.Expr, A: sp.Expr, frees: list[str], conds, env: Env):
    r"""``(key, sentence)`` of the slip this refuted step matches, or None."""
    syms = [Env.index(f) for f in frees]

    def same(x: sp.Expr, y: sp.Expr) -> bool:
        x, y = D.apply_case(env.expand(x), conds), D.apply_case(env.expand(y), conds)
        return D.agree(x, y, syms, conds, env.lo, seed=7)

    for r in (b, a):
        if r.clashes:
            return _say("index-clash", k=r.clashes[0])
    Ae = env.expand(A)
    Be = env.expand(B)
    for e in A.atoms(sp.exp):  # the shape of the line as written
        arg = sp.expand(e.args[0])
        if arg.as_coeff_Add()[0] != 0 and any(isinstance(t, sp.Indexed) for t in arg.atoms(sp.Indexed)):
            return _say("exp-power-rule")
        if any(isinstance(t, sp.Mul) and len(t.atoms(sp.Indexed)) > 1 for t in sp.Add.make_args(arg)):
            return _say("exp-product")
    if any(isinstance(p.base, sp.Sum) and abs(p.exp) == 2 for p in Be.atoms(sp.Pow)) and any(
        s.function.has(sp.exp)
        and any(isinstance(x, sp.exp) and x.args[0].as_coeff_Mul()[0] == 2 for x in s.function.atoms(sp.exp))
        for s in Ae.atoms(sp.Sum)
    ):
        return _say("square-of-sum")
    if same(-A, B):
        return _say("sign-lost", what="the whole line")
    for s in _closed_sums(Ae):  # quotient rule without the square: one more 1/Σ gives it back
        if s.function.has(sp.exp) and same(A / s, B):
            return _say("quotient-square")
    for t in {*sp.Add.make_args(A), *sp.Add.make_args(sp.expand(A))}:
        if len(sp.Add.make_args(sp.expand(A))) > 1 and same(A - 2 * t, B):
            return _say("sign-lost", what=f"the term {t}")
    for s in _closed_sums(A):  # Σ_k (u_k − c) written for Σ_k u_k − c
        k, lo, hi = s.limits[0]
        terms = sp.Add.make_args(sp.expand(s.function))
        free = [t for t in terms if k not in t.free_symbols]
        if free and len(free) < len(terms):
            fixed = sp.Sum(sp.Add(*[t for t in terms if k in t.free_symbols]), (k, lo, hi)) + sp.Add(*free)
            if same(A.xreplace({s: fixed}), B):
                return _say("sum-of-difference")
    for base in {x.base for x in A.atoms(sp.Indexed) if len(x.indices) == 2}:
        swapped = A.replace(
            lambda x, base=base: isinstance(x, sp.Indexed) and x.base == base,
            lambda x: x.base[x.indices[1], x.indices[0]],
        )
        if same(swapped, B):
            return _say("transposed", what=str(base))
    for x in syms:
        for y in syms:
            if x != y and same(A.xreplace({x: y}), B):
                return _say("wrong-index", x=x, y=y)
    for s in _closed_sums(A):
        k = s.limits[0][0]
        for x in syms:
            if same(A.xreplace({s: s.function.xreplace({k: x})}), B):
                return _say("sum-kept", x=x)
    Bn = D.normal(D.apply_case(Be, conds))
    for s in _closed_sums(Bn):
        e_terms = [i for i in s.function.atoms(sp.Indexed) if str(i.base.label) == "e"]
        if e_terms:
            k = s.limits[0][0]
            options = [sp.Integer(0), s.xreplace({t: sp.Integer(1) for t in e_terms})]
            options += [s.function.xreplace({k: x}) for x in syms]
            if any(same(D.unnormal(Bn.xreplace({s: o})), A) for o in options):
                return _say("inner-product-dropped")
    for dlt in Be.atoms(sp.KroneckerDelta):
        if set(dlt.args) <= set(syms) and same(Be.xreplace({dlt: sp.Integer(1)}), A):
            i, j = dlt.args
            return _say("delta-dropped", i=i, j=j)
    ratio = sp.cancel(sp.together(D.normal(Be) / D.normal(Ae))) if Ae != 0 else None
    if (
        ratio is not None
        and ratio != 1
        and not ratio.has(sp.Sum)
        and len(sp.Mul.make_args(ratio)) <= 2
        and ratio.is_number is not True
    ):
        return _say("factor-dropped", what=str(ratio))
    return None
