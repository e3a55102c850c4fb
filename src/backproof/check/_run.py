r"""Running the checks of :mod:`backproof.check._specs` against a learner's functions.

For each property, Hypothesis generates inputs (seeded: ``derandomize=True``, no example
database, so the same file always gives the same report), calls the learner's function in
the child process, and compares with backproof's own result. A failure is shrunk by
Hypothesis to a small counterexample; then every known mistake of that function is run on
the counterexample and on fixed probe inputs, and a mistake whose outputs all equal the
learner's becomes the diagnosis.

Non-goals: partial credit beyond the share of properties that hold.
"""

from __future__ import annotations

import contextlib
import difflib
import re
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _specs as S
from ._adapt import statements as adapt_statements
from ._depends import Replacer, collapse_dependencies
from ._hints import python2_hint
from ._load import load_source
from ._locate import function_lines, locate
from ._report import Finding, FunctionResult, Report, show_array
from ._sandbox import Learner, LearnerError


class _Abort(BaseException):  # not an Exception, so Hypothesis lets it through
    r"""Stops Hypothesis at once after a timeout or a dead child (shrinking would wait again)."""


class _Failed(Exception):  # noqa: N818 - signals a counterexample to Hypothesis
    pass


@dataclass
class Outcome:
    value: dict | None = None
    error: LearnerError | None = None
    malformed: str | None = None


# ---------------------------------------------------------------- comparison


def _tolerance(dtype) -> float:
    return 1e-4 if np.dtype(dtype).kind == "f" and np.dtype(dtype).itemsize <= 4 else 1e-6


def compare(
    got: dict,
    exp: dict,
    base: dict | None = None,
    equal_nan: bool = False,
    limit: int = 3,
    scale: float = 0.0,
):
    # the first ``limit`` differing entries of the first array that differs; the others are named
    r"""``(ok, expected lines, got lines, problem)`` comparing normalised outputs entry by entry."""
    if set(got) != set(exp):
        return False, [], [], f"returns {sorted(got)}, expected {sorted(exp)}"
    exp_lines: list[str] = []
    got_lines: list[str] = []
    for key in exp:
        g, e = got[key], np.asarray(exp[key])
        name = key or "result"
        if g.shape != e.shape:
            return (
                False,
                [f"{name}: shape {e.shape}"],
                [f"{name}: shape {g.shape}"],
                (f"{name} has shape {g.shape}, expected {e.shape}"),
            )
        if g.dtype.kind not in "biuf":
            return False, [], [f"{name}: dtype {g.dtype}"], f"{name} has dtype {g.dtype}, expected numbers"
        gf, ef = g.astype(np.float64), e.astype(np.float64)
        # the coarser of the two: a float64 answer is not wrong for differing from a float32 reference
        rtol = max(_tolerance(g.dtype if g.dtype.kind == "f" else np.float64), _tolerance(e.dtype))
        atol = 1e-12
        if base is not None:
            b = np.asarray(base[key], dtype=np.float64)
            if b.shape == gf.shape:
                gf, ef = gf - b, ef - b
                atol += (
                    8
                    * np.finfo(g.dtype if g.dtype.kind == "f" else np.float64).eps
                    * np.abs(b).max(initial=0)
                )
        finite = np.abs(ef[np.isfinite(ef)])
        atol += rtol * max(finite.max() if finite.size else 0.0, scale)
        with np.errstate(invalid="ignore"):
            bad = ~(np.abs(gf - ef) <= atol + rtol * np.abs(ef))
        if equal_nan:
            bad &= ~((np.isnan(gf) & np.isnan(ef)) | ((gf == ef) & np.isinf(ef)))
        if bad.any() and exp_lines:
            got_lines.append(f"... and {name} differs too")
        elif bad.any():
            where = np.argwhere(bad)[:limit] if bad.ndim else [()]
            what = "change of " if base is not None else ""
            for idx in where:
                idx = tuple(int(v) for v in idx)
                at = f"{name}{list(idx) if idx else ''}"
                exp_lines.append(f"{what}{at} = {ef[idx]:.6g}")
                got_lines.append(f"{what}{at} = {gf[idx]:.6g}")
            n = int(bad.sum())
            if n > limit:
                got_lines.append(f"... {n} of {bad.size} entries of {name} differ")
    ok = not exp_lines
    return ok, exp_lines, got_lines, None if ok else "values differ"


def _matches(prop: S.Prop, learner: Outcome, mistake) -> bool:
    if isinstance(mistake, Exception):
        return (
            learner.error is not None
            and learner.error.kind == "exception"
            and learner.error.message.startswith(type(mistake).__name__)
        )
    if learner.value is None:
        return False
    if prop.close is not None:
        return prop.close(learner.value, mistake)
    if prop.extra is not None:
        problem = prop.extra(learner.value, {})
        if problem is not None and problem != prop.extra(mistake, {}):
            return False
    return compare(learner.value, mistake, equal_nan=True)[0]


def _run_mistake(m: S.Mistake, inputs: dict):
    try:
        with np.errstate(all="ignore"):
            out = m.formula(inputs)
    except Exception as exc:  # the mistaken formula crashes as the learner's may
        return exc
    return out if isinstance(out, dict) else S.single(out)


# ---------------------------------------------------------------- one property


class _Checker:
    def __init__(self, learner: Learner, spec: S.Spec, fname: str, prop: S.Prop):
        self.learner, self.spec, self.fname, self.prop = learner, spec, fname, prop
        self.failures: list[tuple[dict, Outcome, tuple]] = []
        self.fatal: tuple[dict, LearnerError] | None = None
        self.notes: list[str] = []
        self.conventions: list[str] = []  # course conventions seen on outputs that are right
        self.equal_nan = False  # NaN where the expected value is NaN counts as equal
        self.behaviour_mistake: S.Mistake | None = None
        self.where: str | None = None  # the diagnosed mistake's pattern for the learner's line

    def outcome(self, inputs: dict) -> Outcome:
        try:
            raw = self.learner.call(self.fname, self.prop.args(inputs))
        except LearnerError as exc:
            if exc.fatal:
                self.fatal = (inputs, exc)
                raise _Abort() from None
            return Outcome(error=exc)
        try:
            return Outcome(value=self.prop.normalise(raw))
        except S.Malformed as exc:
            return Outcome(malformed=str(exc))

    def verdict(self, inputs: dict, out: Outcome):
        r"""None when the property holds, else ``(problem, expected lines, got lines)``."""
        if out.error is not None:
            return (out.error.message, [], [])
        if out.malformed is not None or out.value is None:
            return (out.malformed or "returned nothing", [], [])
        exp = self.prop.expected(inputs)
        if self.prop.close is not None:
            if self.prop.close(out.value, exp):
                return None
            return (self.prop.close_says, _lines(exp), _lines(out.value))
        base = self.prop.base(inputs) if self.prop.base else None
        scale = self.prop.scale(inputs) if self.prop.scale else 0.0
        ok, e_lines, g_lines, problem = compare(out.value, exp, base, scale=scale, equal_nan=self.equal_nan)
        if not ok and self.prop.accept is not None:
            note = self.prop.accept(out.value, inputs)
            if note:
                if note not in self.notes:
                    self.notes.append(note)
                return None
        if ok and self.prop.extra is not None:
            problem = self.prop.extra(out.value, inputs)
            if problem:
                return (problem, [], [])
        if ok and self.prop.convention is not None:
            note = self.prop.convention(out.value, inputs)
            if note and note not in self.conventions:
                self.conventions.append(note)
        return None if ok else (problem, e_lines, g_lines)

    def run(self) -> None:
        if self.prop.behaviour is not None:
            self._run_behaviour()
            return
        from hypothesis import HealthCheck, Phase, Verbosity, example, given, settings

        def body(inputs):
            out = self.outcome(inputs)
            v = self.verdict(inputs, out)
            if v is not None:
                self.failures.append((inputs, out, v))
                raise _Failed()

        test = given(self.prop.strategy())(body)
        for ex in reversed(self.prop.examples):
            test = example(ex)(test)
        test = settings(
            max_examples=self.prop.max_examples,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            report_multiple_bugs=False,
            print_blob=False,
            phases=[Phase.explicit, Phase.generate, Phase.shrink],
        )(test)
        try:
            test()
        except _Abort:
            pass
        except _Failed:
            pass
        except Exception:  # Flaky and friends: a learner function that is not deterministic
            if not self.failures:
                raise

    def _run_behaviour(self) -> None:
        def call(args, seed=0):
            try:
                raw = self.learner.call(self.fname, args, seed=seed)
            except LearnerError as exc:
                if exc.fatal:
                    self.fatal = ({"args": args}, exc)
                    raise _Abort() from None
                raise S.Misbehaves(exc.message) from None
            try:
                return self.prop.normalise(raw)
            except S.Malformed as exc:
                raise S.Misbehaves(str(exc)) from None

        assert self.prop.behaviour is not None
        try:
            found = self.prop.behaviour(call)
        except _Abort:
            return
        if isinstance(found, str):  # it holds, with something worth saying
            self.notes.append(found)
        elif found is not None:
            problem, inputs, e_lines, g_lines, mistake = found
            self.failures.append((inputs, Outcome(malformed=problem), (problem, e_lines, g_lines)))
            self.behaviour_mistake = mistake

    def diagnose(self, inputs: dict, out: Outcome) -> S.Mistake | None:
        r"""The first known mistake whose outputs equal the learner's on ``inputs`` and every probe.

        A course convention (``Mistake.course``) is the diagnosis only when the learner's function
        follows it on every generated input too (see :meth:`_follows`), so a convention never
        hides a real mistake.
        """
        if self.prop.behaviour is not None:
            return self.behaviour_mistake
        probes = [(p, self._probe(p)) for p in self.prop.probes]
        for m in self.prop.mistakes:
            if all(_matches(self.prop, o, _run_mistake(m, i)) for i, o in [(inputs, out), *probes]):
                if m.course and (out.error is not None or not self._follows(m)):
                    continue
                return m
        return None

    def _follows(self, m: S.Mistake) -> bool:
        r"""Whether the learner's function equals the convention ``m`` on every generated input."""
        import dataclasses

        def expected(i):
            out = _run_mistake(m, i)
            if isinstance(out, Exception):
                raise _Abort()
            return out

        prop = dataclasses.replace(
            self.prop, expected=expected, mistakes=[], probes=[], accept=None, convention=None, base=None
        )
        again = _Checker(self.learner, self.spec, self.fname, prop)
        again.equal_nan = True
        again.run()
        return not again.failures and again.fatal is None

    def _probe(self, inputs: dict) -> Outcome:
        try:
            return self.outcome(inputs)
        except _Abort:
            return Outcome()

    def finding(self) -> tuple[Finding, str]:
        prop = self.prop
        f = Finding(f"{self.spec.name}.{prop.key}", prop.claim, prop.identity, True, prop.link)
        if self.fatal is not None:
            inputs, exc = self.fatal
            f.passed = False
            f.problem = exc.message
            f.counterexample, f.counterexample_values = _show_inputs(inputs), _values(inputs)
            return f, "timed out" if exc.kind == "timeout" else "crashed"
        if not self.failures:
            if self.conventions:
                f.differs, f.mistake = self.conventions[0], self.prop.convention_key
                return f, "differs"
            return f, "pass"
        self.notes.clear()  # an accepted variant on some input says nothing when another input fails
        inputs, out, (problem, e_lines, g_lines) = self.failures[-1]
        f.passed = False
        f.problem, f.expected, f.got = problem, e_lines, g_lines
        f.counterexample, f.counterexample_values = _show_inputs(inputs), _values(inputs)
        m = self.diagnose(inputs, out)
        if m is not None and m.course:
            f.passed, f.differs, f.mistake = True, m.says, m.key
            self.where = m.where
            f.problem, f.expected, f.got = None, [], []
            shown = m.breaks_on if m.breaks_on is not None else inputs
            f.counterexample, f.counterexample_values = _show_inputs(shown), _values(shown)
            return f, "differs"
        if m is not None:
            f.diagnosis, f.mistake = m.says, m.key
            self.where = m.where
            if m.identity:
                f.identity = m.identity
                f.link = S.identity_link(m.identity)
        if f.diagnosis is None:
            f.diagnosis = python2_hint(problem or "")
        if out.error is not None:
            return f, "crashed"
        return f, "fail"


def _lines(values: dict) -> list[str]:
    return [
        f"{k}: shape {tuple(int(n) for n in v)}" if v.dtype.kind in "iu" else f"{k} = {float(v):.4g}"
        for k, v in values.items()
    ]


def _values(inputs: dict) -> dict:
    def plain(v):
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (tuple, list)):
            return [plain(x) for x in v]
        return np.asarray(v).tolist()

    return {k: plain(v) for k, v in inputs.items()}


def _show_inputs(inputs: dict) -> dict[str, str]:
    out = {}
    sizes = inputs.get("sizes", {})
    for k, v in inputs.items():
        if k in sizes and k != "sizes":
            continue
        if k == "net" and isinstance(v, tuple):
            for name, arr in zip(S.NET, v):
                out[name] = show_array(arr)
        else:
            out[k] = show_array(v)
    return out


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


# ---------------------------------------------------------------- not found


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


_VERB = {"fail": "fail", "crashed": "crash", "timed out": "time out"}


def _not_found(learner: Learner, spec: S.Spec, fname: str, src, found: set[str]) -> FunctionResult:
    fr = FunctionResult(spec.name, "not found", defined_as=fname)
    slip = _slip_candidate(spec, learner.functions, found) if fname == spec.name else None
    if slip is None:
        if fname in src.definitions:
            fr.notes.append(
                f"{fname} is assigned ({'; '.join(src.definitions[fname])}) but is not a function"
            )
        else:
            fr.notes.append(f"no function {fname} in the file")
        return fr
    other, why = slip
    where = src.definitions.get(other, [])
    if other in S.COURSE_FUNCTIONS and len(where) > 1:
        why += (
            f"; {other} is defined {len(where)} times ({'; '.join(where)}) and the last overwrites the first"
        )
    trial = _check_function(learner, spec, other)
    verdict = (
        f"it passes the {spec.name} checks"
        if trial.status == "pass"
        else f"checked as {spec.name} it would {_VERB[trial.status]}"
    )
    fr.notes.append(
        f"{why}: a naming slip? {verdict}. Rename it {spec.name}"
        + ("" if other in S.COURSE_FUNCTIONS else f", or check it with --map {spec.name}={other}")
    )
    return fr


# ---------------------------------------------------------------- the file


def check_file(
    path: str | Path,
    mapping: dict[str, str] | None = None,
    only: list[str] | None = None,
    run_all: bool = False,
    time_limit: float = 3.0,
    memory_mb: int = 2048,
    load_limit: float = 30.0,
    cell_limit: float = 600.0,
    progress=None,
    layout: str | None = None,
    adapter: str | Path | None = None,
) -> Report:
    r"""Check a learner's ``.py`` or ``.ipynb``, function by function (see :mod:`backproof.check`).

    Parameters
    ----------
    path : str or pathlib.Path
        The learner's notebook or module. It is read, never written; its code runs in a
        confined child process whose working directory is a copy of its folder (see
        :mod:`backproof.check._sandbox`).
    mapping : dict, optional
        Course name -> the learner's name, e.g. ``{"softmaxp": "my_softmax_grad"}``.
    only : list of str, optional
        Check only these course functions (others are left out of the report), and only the
        derivations of these course results (``softmax-diagonal``, …; ``derivations`` for all).
    run_all : bool
        Run every cell (statement) in order instead of only imports, definitions and constants.
    time_limit : float
        Seconds allowed to each call of a learner's function.
    memory_mb : int
        Address-space limit of the child process, in MiB.
    load_limit : float
        Seconds allowed to run the definitions (without ``run_all``).
    cell_limit : float
        With ``run_all``: seconds allowed to each cell; a cell that takes longer is stopped and
        reported, and the cells after it still run.
    progress : callable, optional
        With ``run_all``: called with one line per cell as it starts, fails or ends slowly
        (the command line prints them on stderr).
    layout : {"columns", "rows"}, optional
        ``"rows"``: the learner's functions take samples as rows (see :mod:`backproof.check._adapt`).
    adapter : str or pathlib.Path, optional
        A Python file of adapters, one per course function whose signature differs, named after
        it (see :mod:`backproof.check._adapt`).

    Returns
    -------
    Report
        Per course function: ``pass``, ``fail``, ``crashed``, ``timed out`` or ``not found``, with
        the broken identity or property, the smallest counterexample, expected and got, and a
        diagnosis where a known mistake reproduces the learner's output.
        In ``derivations``, for a notebook (or a ``.md``/``.tex`` file, checked for derivations
        alone): each derivation of the Markdown cells, step by step
        (:func:`backproof.check.derivations.check_derivations`).

    Raises
    ------
    UnreadableFileError
        The file is missing, not a notebook, or a ``.py`` file with a syntax error.
    ValueError
        ``mapping`` or ``only`` names a function that is not one of the course's.
    """
    start = time.perf_counter()
    mapping = dict(mapping or {})
    derivations, only = _derivations(path, only)
    if Path(path).suffix in (".md", ".tex"):  # derivations only: no code to run
        return Report(str(path), [], [], time.perf_counter() - start, derivations)
    src = load_source(path, run_all=run_all)
    specs = S.specs_cache()
    if only is not None:
        unknown = sorted(set(only) - {s.name for s in specs})
        if unknown:
            from .derivations.check import TARGETS

            raise ValueError(
                f"not a course function: {', '.join(unknown)}; choose from {', '.join(S.COURSE_FUNCTIONS)}"
                f" (or the derivations of {', '.join(TARGETS)})"
            )
        if not only:  # only derivations were asked for
            return Report(str(path), [], list(src.notes), time.perf_counter() - start, derivations)
        specs = [s for s in specs if s.name in only]
    unknown = sorted(set(mapping) - set(S.COURSE_FUNCTIONS))
    if unknown:
        raise ValueError(f"--map: not a course function: {', '.join(unknown)}")
    results: list[FunctionResult] = []
    notes = list(src.notes)
    folder = str(Path(path).resolve().parent)
    extra, adapted, by_file = adapt_statements(layout, adapter, mapping, S.COURSE_FUNCTIONS)
    statements = [*src.statements, *extra]
    try:
        learner = Learner(
            statements,
            folder,
            time_limit,
            memory_mb,
            load_limit,
            run_all=run_all,
            cell_limit=cell_limit,
            progress=progress,
        )
    except LearnerError as exc:
        why = f"loading the file {'timed out' if exc.kind == 'timeout' else 'failed: ' + exc.message}"
        return Report(
            str(path),
            [FunctionResult(s.name, "crashed", notes=[why]) for s in specs],
            notes,
            time.perf_counter() - start,
            derivations,
        )
    sources = function_lines(Path(path))
    with learner, _hypothesis_home(learner.scratch):
        notes.extend(learner.load_notes)
        for spec in specs:
            fname = adapted.get(spec.name, mapping.get(spec.name, spec.name))
            if fname not in learner.functions and spec.name in adapted:
                fname = mapping.get(spec.name, spec.name)  # no such function of the learner's to adapt
            t0 = time.perf_counter()
            if fname not in learner.functions:
                found = {mapping.get(s.name, s.name) for s in S.specs_cache()} & set(learner.functions)
                results.append(_not_found(learner, spec, fname, src, found))
                continue
            fr = _check_function(learner, spec, fname, sources)
            if fname != mapping.get(spec.name, spec.name):
                fr.defined_as = mapping.get(spec.name, spec.name)
                if spec.name in by_file:
                    fr.notes.append(f"checked through the adapter {Path(str(adapter)).name}")
            _skipped_global_note(fr, src, run_all)
            where = src.definitions.get(fname, [])
            if len(where) > 1:
                fr.notes.append(
                    f"defined {len(where)} times ({'; '.join(where)}): the last definition is checked"
                )
            fr.seconds = time.perf_counter() - t0
            results.append(fr)
        if not adapted:  # the course's functions replace the learner's only in the course's layout
            replace = Replacer(src.statements, folder, time_limit, memory_mb, load_limit)
            collapse_dependencies(results, learner.functions, mapping, replace, sources, _check_function)
    if layout == "rows":
        notes.insert(
            0, "checked with samples as rows (--layout rows): inputs and results are shown as columns"
        )
    return Report(str(path), results, notes, time.perf_counter() - start, derivations)


def _derivations(path: str | Path, only: list[str] | None) -> tuple[list, list[str] | None]:
    r"""The derivations of a notebook, ``.md`` or ``.tex`` (see :mod:`.derivations`), and ``only`` without
    the names of course results, which select derivations (``--only softmax-diagonal``; ``derivations``
    selects them all). With ``only`` naming results only, no function is checked."""
    from .derivations import check_derivations
    from .derivations.check import ALIASES, TARGETS

    path = Path(path)
    if path.suffix not in (".ipynb", ".md", ".tex"):
        return [], only
    results = {*TARGETS, *ALIASES, "derivations"}
    wanted = None if only is None else {ALIASES.get(n, n) for n in only if n in results}
    if wanted is not None and not wanted:
        return [], only  # --only names functions only
    if not path.is_file() and path.suffix == ".ipynb":
        return [], only  # load_source says what is wrong with the file
    found = check_derivations(path)
    if wanted is not None and "derivations" not in wanted:
        found = [d for d in found if d.target in wanted]
    rest = None if only is None else [n for n in only if n not in results]
    return found, (rest if rest or only is None else [])


@contextlib.contextmanager
def _hypothesis_home(folder: str):
    r"""Hypothesis caches constants in ./.hypothesis: keep that out of the learner's folder. And
    it draws, now and then, constants found in the "local" modules loaded in this process (ours
    when backproof is not in site-packages, a notebook's own modules): without them, the inputs
    generated, and so every verdict and counterexample, are the same in a fresh command line, in
    a grading worker that has checked others before, and in a learner's notebook."""
    from hypothesis import configuration

    before = getattr(configuration, "__hypothesis_home_directory", None)
    configuration.set_hypothesis_home_dir(folder)
    try:
        with _without_local_constants():
            yield
    finally:
        configuration.set_hypothesis_home_dir(before)


@contextlib.contextmanager
def _without_local_constants():
    try:  # private to Hypothesis (6.1xx): when it is not there, nothing to isolate
        from hypothesis.internal.conjecture import providers
        from hypothesis.internal.constants_ast import Constants

        original, cache = providers._get_local_constants, providers.CONSTANTS_CACHE.cache
    except (ImportError, AttributeError):
        yield
        return
    saved = dict(cache)
    empty = Constants()
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = original
        cache.clear()
        cache.update(saved)


def _check_function(learner, spec: S.Spec, fname: str, sources: dict | None = None) -> FunctionResult:
    r"""Every property of ``spec`` on the learner's ``fname``: the one verdict logic, for the command
    line (``learner`` a :class:`Learner` in a child process) and in a notebook (in the kernel)."""
    fr = FunctionResult(spec.name, "pass", defined_as=fname)
    params, required, _ = learner.functions[fname]
    if required > len(spec.params):
        fr.notes.append(
            f"{fname}({', '.join(params)}) requires {required} arguments; the course's is "
            f"{spec.name}({', '.join(spec.params)})"
        )
    order = ["pass", "differs", "fail", "crashed", "timed out"]
    skipped: set[str] = set()
    for prop in spec.props:
        before = next((f for f in fr.findings if prop.after and f.check.endswith("." + prop.after)), None)
        if prop.after in skipped or (before is not None and not before.passed):
            fr.notes.append(
                f"not checked yet: {prop.claim.split(' (')[0]}, once {spec.name} passes the above"
            )
            skipped.add(prop.key)
            continue  # its failure would repeat the one above
        checker = _Checker(learner, spec, fname, prop)
        checker.run()
        finding, status = checker.finding()
        if sources is not None:
            finding.line = locate(sources, fname, checker.where)
        fr.findings.append(finding)
        fr.notes.extend(n for n in checker.notes if n not in fr.notes)
        if order.index(status) > order.index(fr.status):
            fr.status = status
        if status == "timed out":
            break  # every further call would wait for the limit again
    if spec.name in ("update_shallow", "backprop_shallow") and fr.status == "pass":
        note = _textbook_note(learner, fname, spec)
        if note:
            fr.notes.append(note)
    if spec.name in ("init_shallow", "backprop_minibatch_shallow") and fr.status == "pass":
        note = _seed_note(learner, fname, spec)
        if note:
            fr.notes.append(note)
    if fr.status == "crashed" and all(
        "NotImplementedError" in (f.problem or "") for f in fr.findings if not f.passed
    ):  # an exercise's stub: not written yet, which is not a mistake
        fr.status = "not found"
        fr.findings = []
        fr.notes.insert(0, f"not written yet: {fname} raises NotImplementedError; write it and check again")
    return fr


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
