r"""Proofs entry by entry for symbolic sizes: the normal form, :class:`IndexedChain`, :class:`Claim`.

A matrix identity such as :math:`\partial E/\partial W = \delta x^\top` is proved for its entry
:math:`(r, s)` with :math:`W` a SymPy ``MatrixSymbol`` of symbolic shape. :func:`equal_general`
substitutes the definitions, evaluates derivatives and symbolic-range sums (range-aware
Kronecker deltas collapse them), renames summation variables canonically and asks SymPy whether
the difference is 0. :class:`IndexedChain` checks each step of a chain that way; a :class:`Claim`
ties a displayed matrix equation to the two ends of its chain; :class:`LayerIdentity` is an
:class:`~backproof.symbolic.identity_base.Identity` made of claims. The Kronecker delta is printed as the
Iverson bracket :math:`[p = r]`, since :math:`\delta` is the upstream gradient.

Non-goals: a general simplifier; identities themselves (they live in the modules that use this).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from . import core
from .chain import DEFINITION, REWRITE, Chain, Step, Verdict
from .core import Rule, StepVerdict
from .identity_base import Check, Identity
from .notation import _Printer
from .rules import CHAIN_RULE, CitedStep
from .symbols import E, r, s

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
    # bounds: N - 1, and n(l) - 1 for a width n(l)
    size = r"[A-Za-z][A-Za-z0-9]*(?:_\{[^}]*\}|_\w)?(?:\{\\left\([^()]*\\right\)\})?"
    for _ in range(2):  # the second pass: inside a width's argument, n(l - 1) - 1
        tex = re.sub(rf"-1 \+ ({size})", r"\1 - 1", tex)
    return tex


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


def _chain_rule_form(lhs, rhs) -> bool:
    r"""Whether ``lhs -> rhs`` has the chain rule's form.

    The form is :math:`\sum_{p,q} c_{p,q}\,\partial u_{p,q}/\partial v`:
    ``rhs`` sums over every entry :math:`(p, q)` of a matrix :math:`u` (limits 0 to the shape
    minus 1), each term one upstream entry :math:`c_{p,q}` of the same shape times
    :math:`\partial u_{p,q}/\partial v`; ``lhs`` is :math:`\partial E/\partial v`, or the
    entry of a display matrix :math:`\partial E/\partial V` at the indices of :math:`v`.
    """
    if not isinstance(rhs, sp.Sum) or len(rhs.limits) != 2 or not isinstance(rhs.function, sp.Mul):
        return False
    (p_, lo_p, hi_p), (q_, lo_q, hi_q) = rhs.limits
    factors = rhs.function.args
    inners = [f for f in factors if isinstance(f, sp.Derivative) and isinstance(f.expr, MatrixElement)]
    if len(factors) != 2 or len(inners) != 1:
        return False
    (deriv,), (coef,) = inners, [f for f in factors if f is not inners[0]]
    inner, var = deriv.expr, deriv.variables[0]
    if isinstance(coef, sp.Derivative) and coef.expr == E and len(coef.variables) == 1:
        coef = coef.variables[0]  # the upstream entry written as dE/du_pq
    if not isinstance(coef, MatrixElement) or len(deriv.variables) != 1:
        return False
    rows, cols = inner.parent.shape
    if (inner.i, inner.j) != (p_, q_) or (coef.i, coef.j) != (p_, q_) or coef.parent.shape != (rows, cols):
        return False
    if (lo_p, hi_p, lo_q, hi_q) != (0, rows - 1, 0, cols - 1):
        return False
    if isinstance(lhs, sp.Derivative):
        return lhs.variables == (var,) and len(lhs.variable_count) == 1 and lhs.variable_count[0][1] == 1
    return (
        isinstance(lhs, MatrixElement)
        and isinstance(var, MatrixElement)
        and (lhs.i, lhs.j) == (var.i, var.j)
        and lhs.parent.shape == var.parent.shape
    )


def applies_its_rules(before, after) -> bool:
    r"""Whether the cited step ``after`` is ``before`` with exactly its instances substituted.

    Each instance of the chain rule must also have the chain rule's form (:func:`_chain_rule_form`):
    a stray factor, a missing term or the wrong range fails. Whether the rule itself holds is what
    its status says (:mod:`backproof.symbolic.rules`).
    """
    if core.check_citation(before.expr, after.expr, after.uses, after.rules).follows is not True:
        return False  # the core decides; the chain rule's form below can only refuse more
    if CHAIN_RULE in after.rules:
        return all(_chain_rule_form(lhs, rhs) for lhs, rhs in after.uses)
    return True


def _cited(lhs, rhs) -> Rule:
    name = "the loss as defined, differentiated" if isinstance(rhs, sp.Derivative) else "chain rule"
    return Rule(name, sp.Eq(lhs, rhs, evaluate=False), "cited")


class IndexedChain(Chain):
    r"""A :class:`~backproof.symbolic.chain.Chain` checked by :func:`equal_general`.

    The engine's :func:`~backproof.symbolic.chain.equal` evaluates once; entries of
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

    def verdicts(self) -> list[StepVerdict]:
        r"""The core's verdict on each step; a :class:`~backproof.symbolic.rules.CitedStep` is checked by
        :func:`applies_its_rules` (the step before with exactly the cited instances substituted)."""
        stated, _ = self.stated()
        problem = core.definition_problem(self.definitions, stated) or core.partition_problem(
            self.cases, stated
        )
        if problem:
            return [StepVerdict(False, problem)] * (len(self.steps) - 1)
        out = []
        for before, after in zip(self.steps, self.steps[1:]):
            if isinstance(after, CitedStep):
                ok = applies_its_rules(before, after)
                names = ", ".join(rule.name for rule in after.rules)
                out.append(
                    StepVerdict(
                        ok, f"applies {names}" if ok else f"is not the step before with {names} applied"
                    )
                )
            else:
                out.append(self._plain_verdict(before, after))
        return out

    def _plain_verdict(self, before, after) -> StepVerdict:
        verdict = None
        cases: list[dict | None] = [*self.cases] or [None]
        for case in cases:
            verdict = self.check_pair(before.expr, after.expr, after.relation, self._subs(after), case)
            if verdict.follows is not True:
                break
        assert verdict is not None
        return verdict

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


@dataclass(eq=False, repr=False)  # the engine's short repr, not every chain
class LayerIdentity(Identity):
    r"""An :class:`~backproof.symbolic.identity_base.Identity` whose statement is a list of :class:`Claim`\ s.

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


def _checks(name: str) -> list[Check]:
    r"""The numeric checks of identity ``name``: NumPy against SymPy at 50 digits, and finite differences.

    The code lives in :mod:`backproof.symbolic._layer_numeric`, imported when a check runs.
    """

    def run(kind):
        def check(rng):
            from . import _layer_numeric

            return _layer_numeric.run_check(name, kind, rng)

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
            from . import _layer_numeric

            return _layer_numeric.run_check(name, f"kernel-{dtype}", rng)

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
