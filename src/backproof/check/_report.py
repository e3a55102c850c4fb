r"""The result of a check: per function, per property, as text for a terminal or JSON for graders.

Non-goals: HTML reports, grading policies beyond a per-function score in [0, 1].
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

STATUSES = ("pass", "fail", "crashed", "timed out", "not found")
_MARK = {"pass": "✓", "fail": "✗", "crashed": "✗", "timed out": "✗", "not found": "?"}
# an ASCII terminal gets the status as one word in one column, not a mark and the word
_ASCII_STATUS = {
    "pass": "ok",
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


@dataclass
class FunctionResult:
    r"""What the checker found about one course function."""

    name: str
    status: str
    defined_as: str | None = None  # the learner's name when --map renamed it
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def score(self) -> float:
        r"""1 for a pass, the share of properties that hold for a failure, 0 otherwise."""
        if self.status == "pass":
            return 1.0
        if self.status == "fail" and self.findings:
            return sum(f.passed for f in self.findings) / len(self.findings)
        return 0.0

    def to_dict(self) -> dict:
        out = asdict(self)
        out["score"] = round(self.score, 3)
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
        r"""True when something was checked, every checked function passes and no derivation is wrong."""
        if any(
            d.status in ("wrong", "needs a condition", "reached another result") for d in self.derivations
        ):
            return False
        if not self.checked:
            return bool(self.derivations) and not self.functions
        return all(f.status == "pass" for f in self.checked)

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
            "notes": self.notes,
            "functions": [f.to_dict() for f in self.functions],
            "derivations": [d.to_dict() for d in self.derivations],
        }

    def write_json(self, path: str | Path) -> None:
        Path(path).write_text(
            json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )

    def format(self, site: str = "", ascii: bool = False) -> str:
        r"""The report for a terminal.

        ``site`` is prefixed to the relative links of proofs (without it they are named as pages of
        the site, with where to find them); ``ascii`` writes only ASCII characters (γ -> gamma,
        ± -> +/-, ...) for a terminal that cannot show the others. A property broken for the same
        diagnosed mistake as one above it is listed in one line, not shown again in full.
        """
        counts = ", ".join(f"{k} {s}" for s in STATUSES if (k := sum(f.status == s for f in self.functions)))
        if self.derivations:
            follow = f"{sum(d.ok for d in self.derivations)} of {len(self.derivations)} derivations follow"
            counts = ", ".join(x for x in (counts, follow) if x)
        lines = [f"backproof check {self.path}: {counts} ({self.seconds:.1f} s)", ""]
        for fr in self.functions:
            alias = f" (your {fr.defined_as})" if fr.defined_as and fr.defined_as != fr.name else ""
            status = f"{_ASCII_STATUS[fr.status]:<10}" if ascii else f"{_MARK[fr.status]} {fr.status:<10}"
            lines.append(f"{status} {fr.name}{alias}")
            diagnosed: set[str] = set()  # mistakes already diagnosed above, in this function
            for f in fr.findings:
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
                    lines.append("    smallest input found:")
                    for name, shown in f.counterexample.items():
                        lines.extend(_indent(f"{name} = {shown}", 8))
                for label, values in (("expected", f.expected), ("got", f.got)):
                    if values:
                        lines.append(f"    {label + ':':<10} " + values[0])
                        lines.extend(f"               {v}" for v in values[1:])
                if f.diagnosis:
                    lines.append(f"    diagnosis: {f.diagnosis}")
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
            lines.append(
                f"score {self.score:.2f} ({sum(f.status == 'pass' for f in self.functions)} of "
                f"{len(self.functions)} functions pass)"
            )
        text = "\n".join(lines)
        return to_ascii(text) if ascii else text


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
