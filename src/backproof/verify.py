r"""The numeric side of the verification: each SymPy identity against the NumPy code.

For every identity of :mod:`backproof.symbolic` this module

* evaluates the SymPy expression (lambdified, with mpmath at 50 digits so that
  logits of :math:`\pm 1000` neither overflow nor underflow) and compares it with
  the backproof function that implements it, on random inputs, in float64 and
  float32;
* compares that function with centred finite differences in float64.

Against SymPy the error is normwise per column, :math:`\max_i |a_i - n_i| / \max(\max_i |a_i| +
\max_i |n_i|, 10^{-8})`, the largest over columns: an entry far smaller than its column (a
probability of :math:`e^{-20}`, say) carries the rounding of the whole column. For the
softmax JVP and the Jacobian built from it, the scale is that of the terms the formula
subtracts (:func:`jvp_error_matrix`). Against finite
differences it is elementwise, as in CS231n: :math:`\max |a - n| / \max(|a| + |n|, 10^{-8})`.
The checks themselves belong to the identities (:attr:`backproof.symbolic.Identity.checks`);
:func:`run_all` runs, for every identity, its proof, its wrong variants and its checks, into
one :class:`Report`, which ``backproof verify`` prints and the site shows. A NaN or an
infinity in any comparison is a failure with its own message, never a pass.

Non-goals: statistical testing; the property-based tests live in ``tests/``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from . import symbolic as S
from .symbolic._accuracy import (
    col_rel_error,
    difference_rel_error,
    jvp_error_matrix,
    jvp_rel_error,
    rel_error,
)

__all__ = [
    "TOLERANCE",
    "CheckResult",
    "Report",
    "col_rel_error",
    "difference_rel_error",
    "fd_check",
    "format_table",
    "iter_reports",
    "jvp_error_matrix",
    "jvp_rel_error",
    "numeric_check",
    "rel_error",
    "run_all",
]

#: Largest relative error accepted, by the ``kind`` of a :class:`backproof.symbolic.Check`:
#: against the 50-digit SymPy reference in float64 and float32, and against finite differences.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4, "fd": 1e-7}


# --------------------------------------------------------------------------- checks of one identity


def _mp(fn, *cols):
    """Evaluate an mpmath-lambdified reference at 50 digits, column by column."""
    from .symbolic import _numeric

    return _numeric.mp(fn, *cols)


def _softmax_refs():
    from .symbolic import _numeric

    return _numeric.softmax_refs()


def _jacobian_by_jvp(a: np.ndarray) -> np.ndarray:
    from .symbolic import _numeric

    return _numeric.jacobian_by_jvp(a)


def _run_checks(ident, kind: str | None = None, seed: int = 0) -> list[float]:
    errs = []
    for q, check in enumerate(ident.checks):
        if kind is None or check.kind == kind:
            errs.append(float(check.run(np.random.default_rng([seed, q]))))
    return errs


def _worst(errs) -> float:
    if not errs:
        return 0.0
    if any(math.isnan(e) for e in errs):
        return math.nan
    return max(errs)


def numeric_check(name: str, dtype=np.float64, seed: int = 0) -> float:
    r"""Largest relative error of the code against the identity ``name``, over its checks of ``dtype``."""
    return _worst(_run_checks(S.identity(name), np.dtype(dtype).name, seed))


def fd_check(name: str, seed: int = 0) -> float:
    r"""Relative error of the NumPy derivative against centred finite differences (float64); 0 if none."""
    return _worst(_run_checks(S.identity(name), "fd", seed))


# --------------------------------------------------------------------------- reports


def _json_number(x):
    """A float for JSON; NaN and infinities as strings ("nan", "inf"), ``None`` stays ``None``."""
    if x is None or math.isfinite(x):
        return x
    return str(x)


@dataclass
class CheckResult:
    r"""One numeric check's outcome."""

    label: str
    kind: str
    error: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return math.isfinite(self.error) and self.error <= self.tolerance

    @property
    def message(self) -> str:
        if math.isnan(self.error) or math.isinf(self.error):
            return f"{self.label}: the comparison produced {self.error} (a NaN or an infinity is a failure)"
        if self.error > self.tolerance:
            return f"{self.label}: error {self.error:.1e} above the tolerance {self.tolerance:.0e}"
        return ""

    def to_dict(self) -> dict:
        return {
            "label": self.label,
            "kind": self.kind,
            "error": _json_number(self.error),
            "tolerance": self.tolerance,
            "ok": self.ok,
        }


@dataclass
class Report:
    r"""Everything checked about one identity: proof, statement, wrong variants, numeric checks."""

    number: int
    name: str
    title: str
    proved: bool
    proof_seconds: float
    sizes: list[str]
    substantive_steps: int
    total_steps: int
    statement_matches: bool
    chains: list[dict]
    variants: list = field(default_factory=list)
    checks: list[CheckResult] = field(default_factory=list)
    necessity: bool | None = None
    assumptions: list[str] = field(default_factory=list)
    substituted: list[str] = field(default_factory=list)

    def _of_kind(self, kind: str) -> float | None:
        errs = [c.error for c in self.checks if c.kind == kind]
        return _worst(errs) if errs else None

    @property
    def numeric_max_rel_error(self) -> float | None:
        """The largest error over the float64 checks (``None`` if the identity has none)."""
        return self._of_kind("float64")

    @property
    def numeric_max_rel_error_float32(self) -> float | None:
        """The largest error over the float32 checks (``None`` if none)."""
        return self._of_kind("float32")

    @property
    def fd_rel_error(self) -> float | None:
        """The largest error against finite differences (``None`` if none)."""
        return self._of_kind("fd")

    @property
    def variants_refuted(self) -> int:
        return sum(v.refuted for v in self.variants)

    @property
    def failures(self) -> list[str]:
        """Why this identity is not verified, one message per problem (empty when it is)."""
        out = []
        if not self.proved:
            bad = [c["title"] for c in self.chains if not all(c["steps"])]
            out.append("not proved" + (f": chain(s) {', '.join(bad)}" if bad else ""))
        if not self.statement_matches:
            out.append("the displayed statement differs from what its chain proves")
        if self.substantive_steps < 1:
            out.append("no substantive step")
        out += [f"wrong variant {v.name!r} not refuted" for v in self.variants if not v.refuted]
        out += [c.message for c in self.checks if not c.ok]
        return out

    @property
    def ok(self) -> bool:
        return not self.failures

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "name": self.name,
            "title": self.title,
            "proved": self.proved,
            "proof_method": S.PROOF,
            "proof_seconds": self.proof_seconds,
            "sizes": list(self.sizes),
            "assumptions": list(self.assumptions),
            "substituted": list(self.substituted),
            "substantive_steps": self.substantive_steps,
            "total_steps": self.total_steps,
            "statement_matches": self.statement_matches,
            "chains": self.chains,
            "variants": [v.to_dict() for v in self.variants],
            "variants_refuted": self.variants_refuted,
            "checks": [c.to_dict() for c in self.checks],
            "numeric_max_rel_error": _json_number(self.numeric_max_rel_error),
            "numeric_max_rel_error_float32": _json_number(self.numeric_max_rel_error_float32),
            "fd_rel_error": _json_number(self.fd_rel_error),
            "assumption_needed": self.necessity,
            "tolerances": dict(TOLERANCE),
            "failures": self.failures,
            "ok": self.ok,
        }


def report(ident, seed: int = 0) -> Report:
    r"""Prove ``ident``, refute its wrong variants and run its numeric checks."""
    result = ident.prove()
    chains = [
        {
            "title": c.title,
            "size": c.size or "symbolic",
            "steps": result.chains[c.title],
            "substantive": c.substantive,
            "definitional": len(c.steps) - 1 - c.substantive,
        }
        for c in ident.chains
    ]
    checks = []
    for q, check in enumerate(ident.checks):
        with np.errstate(all="ignore"):
            try:
                err = float(check.run(np.random.default_rng([seed, q])))
            except FloatingPointError:
                err = math.nan
        checks.append(CheckResult(check.label, check.kind, err, TOLERANCE[check.kind]))
    return Report(
        ident.number,
        ident.name,
        ident.title,
        result.proved,
        result.seconds,
        ident.sizes,
        ident.substantive_steps,
        ident.total_steps,
        all(result.statement),
        chains,
        ident.refute_variants(seed),
        checks,
        result.necessity,
        list(ident.assumptions),
        ident.hypotheses_shown(),
    )


def iter_reports(seed: int = 0) -> Iterator[Report]:
    r"""Each identity's :class:`Report` as soon as it is made, in the catalogue's order."""
    for ident in S.identities():
        yield report(ident, seed)


def run_all(seed: int = 0) -> list[Report]:
    r"""Prove every identity, refute its wrong variants and run its numeric checks."""
    return list(iter_reports(seed))


def _sizes(r: Report) -> str:
    return ", ".join(s.replace(" ", "") for s in r.sizes)


def _e(x: float | None) -> str:
    return "-" if x is None else f"{x:.1e}"


def table_header() -> list[str]:
    """The two lines above the rows of the table that ``backproof verify`` prints."""
    head = (
        f"{'#':>2}  {'identity':50} {'proved':>6} {'time':>6} {'steps':>6} {'variants':>9} "
        f"{'f64':>8} {'f32':>8} {'fin.diff':>8}  sizes proved"
    )
    return [head, "-" * len(head)]


def table_row(r: Report) -> str:
    """One identity's line of the table."""
    mark = "✓" if r.proved and r.statement_matches else "✗"
    refuted = f"{r.variants_refuted}/{len(r.variants)}"
    return (
        f"{r.number:>2}  {r.name[:50]:50} {mark:>6} {r.proof_seconds:5.1f}s "
        f"{r.substantive_steps:>3}/{r.total_steps:<2} "
        f"{refuted:>9} {_e(r.numeric_max_rel_error):>8} {_e(r.numeric_max_rel_error_float32):>8} "
        f"{_e(r.fd_rel_error):>8}  {_sizes(r)}{'' if r.ok else '  FAILED'}"
    )


def table_footer(reports: list[Report]) -> list[str]:
    """The legend, one line per failure, and the count below the rows."""
    tol = TOLERANCE
    lines = [
        "steps: substantive rewrites / all steps (the rest only unfold definitions); variants: wrong "
        f"versions refuted, each by {S.REFUTATION} (or {S.SHAPES}); proofs: {S.PROOF}.",
        f"tolerances: float64 {tol['float64']:.0e}, float32 {tol['float32']:.0e}, "
        f"finite differences {tol['fd']:.0e} (relative errors: normwise per column against SymPy, "
        "elementwise |a-n|/max(|a|+|n|, 1e-8) against finite differences; NaN or inf fails)",
    ]
    for r in reports:
        for msg in r.failures:
            lines.append(f"FAILED {r.name}: {msg}")
    passed = sum(r.ok for r in reports)
    lines.append(f"{passed} of {len(reports)} identities verified")
    return lines


def format_table(reports: list[Report]) -> str:
    r"""The table that ``backproof verify`` prints, with one line per failure below it."""
    return "\n".join(table_header() + [table_row(r) for r in reports] + table_footer(reports))
