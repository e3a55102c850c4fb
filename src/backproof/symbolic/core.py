r"""The trusted core: the one module that decides whether a step of a proof follows.

Everything else in :mod:`backproof.symbolic` only *builds* terms (chains, identities, their
statements) and asks :func:`check_step`. What the core accepts, in plain words:

1. **A closed set of relations**, :data:`RELATIONS`: ``=``, ``<=``, ``<``, ``>=``, ``>``. A step
   is checked and shown as the relation it states (:func:`relation_latex`); anything else is
   refused.
2. **Definitions introduce fresh names only.** A definition's left side is a symbol, an entry
   :math:`g_i` of an indexed symbol, or a function symbol applied to arguments; never an
   expression SymPy already gives a meaning to (a derivative, :math:`\sin`, a sum), and the name
   it defines appears in no other definition's right side (:func:`definition_problem`).
   A rule SymPy does not derive (the chain rule) is a cited :class:`Rule`, named and counted.
3. **Bound variables are renamed apart** (:func:`rename_apart`) before anything reorders sums,
   and limits are reordered only when no limit depends on another (:func:`delta_first`).
4. **Side conditions.** Division, :math:`\log`, fractional powers and the derivative of a function
   with a kink (:math:`|x|`, :math:`\max`, Heaviside, a piecewise definition) each need a
   condition (:func:`side_conditions`): denominator :math:`\ne 0`, argument :math:`> 0`, not at
   the kink. A step is accepted only when each condition follows from the stated assumptions
   (:func:`implied`): a symbol's declared sign, or a stated relation.
5. **Stated assumptions are consistent** (:func:`inconsistency`): a hypothesis :math:`x = 0`
   for a positive :math:`x` is refused; so are one-variable assumptions with no solution.
6. **Verdicts.** ``follows=True`` only when SymPy proves the relation (:func:`equal`,
   :func:`nonnegative`, :func:`positive`); ``False`` with the reason (and the exact counterexample
   found by :func:`backproof.symbolic.refuter.refute`, which only ever rejects); ``None`` when
   undecided. ``needs`` lists the side conditions the step used, for display.

Non-goals: a general theorem prover; deciding what SymPy cannot simplify (that is "undecided").
"""

from __future__ import annotations

import functools
import itertools
import math
from dataclasses import dataclass, field

import sympy as sp
from sympy.assumptions.assume import AppliedPredicate
from sympy.core.function import AppliedUndef
from sympy.matrices.expressions.matexpr import MatrixElement

__all__ = [
    "RELATIONS",
    "Rule",
    "StepVerdict",
    "check_citation",
    "check_step",
    "definition_problem",
    "delta_first",
    "equal",
    "implied",
    "inconsistency",
    "nonnegative",
    "positive",
    "relation_latex",
    "rename_apart",
    "side_conditions",
]

#: The closed set of relations a step may state: ``before R after``.
RELATIONS = ("=", "<=", "<", ">=", ">")
_LATEX = {"=": "=", "<=": r"\le", "<": "<", ">=": r"\ge", ">": ">"}
_TEXT = {"=": "=", "<=": "≤", "<": "<", ">=": "≥", ">": ">"}
STATUSES = ("checked for all sizes", "checked for sizes", "cited")


def relation_latex(relation: str) -> str:
    """The LaTeX of ``relation``, exactly the relation that was checked."""
    return _LATEX[_known(relation)]


def relation_text(relation: str) -> str:
    """The relation as one character for terminals (``≤``, not ``=``)."""
    return _TEXT[_known(relation)]


def _known(relation: str) -> str:
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}: use one of {', '.join(RELATIONS)}")
    return relation


@dataclass(frozen=True)
class Rule:
    r"""A cited rule: a statement SymPy does not derive in the chain, named, shown and counted.

    ``statement`` is a SymPy ``Eq`` (used left to right as a rewrite) or any relation shown in
    words; ``status`` is ``"checked for all sizes"``, ``"checked for sizes …"`` (say which) or
    ``"cited"`` (taken from the literature, not checked here).
    """

    name: str
    statement: object
    status: str = "cited"

    def __post_init__(self) -> None:
        ok = self.status in ("checked for all sizes", "cited") or self.status.startswith("checked for sizes ")
        if not ok:
            raise ValueError(
                f"rule {self.name!r}: status {self.status!r} is not one of 'checked for all sizes', "
                "'checked for sizes <which>', 'cited'"
            )

    def __str__(self) -> str:
        return f"{self.name} ({self.status}): {sp.sstr(self.statement)}"


@dataclass(frozen=True)
class StepVerdict:
    r"""Whether ``before R after`` follows: ``True`` (proved), ``False`` (refused), ``None`` (undecided)."""

    follows: bool | None
    reason: str
    counterexample: dict | None = None
    needs: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- definitions


def _head(key):
    """The name a definition's left side introduces, or ``None`` when it is not a fresh-name form."""
    if isinstance(key, (sp.Symbol, sp.MatrixSymbol)) and not isinstance(key, sp.Dummy):
        return key
    if isinstance(key, sp.Indexed):
        return key.base
    if isinstance(key, MatrixElement) and isinstance(key.parent, sp.MatrixSymbol):
        return key.parent
    if isinstance(key, AppliedUndef):
        return key.func
    if isinstance(key, sp.Function) and not type(key).__module__.startswith("sympy"):
        return key.func  # a display head of backproof's (Relu, Step0, ...): no meaning of its own
    return None


def definition_problem(definitions: dict, stated=()) -> str | None:
    r"""Why ``definitions`` is not a set of definitions of fresh names, or ``None`` when it is.

    Refused: a left side SymPy gives a meaning to (``Derivative(sin(x), x)``), a name defined in
    terms of itself (directly or through other definitions), a name that occurs in a stated
    assumption, a value its declared sign rules out, and one name defined twice in ways that disagree.
    """
    heads: dict = {}
    for key, value in definitions.items():
        head = _head(key)
        if head is None:
            return (
                f"the definition {sp.sstr(key)} := {sp.sstr(value)} rewrites an existing expression: "
                "a definition may only introduce a fresh symbol or function symbol (cite a Rule instead)"
            )
        heads.setdefault(head, []).append((key, sp.sympify(value)))
    uses = {h: {g for g in heads if any(_mentions(v, g) for _, v in defs)} for h, defs in heads.items()}
    for head, defs in heads.items():
        name = sp.sstr(head)
        if _reaches(uses, head, head):
            return f"the definition of {name} is circular: {name} is defined in terms of itself"
        if any(_mentions(sp.sympify(s), head) for s in stated):
            return f"the defined name {name} is not fresh: a stated assumption constrains it"
        for key, value in defs:
            clash = _sign_clash(key, value)
            if clash:
                return f"the definition {sp.sstr(key)} := {sp.sstr(value)} contradicts {clash}"
        for (k1, v1), (k2, v2) in itertools.pairwise(defs):
            if not _same_definition(k1, v1, k2, v2):
                return f"{name} is defined twice, differently: {sp.sstr(k1)} and {sp.sstr(k2)}"
    return None


def _reaches(uses: dict, start, goal) -> bool:
    seen, todo = set(), list(uses.get(start, ()))
    while todo:
        h = todo.pop()
        if h == goal:
            return True
        if h not in seen:
            seen.add(h)
            todo.extend(uses.get(h, ()))
    return False


def _mentions(expr, head) -> bool:
    if isinstance(head, sp.FunctionClass):
        return any(f.func == head for f in expr.atoms(sp.Function))
    return head in expr.atoms(sp.Symbol, sp.IndexedBase, sp.MatrixSymbol)


def _same_definition(k1, v1, k2, v2) -> bool:
    """Whether two definitions of one name agree (``g_i`` and ``g_j``; ``f(a)`` and ``f(0)``)."""
    for (ka, va), (kb, vb) in (((k1, v1), (k2, v2)), ((k2, v2), (k1, v1))):
        args = (
            ka.indices
            if isinstance(ka, sp.Indexed)
            else ka.args[-2:]
            if isinstance(ka, MatrixElement)
            else ka.args
        )
        other = (
            kb.indices
            if isinstance(kb, sp.Indexed)
            else kb.args[-2:]
            if isinstance(kb, MatrixElement)
            else kb.args
        )
        if (
            len(args) == len(other)
            and all(isinstance(x, sp.Symbol) for x in args)
            and len(set(args)) == len(args)
        ):
            renaming = dict(zip(args, other))
            if sp.simplify(va.subs(renaming, simultaneous=True) - vb) == 0:
                return True
    return k1 == k2 and sp.simplify(v1 - v2) == 0


_SIGNS = ("positive", "negative", "nonnegative", "nonpositive", "nonzero", "zero", "integer")


def _sign_clash(symbol, value) -> str | None:
    """The declared property of ``symbol`` (a symbol or an entry) that ``value`` provably lacks."""
    base = symbol.base.label if isinstance(symbol, sp.Indexed) else symbol
    if not isinstance(base, sp.Symbol):
        return None
    for prop in _SIGNS:
        if getattr(base, f"is_{prop}") is True and getattr(sp.sympify(value), f"is_{prop}") is False:
            return f"{sp.sstr(symbol)} being declared {prop}"
    return None


# --------------------------------------------------------------------------- bound variables


def _rename_bound(expr, fresh, depth: int = 0):
    """``expr`` with each binder's variable replaced by ``fresh(variable, depth, position)``."""
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(lambda e: _rename_bound(e, fresh, depth))
    if not getattr(expr, "args", ()) or not expr.has(sp.Sum, sp.Product, sp.Lambda):
        return expr
    if isinstance(expr, (sp.Sum, sp.Product)):
        f, limits = expr.function, [list(lim) for lim in expr.limits]
        for at, lim in enumerate(limits):  # limits[0] is innermost: only inner bounds may use lim[0]
            new = fresh(lim[0], depth, at)
            f = f.xreplace({lim[0]: new})
            for inner in limits[:at]:
                inner[1:] = [b.xreplace({lim[0]: new}) for b in inner[1:]]
            lim[0] = new
        body = _rename_bound(f, fresh, depth + 1)
        return type(expr)(body, *[(v, *(_rename_bound(b, fresh, depth) for b in bs)) for v, *bs in limits])
    if isinstance(expr, sp.Lambda):
        new = tuple(fresh(v, depth, at) for at, v in enumerate(expr.variables))
        return sp.Lambda(
            new, _rename_bound(expr.expr.xreplace(dict(zip(expr.variables, new))), fresh, depth + 1)
        )
    return expr.func(*[_rename_bound(x, fresh, depth) for x in expr.args])


def rename_apart(expr):
    r"""``expr`` with the variable of every binder (Sum, Product limits, Lambda) renamed to a fresh name.

    Each binder gets its own ``Dummy``, so that no later reordering can make a bound variable
    capture a free one (the bug by which :math:`\sum_{p<n}\sum_{q\le p}[p = r]` "equalled" :math:`p + 1`).
    """
    return _rename_bound(expr, lambda v, depth, at: sp.Dummy(v.name, **v.assumptions0))


def canonical(expr):
    """Each bound variable named by the height of its binder (how deeply binders nest inside it) and
    its place among the binder's limits, so equal sums look equal wherever they occur; an inner
    binder's names are never an enclosing binder's, so nothing is captured."""
    return _canonical(expr)[0]


def _canonical(expr):
    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(canonical), 0
    if not getattr(expr, "args", ()) or not expr.has(sp.Sum, sp.Product, sp.Lambda):
        return expr, -1
    if isinstance(expr, (sp.Sum, sp.Product, sp.Lambda)):
        variables = expr.variables
        if isinstance(expr, sp.Lambda):
            parts = [_canonical(expr.expr)]
        else:
            parts = [_canonical(expr.function), *(_canonical(b) for _, *bs in expr.limits for b in bs)]
        height = max(h for _, h in parts) + 1
        names = {}
        for at, v in enumerate(variables):  # a summation index is an integer, whatever else it was declared
            kind = {"integer": True} if not isinstance(expr, sp.Lambda) else v.assumptions0
            names[v] = sp.Dummy(f"k{height}_{at}", dummy_index=7000 + 97 * height + at, **kind)
        body = parts[0][0].xreplace(names)
        if isinstance(expr, sp.Lambda):
            return sp.Lambda(tuple(names.values()), body), height
        bounds = iter(p for p, _ in parts[1:])
        limits = [(names[v], *(next(bounds).xreplace(names) for _ in bs)) for v, *bs in expr.limits]
        return type(expr)(body, *limits), height
    parts = [_canonical(x) for x in expr.args]
    return expr.func(*(p for p, _ in parts)), max(h for _, h in parts)


def delta_first(expr):
    r"""In each multi-limit sum, sum first over variables a Kronecker delta pins, when that is allowed.

    A limit moves inward past another only when neither one's bounds mention the other's
    variable (Fubini for a rectangular range); the variables are renamed apart first.
    """

    def reorder(e):
        pinned = {v for kd in e.function.atoms(sp.KroneckerDelta) for v in kd.args[:2]}
        limits = list(e.limits)
        order = sorted(limits, key=lambda lim: lim[0] not in pinned)
        if order == limits:
            return e
        variables = {lim[0] for lim in limits}
        if any((set().union(*(b.free_symbols for b in lim[1:])) & variables) for lim in limits):
            return e  # a dependent range: the order of summation is part of its meaning
        e = rename_apart(e)  # fresh names before the limits move
        pinned = {v for kd in e.function.atoms(sp.KroneckerDelta) for v in kd.args[:2]}
        return sp.Sum(e.function, *sorted(e.limits, key=lambda lim: lim[0] not in pinned))

    if isinstance(expr, sp.MatrixBase):
        return expr.applyfunc(delta_first)
    if not expr.has(sp.Sum):
        return expr
    return expr.replace(lambda e: isinstance(e, sp.Sum) and len(e.limits) > 1, reorder)


def unfold(expr, definitions: dict | None = None, substitutions: dict | None = None):
    """``expr`` with the substitutions made and the definitions unfolded (until nothing changes)."""
    expr = sp.sympify(expr)
    if substitutions:
        expr = expr.subs(substitutions)
    for _ in range(8):  # definitions may refer to one another
        new = expr.xreplace(definitions) if definitions else expr
        if new == expr:
            break
        expr = new
    return expr


def normal_form(expr, definitions=None, substitutions=None, case=None):
    r"""Definitions unfolded, derivatives and sums evaluated (a delta-pinned sum first, when allowed),
    repeated until nothing changes; then the case and the substitutions; bound variables canonical."""
    expr = unfold(expr, definitions, substitutions)
    for _ in range(10):  # evaluating may uncover more defined names (such as entries of y)
        new = delta_first(unfold(expr, definitions)).doit()
        if new == expr:
            break
        expr = new
    for subs in (case, substitutions):
        if subs:
            expr = canonical(expr.subs(subs).doit())
    return expr


# --------------------------------------------------------------------------- side conditions

_KINKED = (sp.Abs, sp.sign, sp.Heaviside, sp.Max, sp.Min, sp.Piecewise)


def side_conditions(expr) -> list:
    r"""The conditions under which ``expr`` is defined: :math:`u \ne 0` for :math:`1/u`, :math:`u > 0`
    for :math:`\log u`, :math:`u \ge 0` for :math:`u^{1/2}`, and no kink under a derivative."""
    out: list = []

    def add(cond) -> None:
        if cond is not sp.true and cond not in out:
            out.append(cond)

    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_number:
            if node.exp.is_negative:
                add(sp.Ne(node.base, 0, evaluate=False))
            if node.exp.is_integer is False:
                add(sp.Ge(node.base, 0, evaluate=False))
        elif isinstance(node, sp.log):
            add(sp.Gt(node.args[0], 0, evaluate=False))
        elif isinstance(node, sp.Derivative):
            for kink in node.expr.atoms(*_KINKED):
                for cond in _kink_conditions(kink):
                    if cond.free_symbols & set(node.variables):
                        add(cond)
    return out


def _kink_conditions(f) -> list:
    if isinstance(f, (sp.Abs, sp.sign, sp.Heaviside)):
        return [sp.Ne(f.args[0], 0)]
    if isinstance(f, (sp.Max, sp.Min)):
        return [sp.Ne(u, v) if not u.is_number else sp.Ne(v, u) for u, v in zip(f.args, f.args[1:])]
    if isinstance(f, sp.Piecewise):  # the boundary of each condition is a possible kink
        rels = [c for _, c in f.args if isinstance(c, sp.Rel)]
        return [sp.Ne(c.lhs - c.rhs, 0) for c in rels]
    return []


# --------------------------------------------------------------------------- deciding facts


def _as_fact(assumption):
    """A stated assumption as ``(kind, u)``: ``u > 0``, ``u >= 0``, ``u != 0`` or ``u = 0``."""
    if isinstance(assumption, (sp.StrictGreaterThan, sp.GreaterThan, sp.StrictLessThan, sp.LessThan)):
        u = (
            assumption.lhs - assumption.rhs
            if assumption.rel_op in (">", ">=")
            else assumption.rhs - assumption.lhs
        )
        return (">" if assumption.rel_op in (">", "<") else ">="), sp.expand(u)
    if isinstance(assumption, sp.Unequality):
        return "!=", sp.expand(assumption.lhs - assumption.rhs)
    if isinstance(assumption, sp.Equality):
        return "=", sp.expand(assumption.lhs - assumption.rhs)
    return None


def _facts(assumptions) -> list:
    return [f for f in map(_as_fact, assumptions) if f is not None]


def positive(x, assumptions=()) -> bool:
    r"""Whether :math:`x > 0` follows from sound rules: declared signs, :math:`e^u > 0`, sums and
    products of positive terms, a nonempty sum of positive terms, and the stated assumptions."""
    x = sp.sympify(x)
    if x.is_positive is True:
        return True
    if isinstance(x, sp.exp):
        return _real(x.args[0], assumptions)
    if isinstance(x, sp.Add):
        return all(nonnegative(t, assumptions) for t in x.args) and any(
            positive(t, assumptions) for t in x.args
        )
    if isinstance(x, sp.Mul):
        return all(positive(t, assumptions) for t in x.args)
    if isinstance(x, sp.Pow):
        return positive(x.base, assumptions) and x.exp.is_extended_real is True
    if isinstance(x, sp.Sum):
        return all(_by_facts(hi - lo, ">=", assumptions) for _, lo, hi in x.limits) and positive(
            x.function, assumptions
        )
    return _by_facts(x, ">", assumptions)


def nonnegative(x, assumptions=()) -> bool:
    r"""Whether :math:`x \ge 0` follows from sound rules (see :func:`positive`; :math:`1/b` is not
    nonnegative for :math:`b \ge 0`, since it is undefined at 0)."""
    x = sp.sympify(x)
    if x.is_nonnegative is True or positive(x, assumptions):
        return True
    if isinstance(x, sp.Add):
        if all(nonnegative(t, assumptions) for t in x.args):
            return True
        return _sum_compare(x, assumptions)
    if isinstance(x, sp.Mul):
        signs = []
        for f in x.args:
            if nonnegative(f, assumptions):
                signs.append(1)
            elif _nonpositive(f, assumptions):
                signs.append(-1)
            else:
                return False
        return math.prod(signs) == 1
    if isinstance(x, sp.Pow):
        if x.exp.is_integer and x.exp.is_even and x.exp.is_nonnegative:
            return x.base.is_extended_real is True
        if x.exp.is_negative:
            return positive(x.base, assumptions)  # 1/b needs b > 0, not b >= 0
        return nonnegative(x.base, assumptions)
    if isinstance(x, sp.log):
        return nonnegative(x.args[0] - 1, assumptions)
    if isinstance(x, sp.Sum):  # nonnegative terms over a range of nonnegative length (Karr's convention)
        ranges = all(_by_facts(hi - lo + 1, ">=", assumptions) for _, lo, hi in x.limits)
        return ranges and nonnegative(x.function, assumptions)
    return _by_facts(x, ">=", assumptions)


def _real(u, assumptions=()) -> bool:
    r"""Whether ``u`` is real: declared so, or built by ``+``, ``*``, integer powers, :math:`e^x` and
    sums from real parts, entries of matrices stated to have real entries (``Q.real_elements(A)``)."""
    if u.is_extended_real is True:
        return True
    if isinstance(u, MatrixElement):
        return any(
            isinstance(a, AppliedPredicate)
            and a.function == sp.Q.real_elements
            and a.arguments[0] == u.parent
            for a in assumptions
        )
    if isinstance(u, sp.Pow):
        return u.exp.is_integer is True and _real(u.base, assumptions)
    if isinstance(u, (sp.Add, sp.Mul, sp.exp)):
        return all(_real(x, assumptions) for x in u.args)
    if isinstance(u, sp.Sum):
        return _real(u.function, assumptions)
    return False


def _nonpositive(f, assumptions) -> bool:
    if f.is_nonpositive is True or _by_facts(-f, ">=", assumptions):
        return True
    return isinstance(f, (sp.Add, sp.Sum)) and nonnegative(-f, assumptions)


def _sum_compare(x, assumptions) -> bool:
    r"""Two-term rules: :math:`\log X - \log Y \ge 0` for :math:`X \ge Y > 0`; :math:`1 - e^u \ge 0` for
    :math:`u \le 0`; sums over the same range term by term; a sum of nonnegative terms is at least
    any one of its terms whose index is in range."""
    terms = list(x.args)
    if len(terms) != 2:
        return False
    for A, B in (terms, terms[::-1]):
        if isinstance(A, sp.log) and isinstance(-B, sp.log):
            X, Y = A.args[0], (-B).args[0]
            if positive(Y, assumptions) and nonnegative(X - Y, assumptions):
                return True
        if A == 1 and isinstance(-B, sp.exp) and nonnegative(-(-B).args[0], assumptions):
            return True
        if isinstance(A, sp.Sum) and isinstance(-B, sp.Sum) and A.limits == (-B).limits:
            if nonnegative(sp.Sum(A.function - (-B).function, *A.limits), assumptions):
                return True
        if isinstance(A, sp.Sum) and len(A.limits) == 1:
            k, lo, hi = A.limits[0]
            other = -B
            for idx in other.free_symbols | {i for e in other.atoms(sp.Indexed) for i in e.indices}:
                in_range = getattr(idx, "is_integer", False) and all(
                    _by_facts(u, ">=", assumptions) for u in (idx - lo, hi - idx)
                )
                if in_range and A.function.subs(k, idx) == other and nonnegative(A.function, assumptions):
                    return True
    return False


def _by_facts(u, kind: str, assumptions) -> bool:
    r"""Whether ``u kind 0`` (kind ``>``, ``>=``, ``!=``) follows from declared signs and the stated facts.

    A stated fact :math:`v \mathrel{R} 0` gives :math:`u \mathrel{R} 0` when :math:`u - v` is
    provably nonnegative by declared signs alone (so :math:`i \le n` gives :math:`n - i + 1 \ge 0`).
    """
    u = sp.expand(sp.sympify(u))
    declared = {">": u.is_positive, ">=": u.is_nonnegative, "!=": u.is_nonzero}[kind]
    if declared:
        return True
    for fact, v in _facts(assumptions):
        gap = sp.expand(u - v)
        if kind == "!=" and fact == "!=" and (gap == 0 or sp.expand(u + v) == 0):
            return True
        if kind == "!=" and fact == ">" and (gap.is_nonnegative or sp.expand(-u - v).is_nonnegative):
            return True
        if kind in (">", ">=") and fact in (">", ">=") and gap.is_nonnegative is True:
            if kind == ">=" or fact == ">" or gap.is_positive is True:
                return True
    return False


def implied(condition, assumptions=()) -> bool:
    r"""Whether a side condition (``Ne(u, 0)``, ``u > 0``, ``u >= 0``) follows from the assumptions."""
    decided = condition.func(*condition.args) if isinstance(condition, sp.Rel) else condition
    if decided in (sp.true, sp.false):
        return decided is sp.true
    if condition in assumptions or decided in assumptions:
        return True
    kind, u = _as_fact(condition)
    if kind == ">":
        return positive(u, assumptions)
    if kind == ">=":
        return nonnegative(u, assumptions)
    if kind == "!=":
        return positive(u, assumptions) or positive(-u, assumptions) or _by_facts(u, "!=", assumptions)
    return False


def inconsistency(assumptions=(), substitutions: dict | None = None) -> str | None:
    r"""Why the stated assumptions and hypotheses (substitutions such as :math:`x \to 0`) cannot all
    hold, or ``None`` when no contradiction is found: a value its symbol's declared sign rules out,
    an assumption a substitution makes false, or one-variable assumptions with no solution."""
    for key, value in (substitutions or {}).items():
        clash = _sign_clash(key, value) if isinstance(key, (sp.Symbol, sp.Indexed)) else None
        if clash:
            return f"the hypothesis {sp.sstr(key)} = {sp.sstr(value)} contradicts {clash}"
    rels = [a for a in assumptions if isinstance(a, sp.Rel)]
    for a in rels:
        after = a.xreplace(substitutions or {}) if substitutions else a
        if after is sp.false:
            return f"the hypotheses make the assumption {sp.sstr(a)} false"
    by_symbol: dict = {}
    for a in rels:
        if len(a.free_symbols) == 1 and not a.atoms(sp.Indexed):
            by_symbol.setdefault(next(iter(a.free_symbols)), []).append(a)
    for s, group in by_symbol.items():
        try:
            region = functools.reduce(lambda u, v: u & v, (g.as_set() for g in group))
        except (NotImplementedError, TypeError, ValueError):
            continue
        if region is sp.S.EmptySet:
            return f"the assumptions {', '.join(map(sp.sstr, group))} have no solution for {s}"
    return None


# --------------------------------------------------------------------------- case splits


def case_conditions(case: dict | None) -> list:
    r"""What a case substitution assumes, as relations: :math:`a \to a_{>0}` (a positive symbol of the
    same name) is :math:`a > 0`; :math:`j \to i` is :math:`j = i`; :math:`\delta_{ij} \to 0` is
    :math:`i \ne j`."""
    out = []
    for key, value in (case or {}).items():
        if isinstance(key, sp.KroneckerDelta) and value in (0, 1):
            out.append((sp.Ne if value == 0 else sp.Eq)(*key.args[:2]))
        elif isinstance(key, sp.Symbol) and isinstance(value, sp.Symbol) and value.name == key.name:
            for prop, rel in (
                ("positive", sp.Gt),
                ("negative", sp.Lt),
                ("nonnegative", sp.Ge),
                ("nonpositive", sp.Le),
            ):
                if getattr(value, f"is_{prop}") and not getattr(key, f"is_{prop}"):
                    out.append(rel(key, 0))
                    break
        else:
            out.append(sp.Eq(key, value))
    return [c for c in out if c is not sp.true]


def partition_problem(cases: list, assumptions=()) -> str | None:
    r"""Why ``cases`` (substitutions, see :func:`case_conditions`) do not cover every point the
    assumptions allow, or ``None`` when they do: a case split must be a checked partition."""
    if not cases:
        return None
    conds = [case_conditions(c) for c in cases]
    cover = sp.Or(*(sp.And(*c) for c in conds))
    if cover is sp.true:
        return None
    symbols = set().union(*(c.free_symbols for group in conds for c in group))
    shown = "; ".join(", ".join(map(sp.sstr, group)) or "no condition" for group in conds)
    if len(symbols) == 1:
        x = next(iter(symbols))
        domain = sp.S.Reals if x.is_integer is not True else sp.S.Integers
        for a in assumptions:
            if isinstance(a, sp.Rel) and a.free_symbols == {x}:
                domain = domain & a.as_set()
        for prop, region in (
            ("positive", sp.Interval.open(0, sp.oo)),
            ("nonnegative", sp.Interval(0, sp.oo)),
            ("negative", sp.Interval.open(-sp.oo, 0)),
            ("nonpositive", sp.Interval(-sp.oo, 0)),
        ):
            if getattr(x, f"is_{prop}"):
                domain = domain & region
        try:
            missing = domain - cover.as_set()
        except (NotImplementedError, TypeError, ValueError):
            missing = None
        if missing is sp.S.EmptySet:
            return None
        if missing is not None:
            return f"the cases {shown} do not cover {x} in {sp.sstr(missing)}"
    return f"the cases {shown} are not shown to cover every point the assumptions allow"


# --------------------------------------------------------------------------- equality


def equal(a, b, assumptions=()) -> bool:
    r"""Whether SymPy proves ``a == b`` (entry by entry for matrices), with sums renamed apart."""
    a, b = (x if isinstance(x, sp.MatrixBase) else sp.Matrix([x]) for x in (a, b))
    if a.shape != b.shape:
        return False
    return all(_zero(x - y, assumptions) for x, y in zip(a, b))


def _zero(diff, assumptions) -> bool:
    if diff == 0:
        return True
    if not diff.has(sp.Piecewise, sp.Heaviside, sp.Max, sp.Min, sp.Abs, sp.sign):
        # Sound shortcut: 0 as a rational function with each e^u an independent positive symbol
        atoms = {e: sp.Dummy(positive=True) for e in diff.atoms(sp.exp)}
        if atoms and sp.cancel(sp.together(diff.xreplace(atoms))) == 0:
            return True
        if sp.cancel(sp.together(diff)) == 0:
            return True
    for _ in range(2):  # simplify may move a sum into another: rename its variables again
        diff = canonical(sp.simplify(diff))
        if diff == 0:
            return True
    try:
        return diff.equals(0) is True
    except (RecursionError, TypeError, ValueError):  # SymPy gave up: not proved
        return False


# --------------------------------------------------------------------------- the step


def check_step(
    before,
    after,
    relation: str = "=",
    assumptions=(),
    *,
    definitions: dict | None = None,
    rules=(),
    substitutions: dict | None = None,
    case: dict | None = None,
    refute=None,
) -> StepVerdict:
    r"""Whether ``before relation after`` follows from the stated ``assumptions``.

    Parameters
    ----------
    before, after : SymPy expressions or matrices, as written (unevaluated).
    relation : str
        One of :data:`RELATIONS`.
    assumptions : sequence of SymPy relations
        The stated assumptions (``x > 0``, ``Ne(i, j)``, ``i <= n``); declared signs count too.
    definitions : dict
        Fresh names and what they stand for (:func:`definition_problem` must accept them).
    rules : sequence of Rule
        Cited rules; each ``Eq`` statement is used left to right, and named in ``needs``.
    substitutions : dict
        Hypotheses made at every point (``{b[p]: 0}``; a sum constraint ``{Sum(d_j): 1}``), checked
        for consistency with the declared signs and the assumptions.
    case : dict
        One case of a case split (its conditions join the assumptions; see :func:`case_conditions`).
    refute : callable, optional
        ``refute(before, after, relation)`` returning a counterexample (with a ``point``) or ``None``;
        it can only make the core say "does not follow".
    """
    if relation not in RELATIONS:
        return StepVerdict(False, f"unknown relation {relation!r}: the relations are {', '.join(RELATIONS)}")
    definitions = definitions or {}
    problem = definition_problem(definitions, assumptions)
    if problem:
        return StepVerdict(False, problem)
    assumptions = (*assumptions, *case_conditions(case))
    problem = inconsistency(assumptions, substitutions)
    if problem:
        return StepVerdict(False, f"inconsistent assumptions: {problem}")
    if any(not isinstance(r, Rule) for r in rules):
        return StepVerdict(False, "a cited rule must be a core.Rule (name, statement, status)")
    rewrites = {
        **definitions,
        **{r.statement.lhs: r.statement.rhs for r in rules if isinstance(r.statement, sp.Eq)},
    }
    needs: list[str] = [f"{r.name} ({r.status})" for r in rules]
    written = [before, after, *rewrites.values()]
    unfolded = [unfold(x, rewrites, substitutions) for x in (before, after)]
    for side in (*written, *unfolded):
        entries = side if isinstance(side, sp.MatrixBase) else [side]
        for cond in (c for e in entries for c in side_conditions(sp.sympify(e))):
            text = sp.sstr(cond)
            met = implied(cond, assumptions) or (case and implied(cond.subs(case), assumptions))
            if not met:
                return StepVerdict(
                    False, f"needs {text}, which is not among the stated assumptions", None, [text]
                )
            if text not in needs:
                needs.append(text)
    forms = [[normal_form(x, rewrites, substitutions, case) for x in (before, after)]]
    if relation != "=":  # the sign rules may need the form as written (log exp(a_p), not a_p)
        forms.insert(0, [x.subs(case).subs(substitutions or {}) if case else x for x in unfolded])
    if any(_prove(a, b, relation, assumptions) for a, b in forms):
        return StepVerdict(True, f"proved by SymPy ({relation_text(relation)})", None, needs)
    found = refute(before, after, relation) if refute is not None else None
    if found is not None:
        point = getattr(found, "point", found)
        where = ", ".join(f"{k} = {v}" for k, v in point.items())
        return StepVerdict(False, f"{relation_text(relation)} fails at {where}", dict(point), needs)
    return StepVerdict(None, f"SymPy could not decide {relation_text(relation)}", None, needs)


def check_citation(before, after, instances, rules) -> StepVerdict:
    r"""Whether ``after`` is ``before`` with exactly the cited ``instances`` (pairs ``(lhs, rhs)``)
    substituted, each justified by a named :class:`Rule` (whose status says how far it is checked).

    Nothing else may change in a cited step: no simplification, no stray factor."""
    if not rules or not all(isinstance(r, Rule) for r in rules):
        return StepVerdict(False, "a cited step must name the core.Rule(s) it applies")
    if not instances:
        return StepVerdict(False, "a cited step must list the instances of its rule it substitutes")
    names = ", ".join(r.name for r in rules)
    if sp.sympify(before).xreplace(dict(instances)) != after:
        return StepVerdict(False, f"is not the step before with {names} applied, and nothing else")
    return StepVerdict(True, f"applies {names}", None, [f"{r.name} ({r.status})" for r in rules])


def _prove(before, after, relation: str, assumptions) -> bool:
    if relation == "=":
        return equal(before, after, assumptions)
    lo, hi = (before, after) if relation in ("<=", "<") else (after, before)
    pairs = zip(*(x if isinstance(x, sp.MatrixBase) else [x] for x in (lo, hi)))
    decide = nonnegative if relation in ("<=", ">=") else positive
    return all(
        any(decide(f, assumptions) for f in (d, sp.expand(d), sp.factor(d)))
        for d in (h - l for l, h in pairs)
    )
