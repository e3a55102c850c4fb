r"""The refuter: looks for a point where a claimed relation fails, and evaluates it exactly.

:func:`refute` sets every symbolic size to an integer from 2 to 12 (both ends are always
tried), every index to an integer in range (equal indices allowed), every undefined function
to a random polynomial, and every other symbol to a rational; it tries several seeds and
several points per seed, in four moods: spread-out values, values all *nearly equal*, values
all *equal*, and values *far apart* (the logits of a softmax behave very differently in each).
Both sides are evaluated exactly (rationals; :math:`e^q` and :math:`\log q` by 50-digit
interval arithmetic) *before any simplification*, and a point counts only when the interval
proves the sides differ. A counterexample is therefore a proof that the claim is false;
finding none proves nothing.

Points that break a stated assumption (:math:`x > 0`, :math:`i \ne j`, :math:`i \le n`) or a
symbol's declared sign are never used.

Non-goals: searching for counterexamples cleverly (no optimisation, no SMT solver).
"""

from __future__ import annotations

import functools
import math
import time
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from .core import RELATIONS, relation_text, rename_apart

__all__ = ["MOODS", "SIZES", "Counterexample", "refute"]

SIZES = (2, 12)  #: symbolic sizes are drawn from this range, ends included
MOODS = ("near", "spread", "equal", "far")  #: how the real values of one point are drawn
REFUTATION = "rational-point refutation"
SHAPES = "shapes differ"
_INDEX_NAMES = frozenset("ijkpqrs")


@dataclass(frozen=True)
class Counterexample:
    r"""A point (exact values) where ``lhs relation rhs`` is false, and both sides' values there."""

    point: dict
    lhs: object
    rhs: object
    relation: str = "="
    method: str = REFUTATION

    def __str__(self) -> str:
        where = ", ".join(f"{k} = {v}" for k, v in self.point.items()) or "every point"
        rel = relation_text(self.relation)
        return f"at {where}: left side {sp.sstr(self.lhs)}, right side {sp.sstr(self.rhs)}, so {rel} fails"

    def __getitem__(self, k):  # ``(method, point)``, as the engine's refute returned before
        return (self.method, self.point)[k]


def refute(
    lhs,
    rhs,
    relation: str = "=",
    assumptions=(),
    *,
    definitions: dict | None = None,
    hypotheses: dict | None = None,
    case: dict | None = None,
    choices: dict | None = None,
    seed: int = 0,
    seeds: int = 3,
    points: int = 8,
    seconds: float = 10.0,
    sizes: tuple[int, int] = SIZES,
) -> Counterexample | None:
    r"""A point where ``lhs relation rhs`` is false, with exact values, or ``None`` if none is found.

    Parameters
    ----------
    lhs, rhs : sympy.core.basic.Basic
        The two sides. Symbols declared ``integer`` are sizes (when a sum runs up to them, or
        named other than ``i j k p q r s``) or indices; ``Indexed`` entries, undefined functions
        and other symbols are drawn at random.
    relation : str
        One of ``backproof.symbolic.core.RELATIONS``: the claim is ``lhs relation rhs``.
    assumptions : sequence of sympy.core.basic.Basic
        Every point used satisfies them (``x > 0``, ``sp.Ne(i, j)``, ``i <= n``).
    definitions : dict, optional
        Names and what they stand for, unfolded first (``{g[i]: exp(a[i]) / S}``).
    hypotheses : dict, optional
        Substitutions that hold at every point (``{b[p]: 0}``, ``{Sum(d[j], (j, 1, n)): 1}``: a
        sum constraint is solved for its last term); a key ``Le(i, n): True`` is an assumption.
    case : dict, optional
        A substitution for one case of a case split (``{a: a_pos}``).
    choices : dict, optional
        Symbols drawn from a finite set instead (``{m: (0, 1)}``).
    seed, seeds, points : int
        Seeds ``seed, seed + 1, ...``; ``points`` points per seed, the moods taken in turn.
    seconds : float
        Give up (return ``None``) after this long.
    sizes : tuple of int
        The range symbolic sizes are drawn from, both ends tried first (default 2 to 12).

    Examples
    --------
    >>> import sympy as sp
    >>> x = sp.Symbol("x", real=True)
    >>> found = refute(x**2, x, "<=", [x > 0])  # false: x = 2 gives 4 > 2
    >>> found.point["x"] > 1 and found.lhs > found.rhs
    True
    >>> refute(x**2, x**2 + 1, "<") is None  # true: no counterexample (which proves nothing)
    True
    """
    if relation not in RELATIONS:
        raise ValueError(f"unknown relation {relation!r}: use one of {', '.join(RELATIONS)}")
    start = time.perf_counter()
    stated, subs = _split(assumptions, hypotheses)
    sides = [rename_apart(_unfold(x, definitions, subs, case)) for x in (lhs, rhs)]  # before any value is set
    if isinstance(sides[0], sp.MatrixBase) != isinstance(sides[1], sp.MatrixBase) or (
        isinstance(sides[0], sp.MatrixBase) and sides[0].shape != sides[1].shape
    ):
        return Counterexample({}, lhs, rhs, relation, SHAPES)
    sides = [s if isinstance(s, sp.MatrixBase) else sp.Matrix([s]) for s in sides]
    stated = [sp.sympify(a).xreplace(case) if case else sp.sympify(a) for a in stated]
    stated += [
        (sp.Ne if v == 0 else sp.Eq)(*k.args[:2])
        for k, v in (case or {}).items()
        if isinstance(k, sp.KroneckerDelta)
    ]
    everything = [
        *sides,
        sp.Matrix([*(a.lhs - a.rhs for a in stated if isinstance(a, sp.Rel)), *subs.keys()]),
    ]
    size_syms, indices = _integers(everything, stated)
    undef = sorted({f.func for e in sides for f in e.atoms(AppliedUndef)}, key=str)
    if not size_syms and not indices and not undef:  # the same expressions at every point: evaluate once
        sides = [e.applyfunc(lambda v: v.doit()) for e in sides]
    import numpy as np

    for trial in range(seeds * points):
        if time.perf_counter() - start > seconds:
            break
        s, t = divmod(trial, points)
        rng = np.random.default_rng([seed + s, t])
        try:
            found = _try(rng, t, sides, stated, subs, (sizes, size_syms), indices, undef, choices, relation)
        except (TypeError, ValueError, ZeroDivisionError, NotImplementedError, IndexError):
            continue
        if found is not None:
            point, left, right = found
            return Counterexample(point, left, right, relation)
    return None


def _split(assumptions, hypotheses) -> tuple[list, dict]:
    """Stated relations (checked at each point) and substitutions (made at each point)."""
    stated = [
        a for a in assumptions if isinstance(a, sp.Rel)
    ]  # Q.real_elements(...) holds at rational points
    subs = {}
    for key, value in (hypotheses or {}).items():
        if isinstance(key, sp.Rel) and value is True:
            stated.append(key)
        elif isinstance(key, sp.KroneckerDelta) and value in (0, 1):
            stated.append((sp.Ne if value == 0 else sp.Eq)(*key.args[:2]))
        else:
            subs[key] = value
    return stated, subs


def _unfold(expr, definitions, subs, case):
    expr = sp.sympify(expr)
    if subs:
        expr = expr.subs(subs)
    for _ in range(6):  # definitions may refer to one another
        new = expr.xreplace(definitions) if definitions else expr
        if new == expr:
            break
        expr = new
    if case:
        expr = expr.subs(case)
    return expr


def _integers(exprs, stated) -> tuple[list, list]:
    """The integer symbols that are sizes (sums run up to them) and those that are indices."""
    free = set().union(*(e.free_symbols for e in exprs))
    integers = {s for s in free if isinstance(s, sp.Symbol) and s.is_integer}
    bounds = set()
    for e in exprs:
        for total in e.atoms(sp.Sum, sp.Product):
            bounds |= set().union(*(b.free_symbols for _, *bs in total.limits for b in bs))
    for a in stated:  # i <= n: n bounds an index
        if isinstance(a, (sp.LessThan, sp.StrictLessThan)):
            bounds |= a.rhs.free_symbols
        elif isinstance(a, (sp.GreaterThan, sp.StrictGreaterThan)):
            bounds |= a.lhs.free_symbols
    sizes = sorted((s for s in integers if s in bounds and s.name not in _INDEX_NAMES), key=str)
    sizes += sorted(
        (s for s in integers - set(sizes) if s.name not in _INDEX_NAMES and s not in bounds), key=str
    )
    indices = sorted(integers - set(sizes), key=str)
    return sizes, indices


def _size_values(rng, t: int, sizes) -> dict:
    (lo, hi), sizes = sizes
    first = (lo, hi, hi, lo + 1)  # both ends first: log 10 < log n only from n = 11
    if t < len(first):
        return {s: first[t] for s in sizes}
    return {s: int(rng.integers(lo, hi + 1)) for s in sizes}


def _real(rng, sym, mood: str, shared) -> sp.Rational:
    if mood == "equal":
        v = shared
    elif mood == "near":
        v = shared + sp.Rational(int(rng.integers(-5, 6)), 1000)
    else:
        v = sp.Rational(int(rng.integers(-19, 21)), int(rng.integers(1, 12)))
        if mood == "far":
            v *= 50
    if sym.is_positive and v <= 0:
        v = -v + sp.Rational(1, 1000)
    elif sym.is_nonnegative and v < 0:
        v = -v
    elif sym.is_negative and v >= 0:
        v = -v - sp.Rational(1, 1000)
    elif sym.is_nonpositive and v > 0:
        v = -v
    return v


def _polynomial(rng):
    coeffs = [sp.Rational(int(rng.integers(-4, 5)), int(rng.integers(1, 5))) for _ in range(6)]

    def poly(*args):
        out = coeffs[0]
        for q, x in enumerate(args):
            out += coeffs[1 + q % 5] * x + coeffs[(2 + q) % 6] * x**2
        return out + coeffs[5] * math.prod(args)

    return poly


def _try(rng, t, sides, stated, subs, sizes, indices, undef, choices, relation):
    values = _size_values(rng, t, sizes)
    top = min(values.values(), default=5)
    for _ in range(20):  # equal indices allowed, one past the range too; redraw until the assumptions hold
        values.update({s: int(rng.integers(1, top + 2)) for s in indices})
        if all(_truth(a.xreplace(values)) is not False for a in stated if not (a.free_symbols - set(values))):
            break
    else:
        return None
    polys = {f: _polynomial(rng) for f in undef}

    def fill(v):
        if polys:
            v = v.replace(lambda n: isinstance(n, AppliedUndef), lambda n: polys[n.func](*n.args))
        return v.xreplace(values).doit() if values or polys else v

    exprs = [e.applyfunc(fill) for e in sides]
    known = {}
    for key, v in subs.items():  # hypotheses: fixed values, or a sum constraint solved for one term
        key = fill(rename_apart(sp.sympify(key)))
        if key.is_number:
            if key != v:
                return None
            continue
        if isinstance(key, sp.Add):
            last = sorted(key.atoms(sp.Indexed) | (key.free_symbols - key.atoms(sp.IndexedBase)), key=str)[-1]
            known[last] = sp.solve(sp.Eq(key, v), last)[0]
        else:
            known[key] = v
    if known:
        exprs = [e.subs(known) for e in exprs]
    conds = [fill(rename_apart(a)) for a in stated]
    free = set().union(*(e.free_symbols for e in exprs), *(c.free_symbols for c in conds))
    free |= set().union(*(e.atoms(sp.Indexed) for e in exprs), *(c.atoms(sp.Indexed) for c in conds))
    free -= {e.base.label for e in free if isinstance(e, sp.Indexed)}  # b[1], not the name b
    mood = MOODS[t % len(MOODS)]
    # near and equal values around 0 first (the largest logit's gap is 0), then anywhere
    shared = sp.Rational(int(rng.integers(-19, 21)), int(rng.integers(1, 5)))
    shared = shared if t >= len(MOODS) else sp.Integer(0)
    point = {}
    for s in sorted(free, key=str):
        if isinstance(s, sp.IndexedBase) or (isinstance(s, sp.Symbol) and s.is_integer and s in values):
            continue
        if choices and s in choices:
            point[s] = sp.sympify(choices[s][int(rng.integers(len(choices[s])))])
        else:
            point[s] = _real(rng, s, mood, shared)
    if any(_truth(c.xreplace(point)) is not True for c in conds):
        return None  # the point breaks a stated assumption
    for u, v in zip(*exprs):  # entry by entry: stop at the first one that fails
        x, y = u.xreplace(point).doit(), v.xreplace(point).doit()
        sign = _sign(y - x)
        if sign is None:
            continue
        fails = {"=": sign != 0, "<=": sign < 0, "<": sign <= 0, ">=": sign > 0, ">": sign >= 0}[relation]
        if fails:
            shown = {**{str(k): v for k, v in values.items()}, **{str(k): v for k, v in point.items()}}
            return shown, x, y
    return None


def _truth(cond):
    """``True``/``False`` for a decided condition (exactly, or by interval arithmetic), else ``None``."""
    if cond in (sp.true, True):
        return True
    if cond in (sp.false, False):
        return False
    if isinstance(cond, sp.Rel) and cond.lhs.is_number and cond.rhs.is_number:
        s = _sign(cond.lhs - cond.rhs)
        if s is None:
            return None
        return {"==": s == 0, "!=": s != 0, ">": s > 0, ">=": s >= 0, "<": s < 0, "<=": s <= 0}[cond.rel_op]
    return None


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

    for digits in (50, 400):  # more digits only when 50 leave the sign open (huge exponents)
        old, iv.dps = iv.dps, digits
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
