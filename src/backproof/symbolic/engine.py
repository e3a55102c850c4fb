r"""The proof engine: steps, chains, identities, their wrong variants, and the catalogue's registry.

A :class:`Chain` is a list of :class:`Step` expressions, each related to the one before it
by ``=`` (or ``<=`` in a chain of bounds). A step is either a *definitional unfolding*
(``kind=DEFINITION``: it only substitutes what a symbol stands for, and certifies
nothing) or a *substantive rewrite* (``kind=REWRITE``: differentiation, the quotient
rule, a delta collapsing a sum, a cancellation — the steps that carry the argument).

How a verdict is reached:

* ``=`` steps are **proved** symbolically: both sides are expanded (assumptions, then
  definitions, then the case, then ``doit()``), and ``simplify(a - b) == 0`` entry by
  entry (:func:`equal`).
* ``<=`` steps are proved by a small set of sound rules (:func:`nonnegative`): sums and
  products of nonnegative terms, :math:`e^x > 0`, :math:`1 - e^{x} \ge 0` for
  :math:`x \le 0`, a sum of nonnegative terms is at least any one of them, and
  :math:`\log` is increasing.
* A claim is **refuted** by :func:`refute`: symbolic sizes and indices are set to small
  integers, undefined functions to random polynomials, every other symbol to a random
  rational, and both sides are evaluated exactly (rational arithmetic, and for
  :math:`e^q`, :math:`\log q` interval arithmetic at 50 digits) *before any
  simplification*. One point where the two sides provably differ is a proof of
  inequality. Wrong variants are settled this way, within seconds.

Every :class:`Identity` carries its chains, its displayed statement (generated from the
ends of its first chain, or tied to a chain's ends by :class:`Link`), its wrong
:class:`Variant`\ s and its numeric :class:`Check`\ s. Identities are added to the
catalogue with :func:`register`; see ``/work/coord/identity-api.md`` and the module
docstring of :mod:`backproof.symbolic`.

Non-goals: a general theorem prover; deciding equalities SymPy cannot simplify.
"""

from __future__ import annotations

import functools
import importlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from .notation import Defines, interpret, to_latex

__all__ = [
    "CATALOGUE",
    "DEFINITION",
    "REWRITE",
    "Chain",
    "Check",
    "Identity",
    "Link",
    "ProofResult",
    "Step",
    "Variant",
    "Verdict",
    "equal",
    "identities",
    "identity",
    "nonnegative",
    "refute",
    "register",
]

DEFINITION = "definition"  #: a step that only unfolds (or folds) a definition
REWRITE = "rewrite"  #: a step that carries the argument

PROOF = "symbolic proof"
REFUTATION = "rational-point refutation"
SHAPES = "shapes differ"
NOT_REFUTED = "not refuted"

#: Seconds within which every wrong variant must be refuted.
VARIANT_SECONDS = 10.0

# --------------------------------------------------------------------------- steps and chains


def _cases(cases: list[dict]) -> list[dict | None]:
    """The cases to check, or one unconditional check."""
    return list(cases) if cases else [None]


@dataclass(frozen=True)
class Step:
    r"""One expression of a chain, how it relates to the one before, and why.

    Attributes
    ----------
    expr : sympy expression or Matrix
    why : str
        The reason, shown beside the step (LaTeX allowed).
    kind : str
        :data:`DEFINITION` (only unfolds a definition) or :data:`REWRITE` (substantive).
        Ignored for the first step of a chain.
    relation : str
        ``"="`` or ``"<="`` (this step is at least the one before it).
    """

    expr: object
    why: str = ""
    kind: str = REWRITE
    relation: str = "="


@dataclass(repr=False)
class Chain:
    r"""A proof: ``steps[0] R steps[1] R ... R steps[-1]``, each relation checked.

    Attributes
    ----------
    title : str
        What this chain proves, e.g. ``"general $n$"`` (Markdown: math between dollars).
    steps : list of Step
    size : str or None
        ``None`` when the chain holds for symbolic sizes (any :math:`n`); otherwise the
        fixed size it is proved at, e.g. ``"n = 10"``. A fixed-size chain is never shown as
        general.
    definitions : dict
        Display symbols (such as :math:`g_i`) and what they stand for; substituted before
        each comparison.
    assumptions : dict
        Substitutions that encode a hypothesis (such as :math:`\sum_j d_j \to 1`); applied
        to both sides of every step whose ``why`` mentions "assumption".
    hypotheses : dict
        Substitutions applied to every step (such as ":math:`i \le n` is true": the indices
        are classes); listed with the identity's assumptions.
    cases : list of dict
        When given, every step is checked once per case (such as ``j = i`` and ``j != i``);
        together they must cover the domain.
    show_latex : bool
        Whether the steps are small enough to print.
    choices : dict
        Symbols whose values are restricted to a finite set when the chain is refuted at a
        point (such as the ReLU's activation pattern, which is 0 or 1).
    """

    title: str
    steps: list[Step]
    size: str | None = None
    definitions: dict = field(default_factory=dict)
    assumptions: dict = field(default_factory=dict)
    hypotheses: dict = field(default_factory=dict)
    cases: list[dict] = field(default_factory=list)
    show_latex: bool = True
    choices: dict = field(default_factory=dict)

    def __repr__(self) -> str:
        where = "symbolic size" if self.size is None else self.size
        return f"<Chain {self.title!r}: {len(self.steps)} steps, {self.substantive} substantive, {where}>"

    def __str__(self) -> str:
        lines = [f"{self.title} ({'any size' if self.size is None else self.size})"]
        if not self.show_latex:
            return lines[0] + f": {len(self.steps) - 1} relations between large expressions (not printed)"
        lines.append(f"    {sp.sstr(self.steps[0].expr)}")
        for st in self.steps[1:]:
            rel = "<=" if st.relation == "<=" else "="
            lines.append(f"  {rel} {sp.sstr(st.expr)}    [{st.kind}] {st.why.replace('$', '')}")
        return "\n".join(lines)

    @property
    def first(self):
        return self.steps[0].expr

    @property
    def last(self):
        return self.steps[-1].expr

    @property
    def relation(self) -> str:
        """``"="`` if every step is an equality, else ``"<="``."""
        return "<=" if any(s.relation == "<=" for s in self.steps[1:]) else "="

    @property
    def substantive(self) -> int:
        """How many steps are substantive rewrites."""
        return sum(s.kind == REWRITE for s in self.steps[1:])

    def _subs(self, step: Step) -> dict:
        return {**self.hypotheses, **(self.assumptions if "assumption" in step.why else {})}

    def check(self) -> list[bool]:
        """Whether each step relates to the one before as claimed, in order (one entry per relation)."""
        results = []
        for before, after in zip(self.steps, self.steps[1:]):
            subs = self._subs(after)
            results.append(
                all(
                    _holds(
                        before.expr, after.expr, after.relation, self.definitions, subs, case, self.choices
                    )
                    for case in _cases(self.cases)
                )
            )
        return results

    def claim_holds(self, wrong_last, first=None, seed: int = 0, seconds: float = VARIANT_SECONDS) -> Verdict:
        """Try to refute ``first R wrong_last`` (R the chain's relation) under the chain's hypotheses."""
        subs = {**self.hypotheses, **self.assumptions}
        first = self.first if first is None else first
        start = time.perf_counter()
        for case in _cases(self.cases):
            left = seconds - (time.perf_counter() - start)
            found = refute(
                first,
                wrong_last,
                self.definitions,
                subs,
                case,
                self.relation,
                seed=seed,
                seconds=left,
                choices=self.choices,
            )
            if found is not None:
                return Verdict("", True, found[0], time.perf_counter() - start, found[1])
        return Verdict("", False, NOT_REFUTED, time.perf_counter() - start, None)

    def latex(self) -> list[str]:
        """The LaTeX of every step, made by SymPy from the expressions that were checked."""
        return [to_latex(step.expr) for step in self.steps]


# --------------------------------------------------------------------------- expansion and proof


def _xreplace_fixpoint(expr, mapping: dict):
    for _ in range(6):  # definitions may refer to one another
        if not mapping:
            break
        expanded = expr.xreplace(mapping)
        if expanded == expr:
            break
        expr = expanded
    return expr


def expand(expr, definitions=None, assumptions=None, case=None, evaluate: bool = True):
    r"""``expr`` with the assumptions, definitions and case substituted, derivatives and sums done."""
    expr = sp.sympify(expr)
    if assumptions:
        expr = expr.subs(assumptions)
    expr = _xreplace_fixpoint(expr, definitions or {})
    if evaluate:
        expr = expr.doit()
    if case:
        expr = expr.subs(case)
        if evaluate:
            expr = expr.doit()
    if assumptions:
        expr = expr.subs(assumptions)
    return expr


def _as_matrix(x):
    return x if isinstance(x, sp.MatrixBase) else sp.Matrix([x])


def equal(
    a, b, definitions: dict | None = None, assumptions: dict | None = None, case: dict | None = None
) -> bool:
    r"""Whether SymPy proves ``a == b``: ``simplify(a - b) == 0``, entry by entry for matrices.

    ``assumptions`` are applied first, then ``definitions`` (display symbols and what they
    stand for), then derivatives and sums are evaluated, last the substitution ``case``.
    Where ``simplify`` leaves something, the difference must still pass ``.equals(0)``.
    """
    lhs, rhs = (_as_matrix(expand(x, definitions, assumptions, case)) for x in (a, b))
    if lhs.shape != rhs.shape:
        return False
    for x, y in zip(lhs, rhs):
        diff = x - y
        if diff == 0:
            continue
        if not diff.has(sp.Piecewise, sp.Heaviside, sp.Max):
            # Sound shortcut: if the difference is 0 as a rational function with each e^u an
            # independent positive symbol, it is 0 for the e^u it stands for.
            atoms = {e: sp.Dummy(positive=True) for e in diff.atoms(sp.exp)}
            if atoms and sp.cancel(sp.together(diff.xreplace(atoms))) == 0:
                continue
            diff = sp.cancel(sp.together(diff))
            if diff == 0:
                continue
        reduced = sp.simplify(diff)
        if assumptions and reduced != 0:
            reduced = sp.simplify(reduced.subs(assumptions))
        if reduced != 0 and reduced.equals(0) is not True:
            return False
    return True


def _holds_in(relation, known: dict | None) -> bool:
    """Whether ``relation`` (``expr >= 0``) follows from SymPy's assumptions or a stated hypothesis.

    A hypothesis is a key ``sp.Le(u, v): True`` of the chain's hypotheses; it gives ``v - u >= 0``,
    and anything that exceeds ``v - u`` by a known nonnegative amount.
    """
    if relation is sp.true or relation is sp.false:  # SymPy decided it already
        return relation is sp.true
    gap = relation.lhs - relation.rhs  # relation is ``gap >= 0``
    if gap.is_nonnegative is True:
        return True
    for key, value in (known or {}).items():
        if value is True and isinstance(key, (sp.LessThan, sp.GreaterThan)):
            stated = key.rhs - key.lhs if isinstance(key, sp.LessThan) else key.lhs - key.rhs
            if sp.expand(gap - stated) == 0 or (gap - stated).is_nonnegative is True:
                return True
    return False


def _nonpositive(x, known=None) -> bool:
    return x.is_nonpositive is True or nonnegative(-x, known)


def nonnegative(x, known: dict | None = None) -> bool:
    r"""Whether ``x >= 0`` follows from a few sound rules (see the module docstring); ``False`` if unsure.

    ``known`` holds the chain's hypotheses (such as ``sp.Le(p, n): True``), used where a rule
    needs an index to lie in the range of a sum.
    """
    x = sp.sympify(x)
    if x.is_nonnegative is True:
        return True
    if isinstance(x, (sp.exp,)):
        return x.args[0].is_real is True
    if isinstance(x, sp.Sum):  # nonnegative terms over a range of nonnegative length (Karr's convention)
        ranges = all(_holds_in(sp.Ge(hi - lo + 1, 0), known) for _, lo, hi in x.limits)
        return ranges and nonnegative(x.function, known)
    if isinstance(x, sp.Mul):
        signs = []
        for f in x.args:
            if nonnegative(f, known):
                signs.append(1)
            elif f.is_nonpositive is True or (f.could_extract_minus_sign() and nonnegative(-f, known)):
                signs.append(-1)
            else:
                return False
        return math.prod(signs) == 1
    if isinstance(x, sp.Pow) and x.exp.is_integer and x.exp.is_even:
        return x.base.is_real is True
    if isinstance(x, sp.Pow):
        return nonnegative(x.base, known)
    if isinstance(x, sp.log):
        return nonnegative(x.args[0] - 1, known)
    if isinstance(x, sp.Add):
        terms = list(x.args)
        if all(nonnegative(t, known) for t in terms):
            return True
        # log X - log Y >= 0 when X - Y >= 0 and Y > 0: log is increasing
        logs = [t for t in terms if isinstance(t, sp.log)]
        neg_logs = [-t for t in terms if isinstance(-t, sp.log)]
        if len(logs) == 1 and len(neg_logs) == 1 and len(terms) == 2:
            X, Y = logs[0].args[0], neg_logs[0].args[0]
            return Y.is_positive is not False and nonnegative(Y, known) and nonnegative(X - Y, known)
        # 1 - e^u >= 0 when u <= 0
        if len(terms) == 2 and 1 in terms:
            other = terms[1] if terms[0] == 1 else terms[0]
            if isinstance(-other, sp.exp) and _nonpositive((-other).args[0], known):
                return True
        # sums with the same limits: compare term by term
        sums = [t for t in terms if isinstance(t, sp.Sum)]
        neg_sums = [-t for t in terms if isinstance(-t, sp.Sum)]
        if len(sums) + len(neg_sums) == len(terms) == 2 and sums and neg_sums:
            S, T = sums[0], neg_sums[0]
            if S.limits == T.limits:
                return nonnegative(sp.Sum(S.function - T.function, *S.limits), known)
        # a sum of nonnegative terms is at least any one of them: the index must be in its range
        if len(terms) == 2 and sums and len(sums[0].limits) == 1:
            S = sums[0]
            k, lo, hi = S.limits[0]
            other = -(terms[1] if terms[0] is S else terms[0])
            for idx in other.free_symbols | {a for a in other.atoms(sp.Indexed) for a in a.indices}:
                in_range = (
                    getattr(idx, "is_integer", False)
                    and _holds_in(sp.Ge(idx - lo, 0), known)
                    and _holds_in(sp.Ge(hi - idx, 0), known)
                )
                if in_range and S.function.subs(k, idx) == other:
                    return nonnegative(S.function, known)
    return False


def _holds(a, b, relation, definitions, assumptions, case, choices=None) -> bool:
    if (
        refute(a, b, definitions, assumptions, case, relation, tries=2, seconds=5.0, choices=choices)
        is not None
    ):
        return False  # a point where the claim fails: no need for simplify
    if relation == "=":
        return equal(a, b, definitions, assumptions, case)
    lhs = expand(a, definitions, assumptions, case, evaluate=False)
    rhs = expand(b, definitions, assumptions, case, evaluate=False)
    diff = rhs - lhs
    known = assumptions or {}
    return any(nonnegative(form, known) for form in (diff, sp.expand(diff), sp.factor(diff)))


# --------------------------------------------------------------------------- refutation

_INDEX_NAMES = frozenset("ijkpqrs")


def _rational(rng, sym):
    num, den = int(rng.integers(1, 40)), int(rng.integers(1, 12))
    if sym.is_positive:
        return sp.Rational(num, den)
    if sym.is_nonnegative:
        return sp.Rational(num - 1, den)
    if sym.is_negative:
        return -sp.Rational(num, den)
    if sym.is_nonpositive:
        return -sp.Rational(num - 1, den)
    return sp.Rational(num - 20, den)


def _random_polynomial(rng):
    coeffs = [sp.Rational(int(rng.integers(-9, 10)), int(rng.integers(1, 5))) for _ in range(6)]

    def poly(*args):
        out = coeffs[0]
        for q, x in enumerate(args):
            out += coeffs[1 + q % 5] * x + coeffs[(2 + q) % 6] * x**2
        return out + coeffs[5] * math.prod(args)

    return poly


def _integer_values(symbols, rng) -> dict:
    index = sorted((s for s in symbols if s.name in _INDEX_NAMES), key=lambda s: s.name)
    values = [int(v) for v in rng.permutation(range(1, 5))]
    out = {s: values[q % 4] for q, s in enumerate(index)}
    out.update({s: 5 for s in symbols if s.name not in _INDEX_NAMES})
    return out


def _interval(x):
    """Exact value of a numeric SymPy expression as an mpmath interval (50 digits)."""
    from mpmath import iv

    if isinstance(x, sp.Rational):
        return iv.mpf(int(x.p)) / iv.mpf(int(x.q))
    if x is sp.E:
        return iv.e
    if x is sp.pi:
        return iv.pi
    if isinstance(x, sp.Add):
        return functools.reduce(lambda u, v: u + v, map(_interval, x.args))
    if isinstance(x, sp.Mul):
        return functools.reduce(lambda u, v: u * v, map(_interval, x.args))
    if isinstance(x, sp.Pow):
        base, exp = _interval(x.base), x.exp
        if isinstance(exp, sp.Integer):
            return base ** int(exp)
        return iv.exp(_interval(exp) * iv.log(base))
    if isinstance(x, sp.exp):
        return iv.exp(_interval(x.args[0]))
    if isinstance(x, sp.log):
        return iv.log(_interval(x.args[0]))
    raise TypeError(f"cannot evaluate {type(x).__name__} exactly")


def _sign(x) -> int | None:
    """+1 or -1 when ``x`` is provably positive or negative, 0 when exactly 0, None if undecided."""
    x = sp.sympify(x)
    if isinstance(x, sp.Rational):
        return 1 if x > 0 else (-1 if x < 0 else 0)
    if not x.is_number or x.has(sp.nan, sp.zoo, sp.oo, -sp.oo):
        return None
    from mpmath import iv

    old, iv.dps = iv.dps, 50
    try:
        v = _interval(x)
    except (TypeError, ZeroDivisionError, ValueError):
        return None
    finally:
        iv.dps = old
    if v.a > 0:
        return 1
    if v.b < 0:
        return -1
    return None


def refute(
    a,
    b,
    definitions: dict | None = None,
    assumptions: dict | None = None,
    case: dict | None = None,
    relation: str = "=",
    seed: int = 0,
    tries: int = 4,
    seconds: float = VARIANT_SECONDS,
    choices: dict | None = None,
):
    r"""Look for a point where ``a R b`` fails (``R`` is ``relation``), by exact evaluation.

    Returns ``(method, point)`` (the point as a dict of values) when one is found, else
    ``None`` (which proves nothing). See the module docstring for the procedure.
    """
    import numpy as np

    start = time.perf_counter()
    sides = [expand(x, definitions, assumptions, case, evaluate=False) for x in (a, b)]
    if isinstance(sides[0], sp.MatrixBase) != isinstance(sides[1], sp.MatrixBase) or (
        isinstance(sides[0], sp.MatrixBase) and sides[0].shape != sides[1].shape
    ):
        return SHAPES, {}
    sides = [_as_matrix(s) for s in sides]
    atoms = set().union(*(e.atoms(sp.Symbol) for e in sides))
    bound = {lim[0] for e in sides for total in e.atoms(sp.Sum) for lim in total.limits}
    integers = {s for s in atoms - bound if s.is_integer}
    undef = {f.func for e in sides for f in e.atoms(AppliedUndef)}
    if not integers and not undef:  # the same at every trial: differentiate once
        sides = [e.applyfunc(lambda v: v.doit()) for e in sides]
    for trial in range(tries):
        if time.perf_counter() - start > seconds:
            break
        rng = np.random.default_rng([seed, trial])
        exprs = sides
        values = _integer_values(integers, rng)
        polys = {f: _random_polynomial(rng) for f in sorted(undef, key=str)}
        try:

            def fill(v, polys=polys, values=values):
                v = v.replace(
                    lambda node: isinstance(node, AppliedUndef), lambda node: polys[node.func](*node.args)
                )
                return v.xreplace(values).doit()

            exprs = [e.applyfunc(fill) for e in exprs] if (integers or undef) else exprs
            free = set().union(*(e.free_symbols for e in exprs))
            free |= set().union(*(e.atoms(sp.Indexed) for e in exprs))
            point = {
                s: (sp.sympify(rng.choice(choices[s])) if choices and s in choices else _rational(rng, s))
                for s in sorted(free, key=str)
                if not isinstance(s, sp.IndexedBase)
            }
            point = {s: v for s, v in point.items() if not (isinstance(s, sp.Symbol) and s.is_integer)}
            known = {}
            for key, v in (assumptions or {}).items():
                if isinstance(key, (sp.logic.boolalg.BooleanAtom, sp.Rel)):
                    continue
                key = key.xreplace(values).doit()
                if key.is_number:  # decided at this point (e.g. a Kronecker delta of two integers)
                    if key != v:
                        raise ValueError("the point violates a hypothesis")  # try another point
                    continue
                if isinstance(key, sp.Add):  # a constraint such as sum_j d_j = 1: solve for one term
                    last = sorted(
                        key.atoms(sp.Indexed) | key.free_symbols - key.atoms(sp.IndexedBase), key=str
                    )[-1]
                    known[last] = sp.solve(sp.Eq(key, v), last)[0]
                else:
                    known[key] = v
            if known:
                exprs = [e.subs(known) for e in exprs]
            left, right = (e.xreplace(point).doit() for e in exprs)
        except (TypeError, ValueError, ZeroDivisionError):
            continue
        for x, y in zip(left, right):
            s = _sign(y - x)
            if (relation == "=" and s in (1, -1)) or (relation == "<=" and s == -1):
                return REFUTATION, {
                    **{str(k): v for k, v in values.items()},
                    **{str(k): v for k, v in point.items()},
                }
    return None


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class Variant:
    r"""A realistic wrong version of an identity, which the checker must refute.

    Attributes
    ----------
    name : str
        Short identifier, e.g. ``"flipped_sign"``.
    description : str
        What is wrong, in words (e.g. "a_1 in place of h").
    wrong : sympy expression or Matrix
        The wrong right-hand side: it replaces the last step of ``chain``.
    chain : str or None
        The title of the chain whose claim it falsifies (default: the first chain).
    first : sympy expression, optional
        A wrong left-hand side, replacing the first step (default: the chain's own).
    """

    name: str
    description: str
    wrong: object
    chain: str | None = None
    first: object = None


@dataclass
class Verdict:
    r"""How a wrong variant fared: refuted or not, by which method, how fast, at which point."""

    name: str
    refuted: bool
    method: str
    seconds: float
    point: dict | None = None

    def to_dict(self) -> dict:
        return {"name": self.name, "refuted": self.refuted, "method": self.method, "seconds": self.seconds}


@dataclass(frozen=True)
class Check:
    r"""A numeric check of the code against an identity.

    Attributes
    ----------
    label : str
        Shown in reports, e.g. ``"float64 vs mpmath"``.
    kind : str
        The tolerance that applies: a key of :data:`backproof.verify.TOLERANCE`
        (``"float64"``, ``"float32"``, ``"fd"``, ``"exact"``).
    run : Callable[[numpy.random.Generator], float]
        Returns the largest relative error found (NaN or infinity is a failure).
    """

    label: str
    kind: str
    run: Callable


@dataclass(frozen=True)
class Link:
    r"""Ties equation ``equation`` of a displayed statement to the ends of chain ``chain``.

    ``meaning`` maps every display symbol of that equation to what it stands for at the
    chain's size (explicit matrices); :func:`backproof.symbolic.notation.interpret` then
    evaluates the shown left side, which must equal the chain's first step, and the shown
    right side, which must equal its last.
    """

    chain: str
    meaning: dict = field(default_factory=dict)
    equation: int = 0


@dataclass
class ProofResult:
    r"""The outcome of checking every chain and the statement of an identity."""

    name: str
    proved: bool
    seconds: float
    chains: dict[str, list[bool]]
    statement: list[bool]
    necessity: bool | None = None


@dataclass(eq=False, repr=False)
class Identity:
    r"""One identity: statement, proof chains, wrong variants and numeric checks, in one object.

    Attributes
    ----------
    name : str
        The identifier used by tests, the CLI and the site (stable).
    title : str
        One line in words.
    chains : list of Chain
        Proofs; the identity is proved when every step of every chain is.
    statement : sympy expression, optional
        The displayed statement (``Eq``, ``Le`` or a ``Tuple`` of them). When omitted it is
        generated from the two ends of the first chain. When given, every equation must be
        tied to a chain by a :class:`Link`, and the engine checks it.
    links : list of Link
    assumptions : list of str
        In words, what must hold.
    variants : list of Variant
    checks : list of Check
    implements : str
        The backproof function that implements it (its docstring names this identity).
    necessity : Callable, optional
        For an identity with an assumption: returns ``True`` when SymPy shows the statement
        fails without it.
    number : int
        Its place in the catalogue (set by the registry).
    """

    name: str
    title: str
    chains: list[Chain]
    statement: object = None
    links: list[Link] = field(default_factory=list)
    assumptions: list[str] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)
    implements: str = ""
    necessity: Callable[[], bool] | None = None
    number: int = 0

    def __post_init__(self) -> None:
        if self.statement is None:
            self.statement = self._generated()
            self.generated = True
        else:
            self.generated = False

    def __hash__(self) -> int:
        return hash(self.name)

    def __repr__(self) -> str:
        eqs = "; ".join(_plain(e) for e in self.equations())
        if len(eqs) > 100:
            eqs = eqs[:97] + "..."
        return (
            f"<Identity {self.number} {self.name}: {eqs} ({self.total_steps} steps, {', '.join(self.sizes)})>"
        )

    def __str__(self) -> str:
        lines = [f"{self.number}. {self.title} ({self.name})"]
        lines += [f"  {_plain(e)}" for e in self.equations()]
        if self.assumptions:
            lines.append("  assuming " + "; ".join(a.replace("$", "") for a in self.assumptions))
        lines += ["", *(str(c) for c in self.chains)]
        return "\n".join(lines)

    def _sources(self) -> list[Chain]:
        """The chains a generated statement is made of: every symbolic-size chain, else the first."""
        general = [c for c in self.chains if c.size is None]
        return general or self.chains[:1]

    def _generated(self):
        rels = [
            (sp.Le if c.relation == "<=" else sp.Eq)(c.first, c.last, evaluate=False) for c in self._sources()
        ]
        return rels[0] if len(rels) == 1 else sp.Tuple(*rels)

    @property
    def numeric_function(self) -> str:
        """The name of the backproof function that implements this identity (alias of ``implements``)."""
        return self.implements

    def chain(self, title: str | None) -> Chain:
        """The chain called ``title`` (the first chain for ``None``)."""
        if title is None:
            return self.chains[0]
        for c in self.chains:
            if c.title == title:
                return c
        raise KeyError(f"{self.name} has no chain {title!r}")

    def _generated_equations(self) -> list:
        g = self._generated()
        return list(g.args) if isinstance(g, sp.Tuple) else [g]

    def equations(self) -> list:
        """The displayed statement, one relation per entry."""
        return list(self.statement.args) if isinstance(self.statement, sp.Tuple) else [self.statement]

    @property
    def sizes(self) -> list[str]:
        """The sizes proved: ``"symbolic"`` for chains that hold for any size, else the size."""
        out = []
        for c in self.chains:
            s = c.size or "symbolic"
            if s not in out:
                out.append(s)
        return out

    @property
    def substantive_steps(self) -> int:
        """Substantive rewrites over all chains."""
        return sum(c.substantive for c in self.chains)

    @property
    def total_steps(self) -> int:
        return sum(len(c.steps) - 1 for c in self.chains)

    def hypotheses_shown(self) -> list[str]:
        r"""Every substitution the chains make, in words (LaTeX), generated from the chains themselves.

        Hypotheses (applied to every step), assumptions (applied where a step says so) and cases
        are listed, so that nothing substituted by hand is hidden from the reader.
        """
        out: list[str] = []

        def add(text: str) -> None:
            if text not in out:
                out.append(text)

        def case_text(k, v) -> str:
            if isinstance(v, sp.Symbol) and isinstance(k, sp.Symbol) and v.name == k.name:
                for attr, rel in (
                    ("is_positive", "> 0"),
                    ("is_negative", "< 0"),
                    ("is_nonnegative", r"\\ge 0"),
                ):
                    if getattr(v, attr):
                        return f"{to_latex(k)} {rel}"
            return f"{to_latex(k)} = {to_latex(v)}"

        for c in self.chains:
            used = set().union(*(sp.sympify(st.expr).free_symbols for st in c.steps))
            used |= set().union(*(sp.sympify(v).free_symbols for v in c.definitions.values()))
            for key, value in {**c.hypotheses, **c.assumptions}.items():
                if not sp.sympify(key).free_symbols <= used:
                    continue  # a hypothesis about symbols this chain does not have
                if value is True and isinstance(key, sp.Rel):
                    add(f"${to_latex(key)}$")
                elif isinstance(key, sp.KroneckerDelta) and value == 0:
                    add(f"${to_latex(key.args[0])} \\ne {to_latex(key.args[1])}$")
                else:
                    add(f"${to_latex(key)} = {to_latex(value)}$")
            if c.cases:
                parts = ", ".join(
                    "$" + ", ".join(case_text(k, v) for k, v in case.items()) + "$" for case in c.cases
                )
                add(f"{c.title}: by cases {parts}")
        return out

    def statement_checks(self) -> list[bool]:
        r"""Whether each displayed equation equals the two ends of the chain it is tied to."""
        eqs = self.equations()
        if self.generated:
            return [eq == rel for eq, rel in zip(eqs, self._generated_equations())] + [
                len(eqs) == len(self._sources())
            ]
        out = []
        for q, eq in enumerate(eqs):
            links = [ln for ln in self.links if ln.equation == q]
            if not links:
                out.append(False)  # a shown equation that nothing checks
                continue
            ok = True
            for ln in links:
                c = self.chain(ln.chain)
                lhs, rhs = interpret(eq, ln.meaning)
                subs = {**c.hypotheses}
                for shown, end in ((lhs, c.first), (rhs, c.last)):
                    if shown == end:  # the same expression: nothing to check
                        continue
                    ok = ok and all(
                        refute(shown, end, c.definitions, subs, case, tries=2, seconds=5.0) is None
                        and equal(shown, end, c.definitions, subs, case)
                        for case in _cases(c.cases)
                    )
            out.append(ok)
        return out

    def prove(self) -> ProofResult:
        """Check every chain, the statement, and the necessity of the assumption; cached per identity."""
        return _prove(self)

    def _prove_uncached(self) -> ProofResult:
        start = time.perf_counter()
        chains = {c.title: c.check() for c in self.chains}
        statement = self.statement_checks()
        necessary = self.necessity() if self.necessity else None
        proved = all(all(v) and v for v in chains.values()) and all(statement) and necessary is not False
        return ProofResult(self.name, proved, time.perf_counter() - start, chains, statement, necessary)

    def refute_variants(self, seed: int = 0) -> list[Verdict]:
        """Try to refute every wrong variant (each within :data:`VARIANT_SECONDS`); cached per identity."""
        return _variants(self, seed)

    def _refute_uncached(self, seed: int) -> list[Verdict]:
        out = []
        for v in self.variants:
            verdict = self.chain(v.chain).claim_holds(v.wrong, v.first, seed=seed)
            verdict.name = v.name
            out.append(verdict)
        return out

    def statement_latex(self) -> list[str]:
        """The statement's LaTeX, one string per relation."""
        return [to_latex(eq) for eq in self.equations()]

    def _proof_markdown(self) -> str:
        lines = [f"**{self.number}. {self.title}** (`{self.name}`)", ""]
        lines += [f"$$ {s} $$" for s in self.statement_latex()]
        if self.assumptions:
            lines.append("Assumptions: " + "; ".join(self.assumptions) + ".")
        shown = self.hypotheses_shown()
        if shown:
            lines.append("Substituted in the proofs: " + "; ".join(shown) + ".")
        unprinted = []
        for c in self.chains:
            if not c.show_latex:
                unprinted.append(c.size or c.title)
                continue
            where = "any size" if c.size is None else c.size
            derived = {0: "every step a definition", 1: "1 step derived by SymPy"}.get(
                c.substantive, f"{c.substantive} steps derived by SymPy"
            )
            lines.append(f"*Proof, {c.title}* ({where}, {derived}):")
            parts = c.latex()
            rows = [f"& {parts[0]}"]  # each step starts at the same column, its reason in a column of its own
            for s, tex in zip(c.steps[1:], parts[1:]):
                rel = r"\le" if s.relation == "<=" else "="
                tag = "definition" if s.kind == DEFINITION else "rewrite"
                rows.append(rf"&{rel} {tex} && {_why_latex(f'[{tag}] ' + s.why)}")
            lines.append("$$ \\begin{aligned} " + r" \\ ".join(rows) + r" \end{aligned} $$")
        if unprinted:
            sizes = [f"${x}$" for x in dict.fromkeys(unprinted)]
            listed = ", ".join(sizes[:-1]) + (" and " if len(sizes) > 1 else "") + sizes[-1]
            lines.append(f"Also proved at {listed} (not printed; see the verification report).")
        return "\n\n".join(lines)

    def _repr_markdown_(self) -> str:
        return self._proof_markdown()

    def _repr_latex_(self) -> str:
        return "$$ " + r" \\ ".join(self.statement_latex()) + " $$"


def _plain(eq) -> str:
    """A relation in SymPy's plain-text form, for terminals."""
    rel = "<=" if isinstance(eq, sp.Le) else ":=" if isinstance(eq, Defines) else "="
    return f"{sp.sstr(eq.lhs)} {rel} {sp.sstr(eq.rhs)}" if isinstance(eq, sp.Rel) else sp.sstr(eq)


def _why_latex(why: str) -> str:
    """A reason with ``$...$`` math as LaTeX: text parts in ``\\text{}``, math parts as they are."""
    parts = why.split("$")
    return " ".join((rf"\text{{{p}}}" if q % 2 == 0 else p) for q, p in enumerate(parts) if p.strip())


@functools.cache
def _prove(ident: Identity) -> ProofResult:
    return ident._prove_uncached()


@functools.cache
def _variants(ident: Identity, seed: int) -> list[Verdict]:
    return ident._refute_uncached(seed)


# --------------------------------------------------------------------------- the registry

#: Modules whose import registers identities, in catalogue order. Another module can
#: register identities by calling :func:`register` at import and adding its name here
#: (or by being imported before :func:`identities` is first called).
CATALOGUE: list[str] = [
    "backproof.symbolic.softmax_identities",
    "backproof.symbolic.relu_identities",
    "backproof.symbolic.network_identities",
    "backproof.symbolic.layer_identities",
]

_FACTORIES: list[tuple[float, int, Callable[[], Identity]]] = []


def register(factory: Callable[[], Identity] | None = None, *, order: float | None = None):
    r"""Add an identity to the catalogue; usable as ``@register`` or ``@register(order=...)``.

    ``factory`` takes no argument and returns the :class:`Identity`; it is called once,
    the first time :func:`identities` is asked for. ``order`` places it in the catalogue
    (default: after everything registered so far). Names must be unique.
    """

    def add(f):
        key = order if order is not None else (max((o for o, _, _ in _FACTORIES), default=0) + 1)
        _FACTORIES.append((key, len(_FACTORIES), f))
        _BUILT.clear()
        return f

    return add(factory) if factory is not None else add


_BUILT: list[tuple[Identity, ...]] = []  # the catalogue once built; emptied by register


def identities() -> tuple[Identity, ...]:
    r"""All identities of the catalogue, numbered from 1 in order (built once, then cached)."""
    if not _BUILT:
        _BUILT.append(_build())
    return _BUILT[0]


def _build() -> tuple[Identity, ...]:
    for module in CATALOGUE:
        importlib.import_module(module)
    out = []
    for number, (_, _, f) in enumerate(sorted(_FACTORIES, key=lambda t: t[:2]), start=1):
        ident = f()
        ident.number = number
        out.append(ident)
    names = [x.name for x in out]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise ValueError(f"identity names registered twice: {sorted(dupes)}")
    return tuple(out)


def identity(name: str) -> Identity:
    r"""The identity called ``name`` (see :func:`identities`)."""
    for ident in identities():
        if ident.name == name:
            return ident
    names = ", ".join(x.name for x in identities())
    raise KeyError(f"no identity {name!r}; the identities are: {names}")
