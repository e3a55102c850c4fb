r"""The proof engine: steps, chains, identities, their wrong variants, and the catalogue's registry.

A :class:`Chain` is a list of :class:`Step` expressions, each related to the one before it
by ``=`` (or ``<=`` in a chain of bounds). A step is either a *definitional unfolding*
(``kind=DEFINITION``: it only substitutes what a symbol stands for, and certifies
nothing) or a *substantive rewrite* (``kind=REWRITE``: differentiation, the quotient
rule, a delta collapsing a sum, a cancellation — the steps that carry the argument).

How a verdict is reached: the engine decides nothing itself. Each step of a chain, with the
chain's definitions, stated assumptions, case split and cited rules, goes to the trusted core,
:func:`backproof.symbolic.core.check_step`, which alone says whether it follows (its module
docstring lists what it accepts). When it finds no proof of a step it asks the refuter,
:func:`refute` (:mod:`backproof.symbolic.refuter`): symbolic sizes and indices are set to small
integers, undefined functions to random polynomials, every other symbol to a random rational,
and both sides are evaluated exactly (rational arithmetic, and interval arithmetic at 50 digits
for :math:`e^q` and :math:`\log q`) *before any simplification*; one point where the two sides
provably differ is a proof that the step is false. Wrong variants are settled the same way.

Every :class:`Identity` carries its chains, its displayed statement (generated from the
ends of its first chain, or tied to a chain's ends by :class:`Link`), its wrong
:class:`Variant`\ s and its numeric :class:`Check`\ s. Identities are added to the
catalogue with :func:`register`; the site's chapter "Prove your own identity"
(``docs/own_identity.md``) and the module docstring of :mod:`backproof.symbolic` show how.

Non-goals: a general theorem prover; deciding equalities SymPy cannot simplify.
"""

from __future__ import annotations

import functools
import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.assumptions.assume import AppliedPredicate
from sympy.core.function import AppliedUndef

from . import core
from .core import Rule, StepVerdict
from .notation import Defines, interpret, to_latex
from .refuter import REFUTATION, SHAPES, Counterexample
from .refuter import refute as _refute

__all__ = [
    "CATALOGUE",
    "DEFINITION",
    "REFUTATION",
    "REWRITE",
    "SHAPES",
    "Chain",
    "Check",
    "Counterexample",
    "Identity",
    "Link",
    "ProofResult",
    "Rule",
    "Step",
    "StepVerdict",
    "Variant",
    "Verdict",
    "check_step",
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
NOT_REFUTED = "not refuted"

#: The longest the refuter searches for a counterexample to one wrong variant (a cap, not a target).
VARIANT_SECONDS = 60.0  # a cap, not a target: a variant is refuted at its first differing point

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
        rels = [_RELATION[c.relation](c.first, c.last, evaluate=False) for c in self._sources()]
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
                if value is True and isinstance(key, AppliedPredicate):
                    add(f"the entries of ${to_latex(key.arguments[0])}$ are real")
                elif value is True and isinstance(key, sp.Rel):
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

    def declared_shown(self) -> list[str]:
        r"""Each symbol's declared property that the proofs may use (:math:`n` a positive integer,
        :math:`y_i > 0`), one line per property: SymPy simplifies with these, so they are stated."""
        exprs = [self.statement]
        for c in self.chains:
            exprs += [st.expr for st in c.steps] + list(c.definitions.values()) + list(c.definitions)
        return _declared(exprs)

    def definitions_shown(self) -> list[str]:
        r"""Every definition the chains unfold, as :math:`name \coloneqq value` (LaTeX)."""
        out: list[str] = []
        for c in self.chains:
            for key, value in c.definitions.items():
                if c.show_latex or not isinstance(value, sp.MatrixBase):
                    text = f"${to_latex(key)} \\coloneqq {to_latex(value)}$"
                    if text not in out:
                        out.append(text)
        return out

    def rules_shown(self) -> list[str]:
        r"""Every cited rule the chains use, with its status, once."""
        out: list[str] = []
        for c in self.chains:
            for rule in c.rules:
                text = f"{rule.name} ({rule.status}): ${to_latex(rule.statement)}$"
                if text not in out:
                    out.append(text)
        return out

    def assumptions_shown(self) -> list[str]:
        r"""Everything the proofs assume, for ``verify`` and the site: the assumptions in words, each
        symbol's declared property, the stated relations and substitutions (:meth:`hypotheses_shown`)
        and every cited rule (:meth:`rules_shown`). Definitions are listed by :meth:`definitions_shown`."""
        out: list[str] = []
        every = [*self.assumptions, *self.declared_shown(), *self.hypotheses_shown(), *self.rules_shown()]
        for text in every:
            if text not in out:
                out.append(text)
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
                _, subs = c.stated()
                for shown, end in ((lhs, c.first), (rhs, c.last)):
                    if shown == end:  # the same expression: nothing to check
                        continue
                    ok = ok and all(
                        c.check_pair(shown, end, "=", subs, case).follows is True for case in _cases(c.cases)
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
        for label, shown in (
            ("Declared", self.declared_shown()),
            ("Substituted in the proofs", self.hypotheses_shown()),
            ("Definitions", self.definitions_shown()),
            ("Cited rules", self.rules_shown()),
        ):
            if shown:
                lines.append(f"{label}: " + "; ".join(shown) + ".")
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
                rel = core.relation_latex(s.relation)
                tag = s.kind  # "definition", "rewrite" or "cited rule": never a cited rule shown as derived
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


_RELATION = {"=": sp.Eq, "<=": sp.Le, "<": sp.Lt, ">=": sp.Ge, ">": sp.Gt, "?": sp.Eq}


_PROPERTIES = (
    ("positive integers", ("integer", "positive")),
    ("nonnegative integers", ("integer", "nonnegative")),
    ("integers", ("integer",)),
    ("positive", ("positive",)),
    ("negative", ("negative",)),
    ("nonnegative", ("nonnegative",)),
    ("nonpositive", ("nonpositive",)),
    ("nonzero", ("nonzero",)),
)


def _declared(exprs) -> list[str]:
    r"""``"$i, n$: positive integers"``: the declared properties of the symbols in ``exprs``."""
    names: dict = {}
    for e in exprs:
        e = sp.sympify(e) if not isinstance(e, sp.MatrixBase) else e
        found = e.atoms(sp.Symbol, sp.IndexedBase) if hasattr(e, "atoms") else set()
        found |= {f.func for f in (e.atoms(AppliedUndef) if hasattr(e, "atoms") else ())}
        found -= {b.label for b in found if isinstance(b, sp.IndexedBase)}
        for sym in found:
            if isinstance(sym, sp.Dummy):
                continue
            probe = sym.label if isinstance(sym, sp.IndexedBase) else sym
            if isinstance(sym, sp.FunctionClass):
                probe = sym(sp.Dummy())
            for phrase, props in _PROPERTIES:
                if all(getattr(probe, f"is_{p}") is True for p in props):
                    shown = to_latex(sym) if not isinstance(sym, sp.FunctionClass) else str(sym)
                    shown += " (every entry)" if isinstance(sym, sp.IndexedBase) else ""
                    names.setdefault(phrase, set()).add(shown)
                    break
    return [f"${', '.join(sorted(v))}$: {phrase}" for phrase, _ in _PROPERTIES if (v := names.get(phrase))]


def _plain(eq) -> str:
    """A relation in SymPy's plain-text form, for terminals."""
    rel = ":=" if isinstance(eq, Defines) else eq.rel_op if isinstance(eq, sp.Rel) else "="
    rel = "=" if rel == "==" else rel
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
