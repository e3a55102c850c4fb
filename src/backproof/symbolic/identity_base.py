r"""Identities: a statement, the chains that prove it, its wrong variants and its numeric checks.

Every :class:`Identity` carries its chains (:mod:`backproof.symbolic.chain`), its displayed
statement (generated from the ends of its first chain, or tied to a chain's ends by
:class:`Link`), its wrong :class:`Variant`\ s, which the refuter must refute, and its numeric
:class:`Check`\ s, which :mod:`backproof.verify` runs against the NumPy code.
:meth:`Identity.prove` returns a :class:`ProofResult`; :meth:`Identity.refute_variants` a
:class:`Verdict` per variant.

Non-goals: deciding a step (the trusted core, :mod:`backproof.symbolic.core`); the catalogue
(:mod:`backproof.symbolic.engine`).
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.assumptions.assume import AppliedPredicate
from sympy.core.function import AppliedUndef

from . import core
from .chain import (
    Chain,
    Verdict,
    _cases,
)
from .notation import Defines, interpret, to_latex

PROOF = "symbolic proof"


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
