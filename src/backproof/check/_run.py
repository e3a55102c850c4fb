r"""Checking a learner's file: finding each course function in it and checking it.

:func:`check_file` loads the file (a ``.py`` or a notebook; a ``.md`` or ``.tex`` holds
derivations only), starts the confined child process that runs the learner's code, and checks
each course function it finds with :mod:`._checker`, then re-checks the functions that depend on
a wrong one with the course's own in its place (:mod:`._depends`). A function that is not found
gets a note saying so, or naming the function that looks like it under another name, with how
that one fares under the course name (``_not_found``). The derivations of a notebook's Markdown
cells are checked beside (:mod:`.derivations`).

Non-goals: partial credit beyond the share of properties that hold; the checks themselves
(:mod:`._checker`).
"""

from __future__ import annotations

import time
from pathlib import Path

from . import _specs as S
from ._adapt import statements as adapt_statements
from ._checker import _check_function, _hypothesis_home
from ._depends import Replacer, collapse_dependencies
from ._load import load_source
from ._locate import function_lines
from ._notes import _skipped_global_note, _slip_candidate
from ._report import FunctionResult, Report
from ._sandbox import Learner, LearnerError

# ---------------------------------------------------------------- not found


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
