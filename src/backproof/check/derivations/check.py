r"""Checking a derivation step by step, and saying which course result it targets and reaches.

Each step (line ``k`` to line ``k+1``) is decided by :mod:`._decide`: "follows" (proved, and
no counterexample found), "holds only for j ≠ i" (proved under a condition the learner did not
state; the counterexample is at i = j), "does not follow" (an exact counterexample), "could not
decide", or "not read" (a line the reader cannot read, with the reason; the steps on either side
of it are skipped, the rest of the chain is still checked). The first step that does not follow
gets a diagnosis from :mod:`.slips` when it matches a known slip.

Non-goals: judging prose; steps that are not equalities.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

import sympy as sp

from . import _decide as D
from .extract import Derivation, Item
from .read import INDEX_LETTERS, Env, NotRead, Read, Val, read_line

__all__ = ["TARGETS", "Step", "check_chain"]

# name -> (what it says, first line, last line, condition)
TARGETS: dict[str, tuple[str, str, str, tuple[str, str, str] | None]] = {
    "softmax-diagonal": (
        "∂g_i/∂a_i = g_i(1 − g_i)",
        r"\frac{\partial g_i}{\partial a_i}",
        r"g_i(1-g_i)",
        None,
    ),
    "softmax-off-diagonal": (
        "∂g_i/∂a_j = −g_i g_j for j ≠ i",
        r"\frac{\partial g_i}{\partial a_j}",
        r"-g_i g_j",
        ("ne", "i", "j"),
    ),
    "softmax-jacobian": (
        "∂g_i/∂a_j = g_i(δ_ij − g_j)",
        r"\frac{\partial g_i}{\partial a_j}",
        r"g_i\delta_{ij} - g_i g_j",
        None,
    ),
    "jacobian-symmetric": (
        "∂g_i/∂a_j = ∂g_j/∂a_i (J = Jᵀ)",
        r"\frac{\partial g_i}{\partial a_j}",
        r"\frac{\partial g_j}{\partial a_i}",
        None,
    ),
    "softmax-backward": ("δ = Jᵀe = g ⊙ e − ⟨g, e⟩ g", r"J^T e", r"g \odot e - \langle g, e \rangle g", None),
    "cross-entropy-gradient": ("∇_y E = −d/y", r"\nabla_y E", r"-d / y", None),
    "output-gradient": ("∂E/∂a_i = y_i − d_i when Σ_k d_k = 1", r"\nabla_a E", r"y - d", ("sum1", "d", "d")),
    "output-weight-gradient": (
        "∂E/∂W_ij = (y_i − d_i) h_j when Σ_k d_k = 1 (logits a_i = Σ_m W_im h_m + b_i)",
        r"\frac{\partial E}{\partial W_{ij}}",
        r"(y_i - d_i) h_j",
        ("sum1", "d", "d"),
    ),
    "shallow-update": (
        "W_ij − γ ∂E/∂W_ij = W_ij − γ (y_i − d_i) h_j when Σ_k d_k = 1 (logits a_i = Σ_m W_im h_m + b_i)",
        r"W_{ij} - \gamma\frac{\partial E}{\partial W_{ij}}",
        r"W_{ij} - \gamma (y_i - d_i) h_j",
        ("sum1", "d", "d"),
    ),
}
ALIASES = {
    "diagonal": "softmax-diagonal",
    "off-diagonal": "softmax-off-diagonal",
    "jacobian": "softmax-jacobian",
    "symmetric": "jacobian-symmetric",
    "delta": "softmax-backward",
    "backward": "softmax-backward",
    "gradient-y": "cross-entropy-gradient",
    "grad-y": "cross-entropy-gradient",
    "update": "shallow-update",
    "output": "output-gradient",
}

CLASSES = "every free index is a class, in the range of the sums"


@dataclass
class Step:
    r"""One step of a derivation and its verdict."""

    before: Item
    after: Item
    status: str  # follows | holds only if | does not follow | could not decide | not read
    reason: str = ""
    needs: list[str] = field(default_factory=list)
    counterexample: dict[str, str] = field(default_factory=dict)
    values: tuple[str, str] | None = None  # the two sides at the counterexample
    diagnosis: str | None = None
    slip: str | None = None
    exprs: tuple = ()  # the two sides as checked (definitions unfolded), for tests and the curious
    conditions: list[str] = field(default_factory=list)  # the learner's, under which it was checked


def _index_syms(names) -> list[sp.Symbol]:
    return [Env.index(n) for n in sorted(names)]


def scalar_pair(b: Read, a: Read, env: Env) -> tuple[sp.Expr, sp.Expr, list[str]]:
    r"""The two sides as numbers: a vector or matrix line is compared entry by entry at fresh indices."""
    frees = sorted(b.frees | a.frees)
    kb, ka = b.value.kind, a.value.kind
    if kb == ka:
        if kb == 0:
            return b.value.expr, a.value.expr, frees
        names = [c for c in "ijrs" if c not in frees][: (1 if abs(kb) == 1 else 2)]
        ix = _index_syms(names)
        return b.value.at(*ix), a.value.at(*ix), frees + names
    scalar_side, other = (b, a) if kb == 0 else (a, b)
    if abs(other.value.kind) == 1 and len(scalar_side.frees) == 1:
        (name,) = scalar_side.frees
        comp = other.value.at(Env.index(name))
        return (scalar_side.value.expr, comp, frees) if kb == 0 else (comp, scalar_side.value.expr, frees)
    raise NotRead("one side is a number and the other a vector or a matrix")


def _conds(items: list[Item], env: Env) -> list[tuple[str, sp.Expr, sp.Expr]]:
    seen: set[tuple[str, ...]] = set()
    out: list[tuple[str, sp.Expr, sp.Expr]] = []
    for it in items:
        for kind, i, j in it.conditions:
            if kind == "sum1":
                if (kind,) not in seen:
                    seen.add((kind,))
                    out.append((kind, env.lo, env.hi))
                continue
            key = (kind, *sorted((i, j)))
            if key not in seen:
                seen.add(key)
                out.append((kind, Env.index(i), Env.index(j)))
    return out


def _shown_cond(kind: str, i, j) -> str:
    if kind == "sum1":
        return "Σ_k d_k = 1"
    return f"{j} ≠ {i}" if kind == "ne" else f"{i} = {j}"


def decide(
    B: sp.Expr,
    A: sp.Expr,
    frees: list[str],
    conds: list,
    env: Env,
    split: list[str] | None = None,
    dens: list[sp.Expr] | None = None,
) -> tuple[str, str, list[str], D.Point | None, tuple | None]:
    r"""``(status, reason, needs, counterexample, values)`` for the step ``B = A``."""
    B, A = env.expand(B), env.expand(A)
    syms = _index_syms(frees)
    found = D.refute(D.apply_case(B, conds), D.apply_case(A, conds), syms, conds, env.lo)

    def prove(case: list) -> tuple[bool | None, str]:
        subs = {}
        if any(kind == "sum1" for kind, _, _ in case):
            k = sp.Symbol("κ0", integer=True)
            subs = {sp.Sum(env.base("d")[k], (k, env.lo, env.hi)): sp.Integer(1)}
        return D.proves(
            D.normal(D.apply_case(B, case)),
            D.normal(D.apply_case(A, case)),
            _assumptions(syms, case, env),
            subs,
        )

    if found is None:
        for case in [[]] + [[c] for cases in _pairs(B, A, syms, conds) for c in cases]:
            if _undefined([env.expand(x) for x in dens or []], conds + case):
                if not case:
                    return "could not decide", "a denominator is 0", [], None, None
                other = ("ne" if case[0][0] == "eq" else "eq", case[0][1], case[0][2])
                return (
                    "holds only if",
                    "a denominator is 0 when " + _shown_cond(*case[0]),
                    [_shown_cond(*other)],
                    None,
                    None,
                )
        ok, why = prove(conds)
        if ok:
            return "follows", why, [], None, None
        pairs = _pairs(B, A, syms, conds)
        if pairs and all(prove([*conds, c])[0] for c in pairs[0]):
            return (
                "follows",
                "proved in both cases, " + " and ".join(_shown_cond(*c) for c in pairs[0]),
                [],
                None,
                None,
            )
        return "could not decide", why + "; no counterexample found either", [], None, None
    for cases in _pairs(B, A, _index_syms(split if split is not None else frees), conds):
        for c in cases:
            extra = [*conds, c]
            if (
                D.refute(D.apply_case(B, extra), D.apply_case(A, extra), syms, extra, env.lo, exact=False)
                is None
            ):
                ok, _ = prove(extra)
                if ok:
                    pt, x, y = found
                    return "holds only if", "", [_shown_cond(*c)], pt, (x, y)
    pt, x, y = found
    return "does not follow", "the two sides differ at the point below", [], pt, (x, y)


def _assumptions(syms: list[sp.Symbol], conds: list, env: Env) -> list:
    r"""The learner's conditions as SymPy relations, for the core.

    That each free index is a class is used by the normal form (a sum over the classes of
    :math:`\delta_{kx} f(k)` is :math:`f(x)`), before the core is asked, and stated in every report.
    """
    del syms, env
    out: list = []
    for kind, i, j in conds:
        if kind == "sum1":
            continue
        out.append(sp.Ne(i, j) if kind == "ne" else sp.Eq(i, j))
    return out


def _undefined(dens: list[sp.Expr], conds: list) -> bool:
    r"""Whether a denominator the learner wrote is identically 0 under ``conds`` (the line is undefined)."""
    for den in dens:
        if sp.cancel(sp.together(D.normal(D.apply_case(den, conds)))) == 0:
            return True
    return False


def _pairs(B, A, syms, conds):
    r"""The case splits i = j / i ≠ j for pairs of free indices the conditions leave open."""
    fixed = {frozenset((i, j)) for _, i, j in conds}
    out = []
    for i, j in [(x, y) for n, x in enumerate(syms) for y in syms[n + 1 :]]:
        if frozenset((i, j)) not in fixed:
            out.append([("ne", i, j), ("eq", i, j)])
    return out


def _num(x: sp.Expr) -> str:
    v = sp.N(x, 6)
    return str(x) if x.is_Rational else f"{float(v):.6g}"


@dataclass
class ChainResult:
    steps: list[Step]
    not_read: list[tuple[Item, str]]
    target: str | None
    reached: str | None  # the course result reached, when it is not the target
    reached_text: str | None
    target_how: str = ""


def _read(item: Item, env: Env) -> Read:
    return read_line(item.text, env)


_DEF = re.compile(r"^\s*(\\?[A-Za-z]+|σ|δ)\s*(_\{?[a-z,]*\}?)?\s*$")


def define(lhs: str, rhs: Read, env: Env) -> bool:
    r"""Record ``lhs = rhs`` as a definition when ``lhs`` is a bare name (with indices); True if so."""
    m = _DEF.match(lhs)
    if m is None:
        return False
    name = m.group(1).lstrip("\\")
    name = {"sigma": "σ", "delta": "δ"}.get(name, name)
    if (len(name) > 1 and name != "softmax") or name in ("e", "n"):
        return False
    idx = [c for c in (m.group(2) or "") if c.isalpha()]
    if name in INDEX_LETTERS and not idx:
        return False  # "k = i" in the prose is not a definition
    if name == "δ" and len(idx) == 2:
        return False
    params = tuple(Env.index(c) for c in idx)
    value = rhs.value
    if value.kind == 0:
        body = value.expr
    elif abs(value.kind) == 1 and not params:
        p = sp.Symbol("p'", integer=True)
        params, body = (p,), value.at(p)
        env.vector_macros.add(name)
    else:
        return False
    if name in {str(s) for s in body.free_symbols} or any(
        str(x.base.label) == name for x in body.atoms(sp.Indexed)
    ):
        return False
    env.macros[name] = (params, body)
    env.defined.add(name)
    return True


def apply_definitions(der: Derivation, env: Env) -> None:
    r"""Record the inline definitions (``$S = \sum_k e^{a_k}$``) written before ``der``."""
    for d in der.definitions:
        lhs, _, rhs = d.text.partition("=")
        try:
            define(lhs, read_line(rhs, env), env)
        except NotRead:
            pass
    der.definitions = []


def check_chain(der: Derivation, env: Env) -> ChainResult:
    r"""Check every step of ``der``; definitions in it (and before it) are recorded in ``env``."""
    items = list(der.items)
    apply_definitions(der, env)
    _set_range(items, env)
    reads: list[Read | None] = []
    not_read: list[tuple[Item, str]] = []
    for n, it in enumerate(items):
        try:
            reads.append(_read(it, env))
        except NotRead as exc:
            reads.append(None)
            not_read.append((it, str(exc)))
            continue
        if n == 0 and len(items) > 1 and _DEF.match(it.text):
            try:
                nxt = _read(items[1], env)
            except NotRead:
                continue
            if define(it.text, nxt, env):
                reads[0] = None  # a definition, not a step
    steps: list[Step] = []
    conds: list = []
    start = 1 if reads and reads[0] is None and not not_read[:1] else 0
    live = [n for n in range(start, len(items)) if reads[n] is not None]
    for p, q in itertools.pairwise(live):
        b, a = reads[p], reads[q]
        assert b is not None and a is not None
        stated = _conds(items, env)  # a condition written beside any line holds for the whole chain
        conds = stated + [c for c in conds if c not in stated]
        try:
            B, A, frees = scalar_pair(b, a, env)
            status, why, needs, pt, vals = decide(B, A, frees, conds, env, sorted(b.frees), b.dens + a.dens)
        except NotRead as exc:
            not_read.append((items[q], str(exc)))
            continue
        step = Step(items[p], items[q], status, why, needs, exprs=(env.expand(B), env.expand(A)))
        step.conditions = [_shown_cond(k, i, j) for k, i, j in conds]
        if q > p + 1:
            step.reason = (why + "; " if why else "") + "checked across the line(s) not read"
        if pt is not None and vals is not None:
            step.counterexample = pt.shown()
            step.values = (_num(vals[0]), _num(vals[1]))
        if status == "holds only if":
            conds = [*conds, *[(k, Env.index(str(i)), Env.index(str(j))) for k, i, j in _need_conds(needs)]]
        if status == "does not follow" and not any(s.status == "does not follow" for s in steps):
            from .slips import diagnose

            found = diagnose(b, a, B, A, frees, conds, env)
            if found is not None:
                step.slip, step.diagnosis = found
        steps.append(step)
    target, how = _target(der, reads, items, env)
    reached, reached_text = _reached(reads, items, target, env, steps)
    return ChainResult(steps, not_read, target, reached, reached_text, how)


def _need_conds(needs: list[str]):
    out = []
    for s in needs:
        m = re.match(r"(\w) (≠|=) (\w)", s)
        if m:
            out.append(("ne" if m.group(2) == "≠" else "eq", m.group(1), m.group(3)))
    return out


def _set_range(items: list[Item], env: Env) -> None:
    r"""The class range of the derivation, from the first sum with limits (1..n if none)."""
    for it in items:
        m = re.search(
            r"\\sum\s*_\{?\s*[a-z]\s*=\s*(\d)\s*\}?\s*\^\s*\{?\s*([^{}\s]+(?:\s*-\s*1)?)\s*\}?", it.text
        )
        if m:
            lo = sp.Integer(int(m.group(1)))
            hi_text = m.group(2).replace(" ", "")
            hi = (
                sp.Integer(int(hi_text))
                if hi_text.isdigit()
                else (sp.Symbol("n", integer=True, positive=True) - (1 if "-1" in hi_text else 0))
            )
            if (lo, hi) != (env.lo, env.hi):
                new = Env(lo=lo, hi=hi)
                new.macros.update({k: v for k, v in env.macros.items() if k in env.defined})
                new.defined, new.vector_macros = env.defined, env.vector_macros
                env.lo, env.hi, env.macros = new.lo, new.hi, new.macros
            return


def _same_value(x: Val, y: Val, env: Env, frees_x: set[str], frees_y: set[str], conds=()) -> bool:
    r"""Whether two read lines agree at sample points (for naming targets, not for proofs)."""
    try:
        bx, by, frees = scalar_pair(Read(x, frees_x, []), Read(y, frees_y, []), env)
    except NotRead:
        return False
    syms = _index_syms(frees)
    return D.agree(
        D.apply_case(env.expand(bx), list(conds)),
        D.apply_case(env.expand(by), list(conds)),
        syms,
        list(conds),
        env.lo,
    )


def _target_reads(name: str, env: Env):
    _, first, last, cond = TARGETS[name]
    return read_line(first, env), read_line(last, env), cond


def _renamings(r: Read) -> list[dict[str, str]]:
    fr = sorted(r.frees)
    if len(fr) == 1:
        return [{fr[0]: "i"}]
    if len(fr) == 2:
        return [{fr[0]: "i", fr[1]: "j"}, {fr[0]: "j", fr[1]: "i"}]
    return [{}]


def _cached(env: Env, key, make):
    cache = env.__dict__.setdefault("_cache", {})
    if key not in cache:
        cache[key] = make()
    return cache[key]


def _bases(r: Read, env: Env) -> frozenset[str]:
    r"""The names a read line depends on, definitions unfolded (a cheap first test for a target)."""
    try:
        b, _, _ = scalar_pair(r, r, env)
    except NotRead:
        return frozenset()
    return frozenset(str(x.base.label) for x in env.expand(b).atoms(sp.Indexed))


def _matches(r: Read, text: str, env: Env, which: int, name: str) -> bool:
    first, last, cond = _cached(env, ("target", name, env.lo, env.hi), lambda: _target_reads(name, env))
    t = first if which == 0 else last
    if _cached(env, ("bases", text), lambda: _bases(r, env)) != _cached(
        env, ("bases", name, which, env.lo, env.hi), lambda: _bases(t, env)
    ):
        return False
    conds: list = []
    if cond and cond[0] == "sum1":
        conds = [("sum1", env.lo, env.hi)]
    elif cond:
        conds = [(cond[0], Env.index(cond[1]), Env.index(cond[2]))]
    for ren in _renamings(r):
        try:
            renamed = _rename(text, ren)
            moved = _cached(env, ("read", renamed), lambda renamed=renamed: read_line(renamed, env))
        except NotRead:
            return False
        if _same_value(moved.value, t.value, env, moved.frees, t.frees, conds):
            return True
    return False


def _rename(text: str, ren: dict[str, str]) -> str:
    r"""``text`` with the index letters renamed (``W_{kj}`` too; never a letter of a command)."""
    if not ren or all(k == v for k, v in ren.items()):
        return text
    return re.sub(r"\\[A-Za-z]+|[A-Za-z]", lambda m: ren.get(m.group(0), m.group(0)), text)


def _target(der: Derivation, reads, items, env: Env) -> tuple[str | None, str]:
    if der.marker:
        name = ALIASES.get(der.marker, der.marker)
        if name in TARGETS:
            return name, "named by the marker"
    live = [(r, it) for r, it in zip(reads, items) if r is not None]
    if len(live) < 2:
        return None, ""
    (r0, i0), (rl, il) = live[0], live[-1]
    starts = [n for n in TARGETS if _matches(r0, i0.text, env, 0, n)]
    starts.sort(key=lambda n: TARGETS[n][3] is not None)  # a result that needs no condition first

    def shape(n: str) -> bool:  # a last line with a derivative in it names the target whose result has one
        return ("partial" in TARGETS[n][2]) == ("partial" in il.text or "∂" in il.text)

    both = [n for n in starts if _matches(rl, il.text, env, 1, n)]
    both.sort(key=lambda n: not shape(n))
    if both:
        return both[0], "recognised from its first and last lines"
    if starts:
        conditioned = [n for n in starts if TARGETS[n][3] and any(it.conditions for it in items)]
        return (conditioned or starts)[0], "recognised from its first line"
    ends = [n for n in TARGETS if _matches(rl, il.text, env, 1, n)]
    if ends:
        return ends[0], "recognised from its last line"
    return None, ""


def _reached(reads, items, target, env, steps) -> tuple[str | None, str | None]:
    live = [(r, it) for r, it in zip(reads, items) if r is not None]
    if target is None or not live or any(s.status != "follows" for s in steps):
        return None, None
    rl, il = live[-1]
    if _matches(rl, il.text, env, 1, target):
        return None, None
    for name in TARGETS:
        if name != target and _matches(rl, il.text, env, 1, name):
            return name, il.text
    return "", il.text
