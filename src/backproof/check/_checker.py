r"""Checking one of a learner's functions against its spec: every property, on Hypothesis's inputs.

For each property, Hypothesis generates inputs (seeded: ``derandomize=True``, no example
database, so the same file always gives the same report), calls the learner's function (in the
child process for a file, in the kernel for a live function), and compares with backproof's own
result. A failure is shrunk by Hypothesis to a small counterexample; then every known mistake of
that function is run on the counterexample and on fixed probe inputs, and a mistake whose outputs
all equal the learner's becomes the diagnosis. ``_check_function`` is the one verdict logic, for
the command line (:mod:`._run`) and in a notebook (:mod:`._inline`); ``_hypothesis_home`` keeps
the inputs Hypothesis draws the same wherever it runs.

Non-goals: partial credit beyond the share of properties that hold; finding the functions of a
file and what the report says of a missing one (:mod:`._run`); the notes beside a verdict
(:mod:`._notes`).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

import numpy as np

from . import _specs as S
from ._hints import python2_hint
from ._locate import locate
from ._notes import _seed_note, _textbook_note
from ._report import Finding, FunctionResult, show_array
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


# ---------------------------------------------------------------- one function


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
