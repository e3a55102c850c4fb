r"""Deciding one step: a proof through the trusted core, or an exact counterexample.

"Follows" needs both: no counterexample at the sample points, and a proof. The proof brings
both sides to a normal form (definitions unfolded, each sum split by linearity, factors free
of the summation index taken out, :math:`\sum_k \delta_{kx} f(k) = f(x)` for an index
:math:`x` in the sum's range, bound indices renamed by depth, :math:`e^{a_x}` as an atom) and
asks :func:`proves` whether they are equal under the learner's conditions; :func:`proves` only
asks the trusted core, :func:`backproof.symbolic.core.check_step`, which decides.

"Does not follow" needs an exact counterexample: integer sizes and indices, integer logits
:math:`a` (so each :math:`e^{a_k}` is a power of :math:`e`), rational :math:`e, d`; the
difference is then a rational function of :math:`e` with rational coefficients, and it is
non-zero exactly when that function is, because :math:`e` is transcendental. Points are
searched in 50-digit arithmetic (:func:`_fast`); the point reported is evaluated again exactly
(:class:`_Q`), or by SymPy when a logarithm is left.

Non-goals: proofs that need more than algebra, linearity of sums and the Kronecker delta.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from fractions import Fraction

import mpmath
import sympy as sp

from .read import N

__all__ = ["Point", "differs", "normal", "proves", "refute"]

EXP = sp.IndexedBase("exp_a")  # e^{a_x}, an atom of the normal form
_EULER = sp.Symbol("euler", positive=True)


# ------------------------------------------------------------------- normal form


def _exp_atoms(expr: sp.Expr) -> sp.Expr:
    def atom(e):
        arg = sp.expand(e.args[0])
        out = sp.Integer(1)
        for t in sp.Add.make_args(arg):
            c, rest = t.as_coeff_Mul()
            if isinstance(rest, sp.Indexed) and str(rest.base.label) == "a" and c.is_Rational:
                out *= EXP[rest.indices] ** c
            elif t.is_Rational:
                out *= sp.exp(t)
            else:
                return e
        return out

    return expr.replace(lambda e: isinstance(e, sp.exp), atom)


def _collapse(body: sp.Expr, k: sp.Symbol, lo, hi) -> sp.Expr:
    r"""``Σ_{k=lo}^{hi} body`` by linearity, with factors free of k taken out and δ_{kx} collapsed."""
    out = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(body)):
        dep: list[sp.Expr] = []
        ind: list[sp.Expr] = []
        for f in sp.Mul.make_args(term):
            (dep if k in f.free_symbols else ind).append(f)
        delta = next(
            (
                f
                for f in dep
                if isinstance(f, sp.KroneckerDelta)
                and k in f.args
                and len(f.free_symbols - {k}) == len(f.free_symbols) - 1
            ),
            None,
        )
        if delta is not None:
            x = delta.args[0] if delta.args[1] == k else delta.args[1]
            if k not in x.free_symbols and _in_range(x, lo, hi):
                rest = sp.Mul(*[f for f in dep if f is not delta]).xreplace({k: x})
                out += sp.Mul(*ind) * _normal_sums(rest)
                continue
        if not dep:
            out += sp.Mul(*ind) * (hi - lo + 1)
        else:
            out += sp.Mul(*ind) * sp.Sum(sp.Mul(*dep), (k, lo, hi))
    return out


def _in_range(x, lo, hi) -> bool:
    r"""A free index is assumed to be a class (stated in every report); a number is checked."""
    if x.is_Integer:
        return bool(sp.simplify(lo <= x)) is True and (hi.is_Integer is False or bool(x <= hi))
    return True


def _normal_sums(expr: sp.Expr) -> sp.Expr:
    if isinstance(expr, sp.Sum):
        (k, lo, hi) = expr.limits[0]
        body = _normal_sums(expr.function)
        return _collapse(body, k, lo, hi)
    if expr.is_Atom or isinstance(expr, sp.Indexed):
        return expr
    return expr.func(*[_normal_sums(a) for a in expr.args])


def _canon(expr: sp.Expr, depth: int = 0) -> sp.Expr:
    if isinstance(expr, sp.Sum):
        (k, lo, hi) = expr.limits[0]
        nk = sp.Symbol(f"κ{depth}", integer=True)
        return sp.Sum(_canon(expr.function.xreplace({k: nk}), depth + 1), (nk, lo, hi))
    if expr.is_Atom or isinstance(expr, sp.Indexed):
        return expr
    return expr.func(*[_canon(a, depth) for a in expr.args])


def normal(expr: sp.Expr) -> sp.Expr:
    r"""The normal form used by the proof (see the module's docstring)."""
    expr = _exp_atoms(expr)
    for _ in range(3):
        new = _canon(_normal_sums(expr))
        if new == expr:
            break
        expr = new
    return expr


def unnormal(expr: sp.Expr) -> sp.Expr:
    r"""The normal form with each atom e^{a_x} written as an exponential again."""
    return expr.replace(
        lambda e: isinstance(e, sp.Indexed) and e.base == EXP,
        lambda e: sp.exp(sp.IndexedBase("a", real=True)[e.indices]),
    )


def apply_case(expr: sp.Expr, case: list[tuple[str, sp.Symbol, sp.Symbol]]) -> sp.Expr:
    for kind, i, j in case:
        if kind == "sum1":  # Σ_k d_k = 1: a substitution the core makes (see proves)
            continue
        if kind == "eq":
            expr = expr.xreplace({j: i})
        else:
            pair = {i, j}
            expr = expr.replace(
                lambda e, pair=pair: isinstance(e, sp.KroneckerDelta) and set(e.args) == pair,
                lambda e: sp.Integer(0),
            )
    return expr


def proves(
    before: sp.Expr, after: sp.Expr, assumptions: list, substitutions: dict | None = None
) -> tuple[bool | None, str]:
    r"""Whether ``before = after`` is proved, and the reason: asked of the trusted core.

    ``before`` and ``after`` are normal forms (:func:`normal`), given to
    :func:`backproof.symbolic.core.check_step` with each :math:`e^{a_x}` written as an exponential
    again, and ``assumptions`` as SymPy relations (the learner's conditions, and that each free
    index is a class). The core checks the side conditions (every denominator non-zero) itself.
    """
    from backproof.symbolic import core

    verdict = core.check_step(
        unnormal(before), unnormal(after), "=", assumptions, substitutions=substitutions
    )
    return verdict.follows, verdict.reason


# ------------------------------------------------------------------- exact refutation


@dataclass
class Point:
    r"""A point where two expressions were compared: sizes, indices and values."""

    sizes: dict[str, int]
    indices: dict[str, int]
    values: dict[str, dict[tuple, Fraction]]

    def shown(self) -> dict[str, str]:
        out = {k: str(v) for k, v in {**self.sizes, **self.indices}.items()}
        for name, vals in sorted(self.values.items()):
            keys = sorted(vals)
            if keys == [()]:
                out[name] = str(vals[()])
            elif all(len(t) == 1 for t in keys):
                out[name] = "(" + ", ".join(str(vals[t]) for t in keys) + ")" + _index_note(keys)
            else:
                out[name] = ", ".join(f"{name}[{','.join(map(str, t))}]={vals[t]}" for t in keys)
        return out


def _index_note(keys) -> str:
    first = keys[0][0] if keys else 1
    return "" if first == 1 else f" (from index {first})"


def _value(rng: random.Random, name: str) -> Fraction:
    r"""Integers for what may reach an exponential (a, W, h, b, x, …), small fractions for e and d."""
    if name in ("e", "d", "δ"):
        return Fraction(rng.choice([-3, -2, -1, 1, 2, 3]), rng.choice([1, 1, 2, 3]))
    return Fraction(rng.randint(-2, 2))


def _size_symbols(expr: sp.Expr) -> set[sp.Symbol]:
    out: set[sp.Symbol] = set()
    for s in expr.atoms(sp.Sum):
        for _, lo, hi in s.limits:
            out |= {
                x
                for x in sp.sympify(lo).free_symbols | sp.sympify(hi).free_symbols
                if isinstance(x, sp.Symbol)
            }
    return {s for s in out if "'" not in s.name and "κ" not in s.name} | (
        {N} if N in expr.free_symbols else set()
    )


def _evaluate(expr: sp.Expr, pt: Point, rng: random.Random) -> sp.Expr:
    fixed = {**pt.sizes, **pt.indices}
    expr = expr.xreplace(
        {
            s: sp.Integer(fixed[s.name])
            for s in expr.free_symbols
            if isinstance(s, sp.Symbol) and s.name in fixed
        }
    )
    expr = expr.doit()
    rep = {}
    for x in expr.atoms(sp.Indexed):
        if not all(t.is_Integer for t in x.indices):
            raise ValueError("an index left free")
        name, key = str(x.base.label), tuple(int(t) for t in x.indices)
        vals = pt.values.setdefault(name, {})
        if key not in vals:
            vals[key] = _value(rng, name)
        rep[x] = sp.Rational(vals[key].numerator, vals[key].denominator)
    expr = expr.xreplace(rep)
    for s in expr.free_symbols:
        vals = pt.values.setdefault(str(s), {})
        vals.setdefault((), _value(rng, str(s)))
        rep[s] = sp.Rational(vals[()].numerator, vals[()].denominator)
    return expr.xreplace(rep)


def differs(x: sp.Expr, y: sp.Expr) -> bool | None:
    r"""Whether two closed expressions (numbers) differ, exactly; None when it cannot tell."""
    d = x - y
    d = d.replace(lambda e: isinstance(e, sp.exp) and e.args[0].is_Integer, lambda e: _EULER ** e.args[0])
    d = d.xreplace({sp.E: _EULER})
    if d.free_symbols <= {_EULER} and not d.has(sp.log, sp.exp, sp.Heaviside, sp.Max):
        return sp.cancel(sp.together(d)) != 0
    v = sp.N(x - y, 60)
    if v.is_Number and not v.has(sp.nan, sp.zoo):
        return bool(abs(v) > sp.Float("1e-40", 60))
    return None


def points(
    frees: list[sp.Symbol],
    conds: list[tuple[str, sp.Symbol, sp.Symbol]],
    sizes: set[sp.Symbol],
    lo: sp.Expr,
    seed: int = 0,
    count: int = 6,
):
    r"""Sample points: small sizes, indices equal and distinct, respecting the learner's conditions."""
    rng = random.Random(seed)
    base = int(lo) if lo.is_Integer else 1
    size_values = [3, 4, 2, 3, 5, 4]
    index_choices = list(itertools.product(range(base, base + 3), repeat=len(frees)))
    rng.shuffle(index_choices)
    index_choices.sort(key=lambda t: len(set(t)) != len(t))  # distinct first, then equal ones
    equal_first = [t for t in index_choices if len(set(t)) < len(t)]
    picks = index_choices[:count]
    if equal_first and not any(len(set(t)) < len(t) for t in picks):
        picks = picks[: count - 1] + equal_first[:1]
    out = []
    for n_point, ix in enumerate(picks or [()]):
        ind = {str(s): v for s, v in zip(frees, ix)}
        ok = True
        for kind, i, j in conds:
            if kind == "sum1":
                continue
            vi, vj = ind.get(str(i)), ind.get(str(j))
            if vi is not None and vj is not None and (vi == vj) != (kind == "eq"):
                ok = False
        if not ok:
            continue
        size = size_values[n_point % len(size_values)]
        sz = {str(s): max(size, max(ix, default=0) + (1 - base)) for s in sizes}
        pt = Point(sz, ind, {})
        point_rng = random.Random(rng.random())
        for kind, first, last in conds:
            if kind == "sum1":  # targets that sum to 1, as the learner stated
                fix = {N: sz.get("n", size), **{s: sz[str(s)] for s in sizes}}
                a, b = (int(sp.sympify(x).xreplace(fix)) for x in (first, last))
                d = {(k,): _value(point_rng, "d") for k in range(a, b)}
                d[(b,)] = 1 - sum(d.values(), Fraction(0))
                pt.values["d"] = d
        out.append((pt, point_rng))
    return out


class _Unknown(Exception):  # noqa: N818 - internal: an expression the evaluator cannot take
    pass


_MEMO = sp.Symbol("memo'")  # the key of the memo of sums inside ``bound``
_FREE: dict = {}


def _fast(expr: sp.Expr, pt: Point, rng: random.Random, bound: dict) -> mpmath.mpf:
    r"""``expr`` at ``pt`` in 50-digit arithmetic (a search; a point found is then checked exactly)."""
    if expr.is_Integer or expr.is_Rational:
        return mpmath.mpf(expr.p) / expr.q
    if isinstance(expr, sp.Symbol):
        if expr in bound:
            return mpmath.mpf(bound[expr])
        name = expr.name
        if name in pt.sizes:
            return mpmath.mpf(pt.sizes[name])
        if name in pt.indices:
            return mpmath.mpf(pt.indices[name])
        vals = pt.values.setdefault(name, {})
        v = vals.setdefault((), _value(rng, name))
        return mpmath.mpf(v.numerator) / v.denominator
    if isinstance(expr, sp.Indexed):
        key = tuple(int(_fast(t, pt, rng, bound)) for t in expr.indices)
        vals = pt.values.setdefault(str(expr.base.label), {})
        if key not in vals:
            vals[key] = _value(rng, str(expr.base.label))
        v = vals[key]
        return mpmath.mpf(v.numerator) / v.denominator
    args = expr.args
    if isinstance(expr, sp.Add):
        return mpmath.fsum(_fast(a, pt, rng, bound) for a in args)
    if isinstance(expr, sp.Mul):
        out = mpmath.mpf(1)
        for a in args:
            out *= _fast(a, pt, rng, bound)
        return out
    if isinstance(expr, sp.Pow):
        base = _fast(args[0], pt, rng, bound)
        if base == 0 and _fast(args[1], pt, rng, bound) <= 0:
            raise ZeroDivisionError
        return base ** _fast(args[1], pt, rng, bound)
    if isinstance(expr, sp.exp):
        return mpmath.exp(_fast(args[0], pt, rng, bound))
    if isinstance(expr, sp.log):
        x = _fast(args[0], pt, rng, bound)
        if x <= 0:
            raise ZeroDivisionError
        return mpmath.log(x)
    if isinstance(expr, sp.KroneckerDelta):
        return mpmath.mpf(int(_fast(args[0], pt, rng, bound) == _fast(args[1], pt, rng, bound)))
    if isinstance(expr, sp.Heaviside):
        x = _fast(args[0], pt, rng, bound)
        return mpmath.mpf(1 if x > 0 else 0 if x < 0 else 0.5)
    if isinstance(expr, sp.Max):
        return max(_fast(a, pt, rng, bound) for a in args)
    if isinstance(expr, sp.Sum):
        memo = bound.setdefault(_MEMO, {})
        if expr not in _FREE:
            _FREE[expr] = tuple(expr.free_symbols)
        memo_key = (expr, tuple(bound.get(x) for x in _FREE[expr]))
        if memo_key in memo:
            return memo[memo_key]
        (k, lo, hi) = expr.limits[0]
        first, last = int(_fast(lo, pt, rng, bound)), int(_fast(hi, pt, rng, bound))
        total = mpmath.mpf(0)
        for m in range(first, last + 1):
            total += _fast(expr.function, pt, rng, {**bound, k: m})
        memo[memo_key] = total
        return total
    if expr is sp.E:
        return mpmath.e
    raise _Unknown(type(expr).__name__)


class _Q:
    r"""An exact number p(t)/q(t), t = e, p and q Laurent polynomials with rational coefficients.

    Every value the refuter meets (integer logits, rational e and d) lies in this field, and a
    value is zero exactly when p is the zero polynomial, because e is transcendental.
    """

    __slots__ = ("den", "num")

    def __init__(self, num: dict[int, Fraction], den: dict[int, Fraction] | None = None):
        self.num = {k: v for k, v in num.items() if v}
        self.den = den or {0: Fraction(1)}

    @staticmethod
    def _mul(p, q):
        out: dict[int, Fraction] = {}
        for a, x in p.items():
            for b, y in q.items():
                out[a + b] = out.get(a + b, Fraction(0)) + x * y
        return {k: v for k, v in out.items() if v}

    @staticmethod
    def _add(p, q):
        out = dict(p)
        for k, v in q.items():
            out[k] = out.get(k, Fraction(0)) + v
        return {k: v for k, v in out.items() if v}

    def __add__(self, o):
        return _Q(
            self._add(self._mul(self.num, o.den), self._mul(o.num, self.den)), self._mul(self.den, o.den)
        )

    def __mul__(self, o):
        return _Q(self._mul(self.num, o.num), self._mul(self.den, o.den))

    def inverse(self):
        if not self.num:
            raise ZeroDivisionError
        return _Q(self.den, self.num)

    def power(self, k: int):
        base = self if k >= 0 else self.inverse()
        out = _Q({0: Fraction(1)})
        for _ in range(abs(k)):
            out = out * base
        return out

    def is_zero(self) -> bool:
        return not self.num

    def as_rational(self) -> Fraction | None:
        if set(self.num) <= {0} and set(self.den) == {0}:
            return self.num.get(0, Fraction(0)) / self.den[0]
        return None

    def value(self) -> mpmath.mpf:
        def ev(p):
            return mpmath.fsum(v.numerator * mpmath.e**k / v.denominator for k, v in p.items())

        with mpmath.workdps(50):
            return ev(self.num) / ev(self.den)


def _exact(expr: sp.Expr, pt: Point, bound: dict | None = None) -> _Q:
    r"""``expr`` at ``pt``, exactly (values already drawn by the search); raises _Unknown otherwise."""
    bound = {} if bound is None else bound
    if expr.is_Rational:
        return _Q({0: Fraction(int(expr.p), int(expr.q))})
    if isinstance(expr, sp.Symbol):
        if expr in bound:
            return _Q({0: Fraction(bound[expr])})
        for table in (pt.sizes, pt.indices):
            if expr.name in table:
                return _Q({0: Fraction(table[expr.name])})
        return _Q({0: pt.values[expr.name][()]})
    if isinstance(expr, sp.Indexed):
        key = tuple(_int(_exact(t, pt, bound)) for t in expr.indices)
        return _Q({0: pt.values[str(expr.base.label)][key]})
    args = expr.args
    if isinstance(expr, sp.Add):
        out = _Q({})
        for a in args:
            out = out + _exact(a, pt, bound)
        return out
    if isinstance(expr, sp.Mul):
        out = _Q({0: Fraction(1)})
        for a in args:
            out = out * _exact(a, pt, bound)
        return out
    if isinstance(expr, sp.Pow):
        k = _exact(args[1], pt, bound).as_rational()
        if k is None or k.denominator != 1:
            raise _Unknown("a power that is not an integer")
        return _exact(args[0], pt, bound).power(int(k))
    if isinstance(expr, sp.exp):
        k = _exact(args[0], pt, bound).as_rational()
        if k is None or k.denominator != 1:
            raise _Unknown("an exponential of a non-integer")
        return _Q({int(k): Fraction(1)})
    if expr is sp.E:
        return _Q({1: Fraction(1)})
    if isinstance(expr, sp.KroneckerDelta):
        x, y = (_exact(a, pt, bound).as_rational() for a in args)
        return _Q({0: Fraction(int(x == y))})
    if isinstance(expr, sp.Sum):
        (k, lo, hi) = expr.limits[0]
        out = _Q({})
        for v in range(_int(_exact(lo, pt, bound)), _int(_exact(hi, pt, bound)) + 1):
            out = out + _exact(expr.function, pt, {**bound, k: v})
        return out
    raise _Unknown(type(expr).__name__)


def _int(q: _Q) -> int:
    r = q.as_rational()
    if r is None or r.denominator != 1:
        raise _Unknown("an index that is not an integer")
    return int(r)


def agree(before: sp.Expr, after: sp.Expr, frees, conds, lo, seed: int = 0) -> bool:
    r"""True when the two agree at every sample point and at least three points could be evaluated.

    For naming a target or a slip only: agreement at points is evidence, not a proof.
    """
    sizes = _size_symbols(before) | _size_symbols(after)
    seen = 0
    for pt, rng in points(frees, conds, sizes, lo, seed):
        try:
            with mpmath.workdps(30):
                x = _fast(before, pt, rng, {})
                y = _fast(after, pt, rng, {})
        except (ZeroDivisionError, _Unknown, ValueError, TypeError, OverflowError, KeyError):
            continue
        if abs(x - y) > mpmath.mpf(10) ** -20 * (1 + abs(x) + abs(y)):
            return False
        seen += 1
    return seen >= 3


def refute(
    before: sp.Expr,
    after: sp.Expr,
    frees: list[sp.Symbol],
    conds: list[tuple[str, sp.Symbol, sp.Symbol]],
    lo: sp.Expr,
    seed: int = 0,
    exact: bool = True,
) -> tuple[Point, sp.Expr, sp.Expr] | None:
    r"""A point where ``before`` and ``after`` differ, with both values; None if none is found.

    The search evaluates in 50-digit arithmetic; with ``exact`` the point found is evaluated
    again exactly (:func:`differs`) and reported only if the difference is certainly non-zero.
    """
    sizes = _size_symbols(before) | _size_symbols(after)
    for pt, rng in points(frees, conds, sizes, lo, seed):
        try:
            with mpmath.workdps(50):
                x = _fast(before, pt, rng, {})
                y = _fast(after, pt, rng, {})
                if abs(x - y) <= mpmath.mpf(10) ** -25 * (1 + abs(x) + abs(y)):
                    continue
        except (ZeroDivisionError, _Unknown, ValueError, TypeError, OverflowError):
            continue
        if not exact:
            return pt, sp.Float(x, 15), sp.Float(y, 15)
        try:
            diff = _exact(before, pt) + _exact(after, pt) * _Q({0: Fraction(-1)})
            certain = not diff.is_zero()
        except (_Unknown, KeyError, ZeroDivisionError):  # log, Max, …: SymPy decides exactly
            try:
                certain = bool(differs(_evaluate(before, pt, rng), _evaluate(after, pt, rng)))
            except (ValueError, TypeError, ZeroDivisionError):
                continue
        if certain:
            return pt, sp.Float(x, 15), sp.Float(y, 15)
    return None
