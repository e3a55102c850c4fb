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
import os
import sys
import textwrap
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from . import symbolic as S
from .proof_cache import (
    Certificate,
    certify,
    load_certificate,
    save_certificate,
)
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
    cited_rules: list[dict] = field(default_factory=list)
    induction: dict | None = None
    from_cache: bool = False

    @property
    def proof_summary(self) -> str:
        """``"proved by SymPy from k cited rules"`` (or ``"not proved"``), as the table and site say."""
        if not (self.proved and self.statement_matches):
            return "not proved"
        k = len(self.cited_rules)
        return f"proved by SymPy from {k} cited rule{'' if k == 1 else 's'}"

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
            "proof_summary": self.proof_summary,
            "cited_rules": [dict(rule) for rule in self.cited_rules],
            "induction": dict(self.induction) if self.induction is not None else None,
            "from_cache": self.from_cache,
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


def _rules_of(ident) -> list[dict]:
    from .symbolic.rules import cited_rules, rule_dict

    return [rule_dict(rule) for rule in cited_rules(ident)]


def report(ident, seed: int = 0, certificate: Certificate | None = None) -> Report:
    r"""Prove ``ident``, refute its wrong variants and run its numeric checks.

    ``certificate`` (from the cache or a worker process) replaces the proof and the refutations;
    the numeric checks always run, since they test the NumPy code as it is now.
    """
    cert = certificate if certificate is not None else certify(ident, seed)
    result = cert.result
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
    induction = getattr(ident, "induction_checks", None)
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
        cert.verdicts,
        checks,
        result.necessity,
        list(ident.assumptions),
        ident.hypotheses_shown(),
        _rules_of(ident),
        induction() if induction is not None else None,
        cert.from_cache,
    )


# --------------------------------------------------------------------------- proofs in parallel


def _certify_in_worker(position: int, seed: int) -> tuple[str, Certificate]:
    ident = S.identities()[position]  # the catalogue inherited from the parent (fork)
    return ident.name, certify(ident, seed)


def _pool(jobs: int):
    r"""A pool of ``jobs`` processes forked from this one (they inherit the built catalogue), or ``None``.

    On Linux only (elsewhere ``fork`` is not the platform's default); otherwise the proofs run here.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    if jobs < 2 or sys.platform != "linux" or "fork" not in multiprocessing.get_all_start_methods():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter(
            "ignore", DeprecationWarning
        )  # fork beside the heartbeat thread: it holds no lock
        return ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("fork"))


def _default_jobs() -> int:
    return max(1, min(2, os.cpu_count() or 1))


def iter_reports(seed: int = 0, *, cache: bool = True, jobs: int | None = None) -> Iterator[Report]:
    r"""Each identity's :class:`Report`, in the catalogue's order, as soon as it is made.

    With ``cache``, a proof whose sources have not changed is read from the cache
    (:func:`load_certificate`) and a new one written to it when it succeeded (a failure, which
    may be a refutation that ran out of time, is made again next time). Proofs not in the cache run in
    ``jobs`` processes (default: up to 2); the numeric checks run here, in order, meanwhile. When
    fewer proofs than processes are to be made, the idle processes also take SymPy's derivatives
    of the numeric checks' explicit networks.
    """
    idents = S.identities()
    certs: dict[str, Certificate | None] = {
        i.name: (load_certificate(i, seed) if cache else None) for i in idents
    }
    todo = [i for i in idents if certs[i.name] is None]
    jobs = jobs if jobs is not None else _default_jobs()
    pool = _pool(jobs)
    futures = {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            if pool is not None:
                if len(todo) < jobs:
                    # a worker would be idle: it takes SymPy's derivatives of the explicit
                    # networks that the numeric checks of the layer identities use (the slowest
                    # part of a run with every proof in the cache); with proofs to make, the
                    # workers prove and the networks are made here, between the checks
                    from .activations import ACTIVATIONS
                    from .symbolic import _layer_numeric

                    _layer_numeric.prebuild(ACTIVATIONS, pool.submit)
                futures = {i.name: pool.submit(_certify_in_worker, idents.index(i), seed) for i in todo}
        for ident in idents:
            cert = certs[ident.name]
            if cert is None:
                cert = futures[ident.name].result()[1] if ident.name in futures else certify(ident, seed)
                if cache and cert.result.proved and all(v.refuted for v in cert.verdicts):
                    save_certificate(ident, seed, cert)  # a failure is never cached: it may be a timeout
            yield report(ident, seed, cert)
    finally:
        if pool is not None:
            pool.shutdown(cancel_futures=True)


def run_all(seed: int = 0, *, cache: bool = True, jobs: int | None = None) -> list[Report]:
    r"""Prove every identity, refute its wrong variants and run its numeric checks."""
    return list(iter_reports(seed, cache=cache, jobs=jobs))


# --------------------------------------------------------------------------- the table (100 columns)

#: The table's width: every line that ``backproof verify`` prints fits in it.
WIDTH = 100


def _e(x: float | None) -> str:
    return "-" if x is None else f"{x:.1e}"


def table_header() -> list[str]:
    """The two lines above the rows of the table that ``backproof verify`` prints."""
    head = (
        f"{'#':>2} {'identity':49} {'✓':1} {'time':>5} {'steps':>5} {'wrong':>5} "
        f"{'f64':>7} {'f32':>7} {'fin.dif':>7}"
    )
    return [head, "-" * WIDTH]


def _wrap(text: str, indent: str = "    ") -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent + "  ")


def table_row(r: Report) -> str:
    """One identity's lines of the table: the figures, then what was proved for which sizes and from what."""
    mark = "✓" if r.proved and r.statement_matches else "✗"
    refuted = f"{r.variants_refuted}/{len(r.variants)}"
    name = r.name if len(r.name) <= 49 else r.name[:48] + "…"
    seconds = "cache" if r.from_cache else f"{r.proof_seconds:4.1f}s"
    first = (
        f"{r.number:>2} {name:49} {mark:1} {seconds:>5} {r.substantive_steps:>2}/{r.total_steps:<2} "
        f"{refuted:>5} {_e(r.numeric_max_rel_error):>7} {_e(r.numeric_max_rel_error_float32):>7} "
        f"{_e(r.fd_rel_error):>7}"
    )
    sizes = "; ".join(s.replace(" ", "") for s in r.sizes)
    rules = "; ".join(f"{rule['name']} ({rule['status'].split(' (')[0]})" for rule in r.cited_rules)
    text = f"{r.proof_summary}{': ' + rules if rules else ''}. Sizes: {sizes}."
    if r.induction is not None:
        shown = sum(bool(v) for v in r.induction.values())
        text += f" Induction on l: {shown} of {len(r.induction)} substitution checks hold."
    if not r.ok:
        text += " FAILED"
    return "\n".join([first, *_wrap(text)])


def table_footer(reports: list[Report]) -> list[str]:
    """The legend, one line per failure, and the count below the rows."""
    tol = TOLERANCE
    legend = (
        "steps: rewrites SymPy derives / all steps (the others substitute a definition, which SymPy "
        "checks, or apply a cited rule, listed under the identity with its status); wrong: wrong "
        f"versions refuted, each by {S.REFUTATION} (or {S.SHAPES}); time: seconds to prove, or 'cache' "
        f"when the proof was read from the cache (its sources unchanged); proofs: {S.PROOF}. "
        f"Tolerances: float64 {tol['float64']:.0e}, float32 {tol['float32']:.0e}, finite differences "
        f"{tol['fd']:.0e} (normwise per column against SymPy, elementwise |a-n|/max(|a|+|n|, 1e-8) "
        "against finite differences; NaN or inf fails)."
    )
    lines = textwrap.wrap(legend, WIDTH)
    for r in reports:
        for msg in r.failures:
            lines += textwrap.wrap(f"FAILED {r.name}: {msg}", WIDTH, subsequent_indent="    ")
    passed = sum(r.ok for r in reports)
    lines.append(f"{passed} of {len(reports)} identities verified")
    return lines


def format_table(reports: list[Report]) -> str:
    r"""The table that ``backproof verify`` prints, with one line per failure below it."""
    return "\n".join(table_header() + [table_row(r) for r in reports] + table_footer(reports))
