r"""What the report says of a learner's function beside the verdicts of its properties.

Notes that are not failures: the textbook chain whose step is NaN where y underflows
(``_textbook_note``), randomness that the global seed does not repeat (``_seed_note``), and a
NameError on a name that the file assigns in a statement the checker did not run
(``_skipped_global_note``). And the names: ``_canon`` and ``_similar`` tell a learner's name that
means a course function (``softmax_prime`` for ``softmaxp``), and ``_slip_candidate`` finds the
function a learner wrote under another name, for the "naming slip?" note of :mod:`._run` (and
:mod:`._inline` maps a live function's name with them).

Non-goals: verdicts and diagnoses (:mod:`._checker`); Python 2 habits (:mod:`._hints`).
"""

from __future__ import annotations

import difflib
import re

import numpy as np

from . import _specs as S
from ._report import FunctionResult
from ._sandbox import Learner, LearnerError

# ---------------------------------------------------------------- notes that are not failures


def _textbook_note(learner: Learner, fname: str, spec: S.Spec) -> str | None:
    r"""Where y underflows, the textbook δ2 = softmaxp(a2, −d/y) is NaN; say so (a note, not a failure)."""
    x = np.ones((2, 1))
    net = (np.eye(2), np.zeros((2, 1)), np.zeros((10, 2)), np.zeros((10, 1)))
    net[2][0] = 400.0  # a2[0] = 800: y of every other class underflows to 0
    d = np.zeros((10, 1))
    d[3] = 1
    args = (x, d, net, S.GAMMA) if spec.name == "update_shallow" else (x, d, net, 1, S.GAMMA)
    try:
        got = S.net_out(learner.call(fname, args))
    except (LearnerError, S.Malformed):
        return None
    if all(np.isfinite(v).all() for v in got.values()):
        return None
    return (
        "your step is NaN where a logit lies 800 below the largest: δ2 = softmaxp(a2, −d/y) divides by "
        "y, which underflows to 0 there. This is the course's own (correct) textbook chain; the fused "
        f"δ2 = y − d gives the same gradient and never divides by y (see {S.TEXTBOOK_PAGE})"
    )


def _seed_note(learner: Learner, fname: str, spec: S.Spec) -> str | None:
    r"""The same global seed should give the same result; a note, since the course fixes no seeding."""
    args: tuple
    if spec.name == "init_shallow":
        args = (5, 3, 10)
    else:
        i = S.net_inputs(6, 3, 2, 7)  # B = 1: two shuffles agree with probability 1/720
        args = (i["x"], i["d"], i["net"], 1, 1, S.GAMMA)
    try:
        a = S.net_out(learner.call(fname, args, seed=12345))
        b = S.net_out(learner.call(fname, args, seed=12345))
    except (LearnerError, S.Malformed):
        return None
    if all(np.array_equal(a[k], b[k]) for k in a):
        return None
    return (
        "two calls after np.random.seed(12345) give different results: the randomness does not come from "
        "NumPy's seeded generator, so a run cannot be repeated"
    )


_NAME_ERROR = re.compile(r"NameError: name '(\w+)' is not defined")


def _skipped_global_note(fr: FunctionResult, src, run_all: bool) -> None:
    r"""A NameError on a name the file assigns in a statement that was not run: say so."""
    if run_all:
        return
    for f in fr.findings:
        m = _NAME_ERROR.search(f.problem or "")
        if m and m.group(1) in src.definitions:
            name = m.group(1)
            fr.notes.append(
                f"{name} is assigned at {'; '.join(src.definitions[name])}, a statement the checker does not "
                f"run (only definitions and constants run): pass {name} as an argument, or use --run-all"
            )
            return


# ---------------------------------------------------------------- names


_SYNONYMS = re.compile(r"_?(prime|derivative|deriv|grad|gradient|jvp|der)$")


def _canon(name: str) -> str:
    return _SYNONYMS.sub("p", name.lower()).replace("_", "")


def _similar(a: str, b: str) -> bool:
    a, b = _canon(a), _canon(b)
    return a == b or a.startswith(b) or b.startswith(a) or difflib.SequenceMatcher(None, a, b).ratio() >= 0.8


def _slip_candidate(spec: S.Spec, functions: dict, found: set[str]) -> tuple[str, str] | None:
    r"""A learner's function that looks like ``spec`` under another name: ``(name, why)``."""
    want = len(spec.params)
    for other, (params, required, _) in functions.items():
        if other == spec.name or not _similar(other, spec.name):
            continue
        if not required <= want <= len(params):
            continue
        if other in S.COURSE_FUNCTIONS:
            theirs = next(s for s in S.specs_cache() if s.name == other)
            if required <= len(theirs.params) <= len(params):
                continue  # it fits its own course name: not a slip
            return other, f"{other}({', '.join(params)}) takes the parameters of {spec.name}, not of {other}"
        if other not in found:
            return other, f"you define {other}({', '.join(params)})"
    return None
