r"""The result of a check: per function, per property, as text, Markdown or JSON.

Three verdicts per function: **wrong** (it breaks an identity or a stated property on some
input: statuses ``fail``, ``crashed``, ``timed out``), **differs from the course** (status
``differs``: it follows a convention or a fragility of the course's own handout, and the report
says on which input that breaks) and **pass**. Only "wrong" counts against the score. A
function that is wrong only because it calls a wrong one (it passes with the course's version of
that one in its place) is reported as **depends on** it (status ``depends``), not counted again.

Non-goals: HTML reports, grading policies beyond a per-function score in [0, 1].
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

STATUSES = ("pass", "differs", "fail", "crashed", "timed out", "depends", "not found")
WRONG = ("fail", "crashed", "timed out")  # the statuses whose verdict is "wrong"
VERDICTS = ("pass", "differs from the course", "wrong", "depends", "not found")
_MARK = {
    "pass": "✓",
    "differs": "≈",
    "fail": "✗",
    "crashed": "✗",
    "timed out": "✗",
    "depends": "→",
    "not found": "?",
}
# an ASCII terminal gets the status as one word in one column, not a mark and the word
_ASCII_STATUS = {
    "pass": "ok",
    "differs": "DIFFERS",
    "depends": "DEPENDS",
    "fail": "FAIL",
    "crashed": "CRASHED",
    "timed out": "TIMED OUT",
    "not found": "NOT FOUND",
}
# ASCII for every non-ASCII character the checker writes (tests/test_check.py checks the list is whole);
# names become words, separated from a following letter by a space (∇E -> grad E)
_ASCII_WORDS = {"γ": "gamma", "δ": "delta", "∇": "grad", "Σ": "sum", "√": "sqrt", "σ": "sigma"}
_ASCII_SIGNS = {
    "±": "+/-",
    "ᵀ": ".T",
    "⟨": "<",
    "⟩": ">",
    "⊙": "*",
    "·": "*",
    "−": "-",
    "→": "->",
    "←": "<-",
    "✓": "ok",
    "✗": "x",
    "≈": "~",
    "…": "...",
    "∂": "d",
    "×": "x",
    "≠": "!=",
    "²": "^2",
    "′": "'",
    "“": '"',
    "”": '"',
}
_ASCII_CHARS: dict[str, str | int | None] = {**_ASCII_WORDS, **_ASCII_SIGNS}
_ASCII_TABLE = str.maketrans(_ASCII_CHARS)
_ASCII_WORD_BEFORE_LETTER = re.compile(f"([{''.join(_ASCII_WORDS)}])(?=[A-Za-z_])")


def to_ascii(text: str) -> str:
    r"""``text`` for a terminal that shows only ASCII: γ -> gamma, ∇E -> grad E, ± -> +/-, ᵀ -> .T, ...

    Characters the checker never writes itself (from a learner's names or messages) lose their
    accents (é -> e); what remains non-ASCII becomes ``?``.
    """
    text = _ASCII_WORD_BEFORE_LETTER.sub(lambda m: _ASCII_WORDS[m.group(1)] + " ", text)
    text = text.translate(_ASCII_TABLE)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return text.encode("ascii", "replace").decode()


@dataclass
class Finding:
    r"""One property or identity of one function, and what happened to it."""

    check: str  # "function.property", e.g. "softmax.stable"
    claim: str
    identity: str | None
    passed: bool
    link: str
    counterexample: dict[str, str] = field(default_factory=dict)  # as shown
    counterexample_values: dict = field(default_factory=dict)  # as JSON numbers, for graders
    expected: list[str] = field(default_factory=list)
    got: list[str] = field(default_factory=list)
    diagnosis: str | None = None
    mistake: str | None = None  # the catalogue's key of the diagnosed mistake
    problem: str | None = None  # why it failed, one line
    differs: str | None = None  # how it differs from the course (a convention of the handout), if it does
    line: str | None = None  # where in the learner's code the diagnosed mistake shows


@dataclass
class FunctionResult:
    r"""What the checker found about one course function."""

    name: str
    status: str
    defined_as: str | None = None  # the learner's name when --map renamed it
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    depends_on: list[str] = field(default_factory=list)  # the wrong course functions it fails through

    @property
    def verdict(self) -> str:
        r"""``pass``, ``differs from the course``, ``wrong``, ``depends on X`` or ``not found``."""
        if self.status in WRONG:
            return "wrong"
        if self.status == "differs":
            return "differs from the course"
        if self.status == "depends":
            return "depends on " + ", ".join(self.depends_on)
        return self.status

    @property
    def score(self) -> float:
        r"""1 unless wrong (the share of its properties that hold) or not found (0).

        "differs from the course" and "depends on X" score 1: the first follows the course's own
        handout, the second is counted once, at X.
        """
        if self.status in ("pass", "differs", "depends"):
            return 1.0
        if self.status == "fail" and self.findings:
            return sum(f.passed for f in self.findings) / len(self.findings)
        return 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["score"] = round(self.score, 3)
        out["verdict"] = self.verdict
        failed = [f for f in self.findings if not f.passed]
        out["identity"] = failed[0].identity if failed else None
        out["diagnosis"] = failed[0].diagnosis if failed else None
        out["mistake"] = failed[0].mistake if failed else None
        out["counterexample"] = failed[0].counterexample if failed else None
        return out


@dataclass
class Report:
    r"""The outcome of :func:`backproof.check.check_file`."""

    path: str
    functions: list[FunctionResult]
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0
    derivations: list = field(default_factory=list)  # DerivationReport, from backproof.check.derivations

    def __getitem__(self, name: str) -> FunctionResult:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def checked(self) -> list[FunctionResult]:
        return [f for f in self.functions if f.status != "not found"]

    @property
    def ok(self) -> bool:
        r"""True when something was checked, no checked function is wrong (or depends on a wrong
        one) and no derivation is wrong."""
        if any(
            d.status in ("wrong", "needs a condition", "reached another result") for d in self.derivations
        ):
            return False
        if not self.checked:
            return bool(self.derivations) and not self.functions
        return all(f.status in ("pass", "differs") for f in self.checked)

    @property
    def exit_code(self) -> int:
        return 0 if self.ok else 1

    @property
    def score(self) -> float:
        return sum(f.score for f in self.functions) / len(self.functions) if self.functions else 0.0

    def to_dict(self) -> dict:
        return {
            "path": self.path,
            "ok": self.ok,
            "score": round(self.score, 3),
            "seconds": round(self.seconds, 2),
            "counts": {s: sum(f.status == s for f in self.functions) for s in STATUSES},
            "verdicts": {v: sum(f.verdict.split(" on ")[0] == v for f in self.functions) for v in VERDICTS},
            "notes": self.notes,
            "functions": [f.to_dict() for f in self.functions],
            "derivations": [d.to_dict() for d in self.derivations],
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(
            json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    def counts_line(self) -> str:
        r"""``9 pass, 1 differs from the course, 1 wrong, 2 depend on it`` (statuses that occur)."""
        one = {"differs": "differs from the course", "depends": "depends on another"}
        many = {"differs": "differ from the course", "depends": "depend on another"}
        parts = []
        for s in STATUSES:
            k = sum(f.status == s for f in self.functions)
            if k:
                parts.append(f"{k} {(one if k == 1 else many).get(s, s)}")
        if self.derivations:
            follow = sum(d.ok for d in self.derivations)
            parts.append(f"{follow} of {len(self.derivations)} derivations follow")
        return ", ".join(parts)

    def root_causes(self) -> list[tuple[FunctionResult, list[str]]]:
        r"""Each wrong function with the functions that depend on it, in the course's order."""
        return [
            (fr, [d.name for d in self.functions if d.status == "depends" and fr.name in d.depends_on])
            for fr in self.functions
            if fr.status in WRONG
        ]

    def format(self, site: str = "", ascii: bool = False) -> str:
        r"""The report for a terminal.

        It leads with the root causes (each wrong function, its diagnosis and the line that shows
        it, and the functions that fail only through it), then lists every function. ``site`` is
        prefixed to the relative links of proofs (without it they are named as pages of the site,
        with where to find them); ``ascii`` writes only ASCII characters (γ -> gamma, ± -> +/-, ...)
        for a terminal that cannot show the others. A property broken for the same diagnosed
        mistake as one above it is listed in one line, and a counterexample is printed once.
        """
        lines = [f"backproof check {self.path}: {self.counts_line()} ({self.seconds:.1f} s)", ""]
        causes = self.root_causes()
        if causes:
            lines.append("Start here:" if len(causes) == 1 else "Start here (each is a separate mistake):")
            for fr, dependents in causes:
                failed = [f for f in fr.findings if not f.passed]
                first = next((f for f in failed if f.diagnosis), failed[0] if failed else None)
                why = (fr.notes or [""])[0]
                if first is not None:
                    problem = first.problem if first.problem != "values differ" else None
                    why = first.diagnosis or problem or f"breaks: {first.claim}"
                lines.extend(_indent(f"{fr.name} is wrong: {why}", 2))
                if first is not None and first.line:
                    lines.extend(_indent(f"at {first.line}", 4))
                elif (
                    first is not None and first.problem and first.problem != why and "line " in first.problem
                ):
                    lines.extend(_indent(first.problem, 4))  # a crash: where it happened
                if dependents:
                    lines.extend(
                        _indent(
                            f"{', '.join(dependents)} {'fails' if len(dependents) == 1 else 'fail'} only "
                            f"through it (with the course's {fr.name} in its place, "
                            f"{'it passes' if len(dependents) == 1 else 'they pass'})",
                            4,
                        )
                    )
            lines.append("")
        shown: dict[str, str] = {}  # counterexample as shown -> the check that showed it first
        for fr in self.functions:
            alias = f" (your {fr.defined_as})" if fr.defined_as and fr.defined_as != fr.name else ""
            status = f"{_ASCII_STATUS[fr.status]:<10}" if ascii else f"{_MARK[fr.status]} {fr.status:<10}"
            if fr.status == "depends":
                lines.append(f"{status} {fr.name}{alias}: depends on {', '.join(fr.depends_on)}")
                lines.append(
                    f"    it passes its checks with the course's {', '.join(fr.depends_on)} in place of "
                    "yours; not counted again"
                )
                continue
            lines.append(f"{status} {fr.name}{alias}")
            diagnosed: set[str] = set()  # mistakes already diagnosed above, in this function
            for f in fr.findings:
                if f.differs:
                    what = f"identity {f.identity}" if f.identity else "property"
                    lines.extend(_indent(f"differs from the course: {f.differs}", 4))
                    if f.counterexample:
                        lines.append("    where it breaks:")
                        for name, value in f.counterexample.items():
                            lines.extend(_indent(f"{name} = {value}", 8))
                    if f.line:
                        lines.append(f"    at:        {f.line}")
                    lines.append(f"    ({what}: {f.claim}; not counted against the score)")
                    continue
                if f.passed:
                    continue
                what = f"identity {f.identity}" if f.identity else "property"
                if f.mistake is not None and f.mistake in diagnosed:
                    lines.append(f"    broken:    {what}: {f.claim}")
                    lines.append("               by the same mistake as above")
                    continue
                if f.mistake is not None:
                    diagnosed.add(f.mistake)
                lines.append(f"    broken:    {what}: {f.claim}")
                if f.problem and f.problem != "values differ":
                    lines.append(f"    problem:   {f.problem}")
                if f.counterexample:
                    key = repr(sorted(f.counterexample.items()))
                    if key in shown:
                        lines.append(f"    smallest input found: the same as for {shown[key]} above")
                    else:
                        shown[key] = f.check
                        lines.append("    smallest input found:")
                        for name, value in f.counterexample.items():
                            lines.extend(_indent(f"{name} = {value}", 8))
                for label, values in (("expected", f.expected), ("got", f.got)):
                    if values:
                        lines.append(f"    {label + ':':<10} " + values[0])
                        lines.extend(f"               {v}" for v in values[1:])
                if f.diagnosis:
                    lines.append(f"    diagnosis: {f.diagnosis}")
                if f.line:
                    lines.append(f"    at:        {f.line}")
                lines.append(
                    f"    proof:     {site}{f.link}" if site else f"    proof:     site page {f.link}"
                )
            for n in fr.notes:
                lines.extend(_indent(f"note: {n}", 4))
        if self.derivations:
            lines.append("")
            lines.append(f"derivations ({len(self.derivations)} found in the Markdown cells):")
            lines.extend(d.format() for d in self.derivations)
        for n in self.notes:
            lines.append(f"note: {n}")
        if not site and any(not f.passed for fr in self.functions for f in fr.findings):
            lines.append(
                "note: the site pages are in docs/_build/html of a backproof checkout (tox -e docs builds "
                "them); --site URL makes the proofs full links"
            )
        lines.append("")
        if self.functions:
            lines.append(self.score_line())
        text = "\n".join(lines)
        return to_ascii(text) if ascii else text

    def score_line(self) -> str:
        n_wrong = sum(f.status in WRONG for f in self.functions)
        n_missing = sum(f.status == "not found" for f in self.functions)
        return (
            f"score {self.score:.2f} ({len(self.functions) - n_wrong - n_missing} of {len(self.functions)} "
            f"functions not wrong; {n_wrong} wrong, {n_missing} not found)"
        )

    def to_markdown(self, title: str | None = None, level: int = 1) -> str:
        r"""The report as a Markdown page, readable without backproof (a learner's feedback file);
        ``level`` is the level of its title, 0 for bold text instead of headings (a cell's output,
        whose headings would mix with the notebook's own)."""
        title = title or f"Feedback on {Path(self.path).name}"
        head = "#" * level + " " + title if level else f"**{title}**"  # level 0: no heading (a cell's output)
        sub = "#" * (level + 1) + " The full report" if level else "**The full report**"
        rows = ["| function | verdict | why |", "| --- | --- | --- |"]
        for fr in self.functions:
            first = next((f for f in fr.findings if not f.passed or f.differs), None)
            why = ""
            if fr.status == "depends":
                why = f"passes with the course's {', '.join(fr.depends_on)} in place of yours"
            elif first is not None:
                why = first.differs or first.diagnosis or first.problem or first.claim
            elif fr.status == "not found" and fr.notes:
                why = fr.notes[0]
            rows.append(f"| `{fr.name}` | {fr.verdict} | {_cell(why)} |")
        return (
            f"{head}\n\n**{self.score_line()}**\n\n"
            "Only *wrong* counts against the score; *differs from the course* means your function "
            "follows a convention of the course's handout that breaks on the input shown.\n\n"
            + "\n".join(rows)
            + f"\n\n{sub}\n\n```text\n"
            + self.format()
            + "\n```\n"
        )


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _indent(text: str, n: int) -> list[str]:
    return [" " * n + line for line in text.splitlines()]


def show_array(value, limit: int = 60) -> str:
    r"""A compact, readable rendering of an input or output value."""
    if isinstance(value, (tuple, list)) and not isinstance(value, np.ndarray):
        return "(" + ", ".join(show_array(v, limit) for v in value) + ")"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    arr = np.asarray(value)
    if arr.ndim == 0:
        return f"{arr.item():.6g}" if arr.dtype.kind == "f" else str(arr.item())
    if arr.size > limit:
        return f"array of shape {arr.shape}, dtype {arr.dtype}"
    if arr.ndim == 2 and arr.shape[0] > 4 and arr.shape[1] < arr.shape[0]:
        # tall matrices (10, N) print as their transpose, one line per column
        text = np.array2string(arr.T, precision=4, suppress_small=True, max_line_width=200, separator=", ")
        return f"{text}ᵀ  (shape {arr.shape}, shown transposed)"
    text = np.array2string(arr, precision=4, suppress_small=True, max_line_width=90, separator=", ")
    return text + (f"  (shape {arr.shape})" if arr.ndim > 1 else "")
