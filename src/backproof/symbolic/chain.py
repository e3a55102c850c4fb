r"""Steps and chains: what a proof is made of, each step checked by the trusted core.

A :class:`Chain` is a list of :class:`Step` expressions, each related to the one before it
by ``=`` (or ``<=``, ``<``, ``>=``, ``>`` in a chain of bounds). A step is either a
*definitional unfolding* (``kind=DEFINITION``: it only substitutes what a symbol stands for,
and certifies nothing) or a *substantive rewrite* (``kind=REWRITE``: differentiation, the
quotient rule, a delta collapsing a sum, a cancellation — the steps that carry the argument).
:meth:`Chain.verdicts` hands each step, with the chain's definitions, assumptions, case split
and cited rules, to :func:`backproof.symbolic.core.check_step`, which decides; when it finds
no proof it asks the refuter (:mod:`backproof.symbolic.refuter`) for a counterexample.
:func:`check_step` is the same for one step, the public entry point.

Non-goals: deciding anything here (the core decides); identities and their catalogue
(:mod:`backproof.symbolic.identity_base`, :mod:`backproof.symbolic.engine`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import sympy as sp
from sympy.assumptions.assume import AppliedPredicate

from . import core
from .core import Rule, StepVerdict
from .notation import to_latex
from .refuter import refute as _refute

DEFINITION = "definition"  #: a step that only unfolds (or folds) a definition
REWRITE = "rewrite"  #: a step that carries the argument

NOT_REFUTED = "not refuted"

#: The longest the refuter searches for a counterexample to one wrong variant (a cap, not a target).
VARIANT_SECONDS = 60.0  # a cap, not a target: a variant is refuted at its first differing point

# --------------------------------------------------------------------------- steps and chains


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
        One of ``backproof.symbolic.core.RELATIONS``: the step before ``relation`` this one
        (``"<="``: this step is at least the one before it). Shown as checked.
    """

    expr: object
    why: str = ""
    kind: str = REWRITE
    relation: str = "="


def _combined(relations) -> str | None:
    """The relation between a chain's two ends: ``<`` if any step is strict, ``None`` if ``<`` meets ``>``."""
    rels = [r for r in relations if r != "="]
    if not rels:
        return "="
    if all(r in ("<=", "<") for r in rels):
        return "<" if "<" in rels else "<="
    if all(r in (">=", ">") for r in rels):
        return ">" if ">" in rels else ">="
    return None


@dataclass(repr=False)
class Chain:
    r"""A proof: ``steps[0] R steps[1] R ... R steps[-1]``, each relation checked by the core.

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
        Fresh names (such as :math:`g_i`) and what they stand for; unfolded before each
        comparison. The core refuses any other left side (``core.definition_problem``).
    assumptions : dict
        Substitutions that encode a hypothesis (such as :math:`\sum_j d_j \to 1`); applied
        to both sides of every step whose ``why`` mentions "assumption".
    hypotheses : dict
        Stated assumptions (a key ``sp.Le(i, n): True``; ``KroneckerDelta(i, j): 0`` for
        :math:`i \ne j`) and substitutions made at every step (``{b[p]: 0}``), checked for
        consistency; listed with the identity's assumptions.
    cases : list of dict
        When given, every step is checked once per case (such as ``j = i`` and ``j != i``);
        the core checks that together they cover the domain.
    show_latex : bool
        Whether the steps are small enough to print.
    choices : dict
        Symbols whose values are restricted to a finite set when the chain is refuted at a
        point (such as the ReLU's activation pattern, which is 0 or 1).
    rules : list
        Cited rules whose ``Eq`` statements are used left to right as rewrites (the chain rule);
        named, shown and counted, never hidden among the definitions.
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
    rules: list = field(default_factory=list)

    def __post_init__(self) -> None:
        """Subclasses may adjust the fields here (the generated ``__init__`` calls it)."""

    def __repr__(self) -> str:
        where = "symbolic size" if self.size is None else self.size
        return f"<Chain {self.title!r}: {len(self.steps)} steps, {self.substantive} substantive, {where}>"

    def __str__(self) -> str:
        lines = [f"{self.title} ({'any size' if self.size is None else self.size})"]
        if not self.show_latex:
            return lines[0] + f": {len(self.steps) - 1} relations between large expressions (not printed)"
        lines.append(f"    {sp.sstr(self.steps[0].expr)}")
        for st in self.steps[1:]:
            rel = core.relation_text(st.relation) if st.relation in core.RELATIONS else st.relation
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
        """The relation between the chain's ends (``"="`` if every step is an equality)."""
        return _combined(s.relation for s in self.steps[1:]) or "?"

    @property
    def substantive(self) -> int:
        """How many steps are substantive rewrites."""
        return sum(s.kind == REWRITE for s in self.steps[1:])

    def stated(self) -> tuple[list, dict]:
        """The stated assumptions (relations) and the substitutions of the hypotheses."""
        stated, subs = [], {}
        for key, value in self.hypotheses.items():
            if isinstance(key, AppliedPredicate) and value is True:
                stated.append(key)  # such as Q.real_elements(a): the entries of a are real
            elif isinstance(key, sp.Rel) and value is True:
                stated.append(key)
                subs[key] = value  # a stated condition is also true inside a Piecewise
            elif isinstance(key, sp.KroneckerDelta) and value == 0:
                stated.append(sp.Ne(*key.args[:2]))
                subs[key] = value
            else:
                subs[key] = value
        return stated, subs

    def _subs(self, step: Step) -> dict:
        _stated, subs = self.stated()
        return {**subs, **(self.assumptions if "assumption" in step.why else {})}

    def _rewrites(self) -> dict:
        return {**self.definitions, **_rule_rewrites(self.rules)}

    def verdicts(self) -> list[StepVerdict]:
        """The core's verdict on each step, in order (one per relation; the first failing case's)."""
        stated, _ = self.stated()
        problem = core.definition_problem(self.definitions, stated) or core.partition_problem(
            self.cases, stated
        )
        unknown = [s.relation for s in self.steps[1:] if s.relation not in core.RELATIONS]
        if problem is None and unknown:
            problem = f"unknown relation {unknown[0]!r}: the relations are {', '.join(core.RELATIONS)}"
        if problem is None and _combined(s.relation for s in self.steps[1:]) is None:
            problem = "the chain mixes <= and >=: its two ends are not related"
        if problem:
            return [StepVerdict(False, problem)] * (len(self.steps) - 1)
        out: list[StepVerdict] = []
        for before, after in zip(self.steps, self.steps[1:]):
            for case in _cases(self.cases):
                verdict = self.check_pair(before.expr, after.expr, after.relation, self._subs(after), case)
                if verdict.follows is not True:
                    break
            out.append(verdict)
        return out

    def check_pair(self, before, after, relation, subs, case=None, points: int = 6) -> StepVerdict:
        """Ask the core whether ``before relation after`` follows in this chain's context."""
        stated, _ = self.stated()
        rewrites = self._rewrites()

        def refute(a, b, rel):
            return _refute(
                a, b, rel, stated, definitions=rewrites, hypotheses=subs, case=case,
                choices=self.choices, seeds=1, points=points, seconds=5.0, sizes=(2, 5),
            )  # fmt: skip

        return core.check_step(
            before, after, relation, stated, definitions=self.definitions, rules=self.rules,
            substitutions=subs, case=case, refute=refute,
        )  # fmt: skip

    def check(self) -> list[bool]:
        """Whether each step relates to the one before as claimed, in order (one entry per relation)."""
        return [v.follows is True for v in self.verdicts()]

    def claim_holds(self, wrong_last, first=None, seed: int = 0, seconds: float = VARIANT_SECONDS) -> Verdict:
        """Try to refute ``first R wrong_last`` (R the chain's relation) under the chain's hypotheses."""
        stated, subs = self.stated()
        subs = {**subs, **self.assumptions}
        first = self.first if first is None else first
        start = time.perf_counter()
        for case in _cases(self.cases):
            left = seconds - (time.perf_counter() - start)
            found = _refute(
                first, wrong_last, self.relation, stated, definitions=self._rewrites(), hypotheses=subs,
                case=case, seed=seed, seconds=left, choices=self.choices,
            )  # fmt: skip
            if found is not None:
                return Verdict("", True, found.method, time.perf_counter() - start, found.point)
        return Verdict("", False, NOT_REFUTED, time.perf_counter() - start, None)

    def latex(self) -> list[str]:
        """The LaTeX of every step, made by SymPy from the expressions that were checked."""
        return [to_latex(step.expr) for step in self.steps]


def _rule_rewrites(rules) -> dict:
    cited = [r.statement for r in rules if isinstance(r, Rule) and isinstance(r.statement, sp.Equality)]
    return {eq.lhs: eq.rhs for eq in cited}


# --------------------------------------------------------------------------- compatibility


def expand(expr, definitions=None, assumptions=None, case=None, evaluate: bool = True):
    r"""``expr`` with the assumptions, definitions and case substituted, derivatives and sums done."""
    if not evaluate:
        out = core.unfold(expr, definitions, assumptions)
        return out.subs(case) if case else out
    return core.normal_form(expr, definitions, assumptions, case)


def equal(
    a, b, definitions: dict | None = None, assumptions: dict | None = None, case: dict | None = None
) -> bool:
    r"""Whether the core proves ``a == b`` (entry by entry for matrices), after ``expand``."""
    return core.equal(expand(a, definitions, assumptions, case), expand(b, definitions, assumptions, case))


def nonnegative(x, known: dict | None = None) -> bool:
    r"""Whether ``x >= 0`` follows from the core's sound rules (:func:`core.nonnegative`).

    ``known`` holds a chain's hypotheses (keys such as ``sp.Le(p, n): True``).
    """
    stated = [k for k, v in (known or {}).items() if v is True and isinstance(k, sp.Rel)]
    return core.nonnegative(x, stated)


def check_step(
    before,
    after,
    relation: str = "=",
    assumptions=(),
    *,
    definitions: dict | None = None,
    rules=(),
    substitutions: dict | None = None,
    cases: list[dict] | None = None,
) -> StepVerdict:
    r"""Whether ``before relation after`` follows: the core's verdict, with the refuter's counterexample.

    The public entry point for one step: the trusted core (:func:`backproof.symbolic.core.check_step`)
    decides; when it finds no proof, :func:`refute` looks for a point where the step fails, so a
    false step is answered ``follows=False`` with the exact counterexample in ``reason``.
    ``assumptions`` are SymPy relations (``x > 0``, ``sp.Ne(i, j)``, ``i <= n``); ``cases`` a case
    split (``[{x: x_pos}, {x: x_neg}, {x: 0}]``, checked to cover the domain).
    """
    hypotheses = {**{a: True for a in assumptions}, **(substitutions or {})}
    chain = Chain(
        "step", [Step(before), Step(after, relation=relation)], definitions=dict(definitions or {}),
        hypotheses=hypotheses, cases=list(cases or []), rules=list(rules),
    )  # fmt: skip
    return chain.verdicts()[0]


refute = _refute  # the public refuter: backproof.symbolic.refute(lhs, rhs, relation, assumptions, ...)
