r"""Checking one live function from a notebook cell: ``backproof.check.function(softmaxp)``.

The command line runs the learner's file in a child process; here the function already lives in
the learner's own kernel, which runs the learner's own code anyway, so it is called in that
process (:class:`LiveLearner`), with its inputs copied, its prints silenced and, where the
platform allows, a time limit. Everything else (the inputs, the properties, the diagnosis, the
"depends on" re-check, the report) is the command line's code: :func:`._checker._check_function`
on a learner object with the same ``call`` interface.

Non-goals: a memory limit or isolation (a crash of the function is a crash of the kernel, as
when the learner runs it); checking a whole notebook from inside it (use the command line).
"""

from __future__ import annotations

import contextlib
import copy
import io
import signal
import tempfile
import threading
import traceback
import warnings
from pathlib import Path

import numpy as np

from ..errors import BackproofError
from ._report import FunctionResult, Report
from ._sandbox import LearnerError


class _Timeout(BaseException):  # not an Exception: the learner's `except Exception` cannot swallow it
    pass


@contextlib.contextmanager
def _time_limit(seconds: float | None):
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if seconds is None or not usable:
        yield
        return

    def alarm(signum, frame):
        raise _Timeout()

    before = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, before)


_PACKAGE = str(Path(__file__).resolve().parents[1])


def _where(exc: BaseException) -> str:
    r"""`` (line 3, in softmaxp)``: the last frame of the learner's code (not backproof's or a library's)."""
    own = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(_PACKAGE) and "site-packages" not in f.filename
    ]
    return f" (line {own[-1].lineno}, in {own[-1].name})" if own else ""


def _used(fn) -> list[str]:
    code = getattr(fn, "__code__", None)
    names: set[str] = set()
    stack = [code] if code is not None else []
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
    return sorted(names)


def _info(fn) -> tuple[list[str], int, list[str]]:
    import inspect

    try:
        params = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):
        return [], 0, _used(fn)
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return [p.name for p in positional], sum(p.default is p.empty for p in positional), _used(fn)


class LiveLearner:
    r"""Calls functions of a namespace in this process, with :class:`~._sandbox.Learner`'s interface."""

    def __init__(self, namespace: dict, checked: list[str], time_limit: float = 10.0):
        self.ns = namespace
        self.time_limit = time_limit
        self.functions = {name: _info(namespace[name]) for name in checked if callable(namespace.get(name))}
        self.calls = 0

    def call(self, name: str, args=(), kwargs=None, seed: int | None = 0, limit: float | None = None):
        limit = self.time_limit if limit is None else limit
        args, kwargs = copy.deepcopy(tuple(args)), copy.deepcopy(dict(kwargs or {}))
        self.calls += 1
        state = np.random.get_state()  # the learner's own global stream is left where it was
        try:
            if seed is not None:
                np.random.seed(seed)
            with (
                _time_limit(limit),
                contextlib.redirect_stdout(io.StringIO()),
                warnings.catch_warnings(),
                np.errstate(all="ignore"),
            ):
                warnings.simplefilter("ignore")  # NaN on purpose-made inputs: not the learner's concern here
                result = self.ns[name](*args, **kwargs)
        except _Timeout:
            raise LearnerError("timeout", f"did not return within {limit:g} s (an infinite loop?)") from None
        except SystemExit as exc:
            raise LearnerError("exit", f"called sys.exit({exc.code!r})") from None
        except RecursionError as exc:
            raise LearnerError("exception", "RecursionError: infinite recursion" + _where(exc)) from None
        except Exception as exc:
            raise LearnerError("exception", f"{type(exc).__name__}: {exc}"[:400] + _where(exc)) from None
        finally:
            np.random.set_state(state)
        return copy.deepcopy(result)

    def __enter__(self) -> LiveLearner:
        return self

    def __exit__(self, *exc) -> None:
        pass


class _LiveReplacer:
    r"""The learner's globals with some course functions replaced by the course's own, for the
    "depends on" re-check; restored on exit (the function reads its globals at call time)."""

    def __init__(self, globals_: dict, names: list[str], namespace: dict, time_limit: float):
        self.globals, self.names, self.namespace, self.time_limit = globals_, names, namespace, time_limit

    @contextlib.contextmanager
    def learner(self, replaced: dict[str, str]):
        from ._course import REFERENCE

        saved = {mine: self.globals[mine] for mine in replaced.values() if mine in self.globals}
        try:
            for course, mine in replaced.items():
                self.globals[mine] = REFERENCE[course]
            yield LiveLearner({**self.namespace, **self.globals}, self.names, self.time_limit)
        finally:
            self.globals.update(saved)


def course_name(obj, name: str | None) -> str:
    r"""The course function ``obj`` is meant to be: ``name``, or its ``__name__`` mapped
    (``softmax_prime`` -> ``softmaxp``, ``my_relu`` -> ``relu``)."""
    from ._notes import _canon, _similar
    from ._specs import COURSE_FUNCTIONS

    if name is not None:
        if name not in COURSE_FUNCTIONS:
            raise BackproofError(
                f"name={name!r} is not a course function; choose from {', '.join(COURSE_FUNCTIONS)}"
            )
        return name
    own = getattr(obj, "__name__", "")
    if own in COURSE_FUNCTIONS:
        return own
    bare = own.lower().removeprefix("my_").removeprefix("my")
    exact = [c for c in COURSE_FUNCTIONS if _canon(c) == _canon(bare)]
    close = exact or [c for c in COURSE_FUNCTIONS if _similar(c, bare) and len(bare) >= 4]
    if len(close) == 1:
        return close[0]
    raise BackproofError(
        f"which course function is {own or obj!r}? Say it: backproof.check.function({own or 'f'}, "
        f"name='softmaxp'); the course's are {', '.join(COURSE_FUNCTIONS)}"
    )


class FunctionReport:
    r"""The verdict on one function checked in a notebook: shows as text (``print``) and as Markdown
    (the cell's output in Jupyter). ``verdict`` is ``"pass"``, ``"differs from the course"``,
    ``"wrong"`` or ``"depends on X"``; ``result`` holds the findings, as in the command line's
    :class:`~backproof.check.Report`."""

    def __init__(self, result: FunctionResult, label: str, seconds: float):
        self.result = result
        self._report = Report(label, [result], [], seconds)

    @property
    def verdict(self) -> str:
        return self.result.verdict

    @property
    def ok(self) -> bool:
        r"""True unless the verdict is "wrong" or "depends on" a wrong function."""
        return self.result.status in ("pass", "differs")

    @property
    def counterexample(self) -> dict | None:
        r"""The smallest input found where it breaks (or where a course convention breaks), as numbers."""
        for f in self.result.findings:
            if not f.passed or f.differs:
                return f.counterexample_values
        return None

    def __str__(self) -> str:
        return self._report.format()

    def __repr__(self) -> str:
        return self._report.format()

    def _repr_markdown_(self) -> str:
        return self._report.to_markdown(f"{self.result.name}: {self.verdict}", level=0)

    def to_dict(self) -> dict:
        return self.result.to_dict()


def function(
    obj, name: str | None = None, *, layout: str | None = None, time_limit: float = 10.0
) -> FunctionReport:
    r"""Check one of your functions from a notebook cell, on the live object.

    The same inputs, properties, verdicts and counterexamples as ``backproof check`` on the file:
    the verdict logic is the command line's. The difference is where your code runs: the command
    line runs it in a separate process; here it runs in your notebook's own kernel (it is your
    code, which the kernel runs anyway), with its inputs copied, its prints silenced and, on
    Linux and macOS, ``time_limit`` seconds per call. There is no memory limit.

    Parameters
    ----------
    obj : callable
        Your function, e.g. ``softmaxp``.
    name : str, optional
        The course function it is meant to be; by default its name, mapped to the course's
        (``softmax_prime`` -> ``softmaxp``).
    layout : {"columns", "rows"} or path, optional
        ``"rows"`` if your function takes samples as rows; a path to an adapter file (see the
        page "Grading a class") if its arguments are packed differently.
    time_limit : float
        Seconds allowed to each call.

    Returns
    -------
    FunctionReport
        Its ``verdict`` ("pass", "differs from the course", "wrong", "depends on X"), the broken
        identity and the counterexample; displayed as Markdown in Jupyter.

    Examples
    --------
    >>> import numpy as np, backproof.check
    >>> def relup(a, e):
    ...     return e * (a >= 0)          # H(0) = 1 at the kink
    >>> backproof.check.function(relup).verdict                     # doctest: +SKIP
    'wrong'
    """
    import time

    from ._adapt import LAYOUTS, PREFIX, file_source, rows_source
    from ._checker import _check_function, _hypothesis_home
    from ._depends import collapse_dependencies
    from ._specs import COURSE_FUNCTIONS, specs_cache

    if not callable(obj):
        raise BackproofError(f"backproof.check.function: {obj!r} is not a function; pass the function itself")
    start = time.perf_counter()
    course = course_name(obj, name)
    spec = next(s for s in specs_cache() if s.name == course)
    mine = getattr(obj, "__name__", course)
    glob = getattr(obj, "__globals__", {})
    namespace = {**glob, mine: obj}
    checked = mine
    if layout is not None and layout != "columns":
        if layout in LAYOUTS:
            code = rows_source({course: mine}, [course])
        else:
            code, adapted = file_source(layout, COURSE_FUNCTIONS)
            if course not in adapted:
                raise BackproofError(f"layout {layout}: the adapter file does not adapt {course}")
        exec(compile(code, f"<adapter for {mine}>", "exec"), namespace)
        checked = PREFIX + course
    learner = LiveLearner(namespace, [checked], time_limit)
    sources = None
    with contextlib.suppress(OSError, TypeError):
        import inspect

        lines, first = inspect.getsourcelines(obj)
        sources = {checked: ("your cell", [(first + k, text.rstrip("\n")) for k, text in enumerate(lines)])}
    with tempfile.TemporaryDirectory(prefix="backproof-check-") as scratch, _hypothesis_home(scratch):
        result = _check_function(learner, spec, checked, sources)
        result.defined_as = mine
        if checked == mine and result.status in ("fail", "crashed", "timed out"):
            # the course functions it calls, from the notebook's globals: checked too, so that a
            # failure through a wrong one is "depends on" it, as on the command line
            results, functions = [], {mine: learner.functions[mine]}
            for other in specs_cache():
                f = glob.get(other.name)
                if other.name != course and callable(f) and other.name in _used(obj):
                    sub = LiveLearner(glob, [other.name], time_limit)
                    functions[other.name] = sub.functions[other.name]
                    results.append(_check_function(sub, other, other.name))
            if results:
                order = {n: k for k, n in enumerate(COURSE_FUNCTIONS)}
                everything = sorted([*results, result], key=lambda r: order[r.name])
                collapse_dependencies(
                    everything,
                    functions,
                    {course: mine},
                    _LiveReplacer(glob, list(functions), namespace, time_limit),
                    None,
                    _check_function,
                )
    label = f"{mine} (in this notebook{', rows layout' if layout == 'rows' else ''})"
    return FunctionReport(result, label, time.perf_counter() - start)


__all__ = ["FunctionReport", "LiveLearner", "function"]
