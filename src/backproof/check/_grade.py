r"""Grading a class: ``backproof check submissions/`` checks every learner's work in a folder.

A learner is a notebook or script directly in the folder, or a sub-folder (its notebook or
script defining the most course functions is checked; its other files are its modules). The
submissions are checked in parallel processes, each exactly as ``backproof check FILE`` would,
and the results go to an output folder:

* ``gradebook.csv``: one row per learner, one column per course function (its verdict) and per
  derivation, and the score;
* ``feedback/<learner>.md``: each learner's report, as Markdown readable without backproof;
* ``summary.md`` and ``summary.png``: how many learners made each mistake, with the identity it
  breaks, as a table and a bar chart;
* ``.cache/``: one JSON per submission, keyed by the digest of its files, the options and the
  version of backproof, so that a second run checks only what changed.

Non-goals: collecting submissions (from an LMS, nbgrader's exchange); grading policies beyond
the checker's score; anything but the course's functions and the learners' derivations.
"""

from __future__ import annotations

import csv
import hashlib
import json
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BackproofError

SUFFIXES = (".ipynb", ".py")


class GradingError(BackproofError):
    r"""The class folder or the output folder cannot be used."""


@dataclass
class Submission:
    learner: str
    path: Path  # the notebook or script checked
    files: list[Path]  # every file whose content counts for the cache
    root: Path  # the folder the files' names are taken relative to
    shown: str = ""  # the name of the file checked, as the learner knows it: anna.ipynb, mo/assignment.ipynb


@dataclass
class Gradebook:
    r"""What :func:`grade_folder` wrote, and the entries it wrote it from."""

    out: Path
    entries: list[dict]
    checked: int = 0  # submissions checked in this run (the others came from the cache)
    seconds: float = 0.0
    files: dict[str, Path] = field(default_factory=dict)


def _course_defs(path: Path) -> int:
    from ._specs import COURSE_FUNCTIONS

    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return 0
    return sum(f"def {name}(" in text for name in COURSE_FUNCTIONS)


def _visible(p: Path) -> bool:
    return not any(part.startswith(".") or part == "__pycache__" for part in p.parts)


def discover(folder: Path, exclude: Path | None = None) -> list[Submission]:
    r"""The learners' submissions in ``folder`` (see the module docstring), by name."""
    subs: list[Submission] = []
    names: Counter = Counter()
    for entry in sorted(folder.iterdir()):
        if not _visible(entry.relative_to(folder)) or (exclude is not None and entry.resolve() == exclude):
            continue
        if entry.is_file() and entry.suffix in SUFFIXES:
            subs.append(Submission(entry.stem, entry, [entry], folder, entry.name))
        elif entry.is_dir():
            files = sorted(
                p
                for p in entry.rglob("*")
                if p.is_file() and _visible(p.relative_to(entry)) and p.suffix in SUFFIXES
            )
            if files:
                main = max(files, key=lambda p: (_course_defs(p), p.suffix == ".ipynb", -len(p.parts)))
                subs.append(Submission(entry.name, main, files, entry, str(main.relative_to(folder))))
    for s in subs:
        names[s.learner] += 1
    for s in subs:  # anna.py and anna.ipynb: two learners' rows, told apart
        if names[s.learner] > 1:
            s.learner = f"{s.learner}{s.path.suffix}"
    return subs


def _digest(sub: Submission, options: dict) -> str:
    from .. import __version__

    h = hashlib.sha256()
    h.update(json.dumps({"backproof": __version__, **options}, sort_keys=True, default=str).encode())
    for p in sub.files:
        h.update(str(p.relative_to(sub.root)).encode())
        h.update(b"\0")
        h.update(p.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def _derivations(report) -> dict[str, str]:
    r"""Derivation name -> its verdict, when the report carries derivations (``Report.derivations``)."""
    out: dict[str, str] = {}
    for k, d in enumerate(getattr(report, "derivations", None) or [], 1):
        data = d.to_dict() if hasattr(d, "to_dict") else {}
        name = str(data.get("name") or data.get("title") or f"derivation {k}")
        verdict = data.get("verdict") or data.get("status")
        if verdict is None and "ok" in data:
            verdict = "follows" if data["ok"] else "does not follow"
        out[f"derivation: {name}"] = str(verdict)
    return out


def _unnamed(f) -> str:
    if f.differs:
        return "convention"
    if (f.diagnosis or "").startswith("Python 2 leftover"):
        return "python2"
    return "undiagnosed"


def check_one(path: str, learner: str, options: dict, shown: str | None = None) -> dict:
    r"""Check one submission as ``backproof check`` does; a plain-data entry for the gradebook."""
    from ._run import check_file

    start = time.perf_counter()
    try:
        report = check_file(path, **options)
        if shown:
            report.path = shown  # the feedback names the learner's file, not the grader's folders
    except BackproofError as exc:  # unreadable: a row that says so, not a crash of the whole class
        return {
            "learner": learner,
            "path": path,
            "error": str(exc),
            "score": 0.0,
            "verdicts": {},
            "derivations": {},
            "mistakes": [],
            "markdown": f"# Feedback for {learner}\n\nYour submission could not be checked: {exc}\n",
            "seconds": time.perf_counter() - start,
        }
    mistakes = []
    for fr in report.functions:
        for f in fr.findings:
            if f.differs or not f.passed:
                mistakes.append(
                    {
                        "function": fr.name,
                        "verdict": "differs from the course" if f.differs else "wrong",
                        "mistake": f.mistake or _unnamed(f),
                        "says": f.differs or f.diagnosis or f.problem or f.claim,
                        "identity": f.identity or f"property: {f.claim}",
                    }
                )
                break  # one mistake per function: its first
    return {
        "learner": learner,
        "path": path,
        "error": None,
        "score": round(report.score, 3),
        "verdicts": {fr.name: fr.verdict for fr in report.functions},
        "derivations": _derivations(report),
        "mistakes": mistakes,
        "markdown": report.to_markdown(f"Feedback for {learner}"),
        "seconds": time.perf_counter() - start,
    }


def _progress(total: int, enabled: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc="grading", unit="learner", disable=not enabled, file=sys.stderr)


def grade_folder(
    folder: str | Path,
    out: str | Path | None = None,
    *,
    jobs: int = 2,
    progress: bool = True,
    **options,
) -> Gradebook:
    r"""Check every submission in ``folder`` and write the gradebook, feedback and class summary.

    Parameters
    ----------
    folder : str or pathlib.Path
        The class: one notebook or script per learner, or one sub-folder per learner.
    out : str or pathlib.Path, optional
        Where to write; by default ``<folder>-grades`` next to ``folder``. Never inside a
        learner's sub-folder, never ``folder`` itself.
    jobs : int
        Submissions checked at once, each in its own process (each of which runs the learner's
        code in a further child process, as ``backproof check`` does).
    progress : bool
        Show a progress bar on stderr.
    **options
        Passed to :func:`backproof.check.check_file` for every learner (``mapping``, ``layout``,
        ``adapter``, ``time_limit``, ``memory_mb``, ``only``).

    Returns
    -------
    Gradebook
        The output folder, one entry per learner, and how many were checked (not cached).
    """
    start = time.perf_counter()
    folder = Path(folder)
    if not folder.is_dir():
        raise GradingError(f"{folder}: not a folder of submissions")
    out = Path(out) if out is not None else folder.resolve().parent / f"{folder.resolve().name}-grades"
    if out.resolve() == folder.resolve():
        raise GradingError(f"--out {out}: that is the submissions folder itself; choose another folder")
    subs = discover(folder, exclude=out.resolve())
    if not subs:
        raise GradingError(
            f"{folder}: no notebook (.ipynb) or script (.py) found, directly or in sub-folders"
        )
    for sub_dir in ("feedback", ".cache"):
        (out / sub_dir).mkdir(parents=True, exist_ok=True)
    options = {"time_limit": 3.0, "memory_mb": 2048, **{k: v for k, v in options.items() if v is not None}}
    options = {k: (str(v) if isinstance(v, Path) else v) for k, v in options.items()}  # the defaults spelled
    # out, so that the command line and Python share a cache
    keyed = dict(options)
    if "adapter" in options:  # its content counts, not only its name
        keyed["adapter"] = hashlib.sha256(Path(options["adapter"]).read_bytes()).hexdigest()
    entries: dict[str, dict] = {}
    todo = []
    for s in subs:
        key = _digest(s, keyed)
        cached = out / ".cache" / f"{key}.json"
        if cached.is_file():
            entry = json.loads(cached.read_text(encoding="utf-8"))
            entry["learner"] = s.learner
            entries[s.learner] = entry
        else:
            todo.append((s, cached))
    bar = _progress(len(subs), progress)
    bar.update(len(subs) - len(todo))
    for s, cached, entry in _run_pool([(s, c) for s, c in todo], options, jobs):
        cached.write_text(json.dumps(entry, ensure_ascii=False), encoding="utf-8")
        entries[s.learner] = entry
        bar.update(1)
    bar.close()
    ordered = [entries.get(s.learner) or _failed(str(s.path), s.learner, "not graded") for s in subs]
    book = Gradebook(out, ordered, checked=len(todo))
    book.files = write_outputs(out, ordered)
    book.seconds = time.perf_counter() - start
    return book


_SERVE = "from backproof.check._grade import serve; serve()"


def serve() -> None:
    r"""A grading worker: one JSON job per line on stdin, one JSON entry per line on stdout."""
    import os

    out = os.fdopen(os.dup(1), "w", encoding="utf-8")
    sys.stdout = sys.stderr  # nothing else may write on the reply channel
    for line in sys.stdin:
        job = json.loads(line)
        try:
            entry = check_one(job["path"], job["learner"], job["options"], job.get("shown"))
        except Exception as exc:  # a bug of ours on one submission: that row says so, the class goes on
            entry = _failed(job["path"], job["learner"], f"the checker failed: {type(exc).__name__}: {exc}")
        out.write(json.dumps(entry, ensure_ascii=False) + "\n")
        out.flush()


def _failed(path: str, learner: str, why: str) -> dict:
    return {
        "learner": learner,
        "path": path,
        "error": why,
        "score": 0.0,
        "verdicts": {},
        "derivations": {},
        "mistakes": [],
        "markdown": f"# Feedback for {learner}\n\nYour submission could not be checked: {why}\n",
        "seconds": 0.0,
    }


def _run_pool(todo: list, options: dict, jobs: int):
    r"""Yield ``(submission, cache file, entry)`` as ``jobs`` worker processes finish them.

    The workers are plain ``python`` processes fed JSON lines (no pickles, no re-import of the
    caller's main module, so this works from a script, a notebook or the command line).
    """
    import os
    import queue
    import subprocess
    import threading

    env = dict(os.environ)
    src = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
    env["OPENBLAS_NUM_THREADS"] = env["OMP_NUM_THREADS"] = "1"
    pending: queue.Queue = queue.Queue()
    for item in todo:
        pending.put(item)
    done: queue.Queue = queue.Queue()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _SERVE],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
            encoding="utf-8",
        )
        for _ in range(max(1, min(jobs, len(todo))))
    ]

    def feed(proc) -> None:
        while True:
            try:
                s, cached = pending.get_nowait()
            except queue.Empty:
                break
            try:
                job = {"path": str(s.path), "learner": s.learner, "options": options, "shown": s.shown}
                proc.stdin.write(json.dumps(job) + "\n")
                proc.stdin.flush()
                line = proc.stdout.readline()
                entry = (
                    json.loads(line) if line else _failed(str(s.path), s.learner, "the grading process died")
                )
            except (OSError, ValueError) as exc:
                entry = _failed(str(s.path), s.learner, f"the grading process failed: {exc}")
            done.put((s, cached, entry))
            if not line:
                break
        done.put(None)

    threads = [threading.Thread(target=feed, args=(p,), daemon=True) for p in procs]
    for th in threads:
        th.start()
    try:
        running = len(threads)
        while running:
            item = done.get()
            if item is None:
                running -= 1
            else:
                yield item
    finally:
        for proc in procs:  # the processes started here, by their id
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "learner"


def write_outputs(out: Path, entries: list[dict]) -> dict[str, Path]:
    r"""Write the gradebook, the feedback files and the summary (table and chart) for ``entries``."""
    from ._specs import COURSE_FUNCTIONS

    derivations = sorted({k for e in entries for k in e.get("derivations", {})})
    gradebook = out / "gradebook.csv"
    with gradebook.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["learner", *COURSE_FUNCTIONS, *derivations, "score", "note"])
        for e in entries:
            verdicts = e["verdicts"]
            writer.writerow(
                [
                    e["learner"],
                    *(
                        verdicts.get(f, "unreadable" if e["error"] else "not checked")
                        for f in COURSE_FUNCTIONS
                    ),
                    *(e.get("derivations", {}).get(d, "") for d in derivations),
                    f"{e['score']:.3f}",
                    e["error"] or "",
                ]
            )
    for e in entries:
        (out / "feedback" / f"{_safe(e['learner'])}.md").write_text(e["markdown"], encoding="utf-8")
    summary, chart = out / "summary.md", out / "summary.png"
    rows = class_summary(entries)
    summary.write_text(summary_markdown(entries, rows), encoding="utf-8")
    bar_chart(rows, chart, len(entries))
    return {"gradebook": gradebook, "feedback": out / "feedback", "summary": summary, "chart": chart}


def class_summary(entries: list[dict]) -> list[dict]:
    r"""One row per (function, mistake): how many learners made it, what it means, the identity it
    breaks, its verdict; most frequent first."""
    counts: Counter = Counter()
    about: dict[tuple, dict] = {}
    for e in entries:
        for m in e["mistakes"]:
            key = (m["function"], m["mistake"], m["verdict"])
            counts[key] += 1
            about.setdefault(key, m)
    return [
        {**about[key], "learners": n}
        for key, n in sorted(counts.items(), key=lambda kv: (kv[0][2] != "wrong", -kv[1], kv[0]))
    ]


def summary_markdown(entries: list[dict], rows: list[dict]) -> str:
    n = len(entries)
    scores = sorted(e["score"] for e in entries)
    median = scores[n // 2] if n % 2 else (scores[n // 2 - 1] + scores[n // 2]) / 2
    lines = [
        "# Class summary",
        "",
        f"{n} learners; median score {median:.2f}; "
        f"{sum(not e['mistakes'] for e in entries)} with nothing wrong or different; "
        f"{sum(bool(e['error']) for e in entries)} unreadable.",
        "",
        "| learners | function | verdict | mistake | identity or property it breaks | what it means |",
        "| ---: | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        says = " ".join(r["says"].split()).replace("|", "\\|")
        lines.append(
            f"| {r['learners']} | `{r['function']}` | {r['verdict']} | `{r['mistake']}` | "
            f"{r['identity'].replace('|', '/')} | {says} |"
        )
    if not rows:
        lines.append("| 0 | | | | | no learner made a mistake the checker found |")
    lines += ["", "![how many learners made each mistake](summary.png)", ""]
    return "\n".join(lines)


def bar_chart(rows: list[dict], path: Path, n_learners: int) -> None:
    r"""A horizontal bar per mistake: how many learners made it (wrong in one colour, a course
    convention in another)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    shown = rows[:20]
    fig, ax = plt.subplots(figsize=(9, 0.4 * max(len(shown), 2) + 1.4))
    labels = [f"{r['function']}: {r['mistake']}" for r in shown]
    colours = ["#c0392b" if r["verdict"] == "wrong" else "#7f8c8d" for r in shown]
    ax.barh(range(len(shown)), [r["learners"] for r in shown], color=colours)
    ax.set_yticks(range(len(shown)), labels)
    ax.invert_yaxis()
    ax.set_xlim(0, max([r["learners"] for r in shown] + [1]) * 1.1)
    ax.set_xlabel(f"learners who made it (of {n_learners})")
    ax.set_title("Mistakes in the class", pad=26)
    ax.legend(
        handles=[
            Patch(color="#c0392b", label="wrong"),
            Patch(color="#7f8c8d", label="differs from the course"),
        ],
        loc="lower left",
        bbox_to_anchor=(0.0, 1.0),
        ncol=2,
        frameon=False,
    )
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_folder(args) -> int:
    r"""``backproof check FOLDER``: grade the class and say where the results are."""
    if getattr(args, "json", None) is not None:
        raise GradingError(
            f"--json is for one file; a folder's results go to --out (gradebook.csv, feedback/, summary.md): "
            f"drop --json {args.json}"
        )
    only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None
    book = grade_folder(
        args.file,
        args.out,
        jobs=args.jobs,
        progress=sys.stderr.isatty(),
        mapping=dict(args.map) or None,
        only=only,
        run_all=args.run_all or None,
        time_limit=args.time_limit,
        memory_mb=args.memory,
        layout=args.layout,
        adapter=args.adapter,
    )
    n = len(book.entries)
    print(
        f"graded {n} learners in {book.seconds:.1f} s ({book.checked} checked, {n - book.checked} unchanged "
        f"since the last run)"
    )
    for what, p in book.files.items():
        print(f"  {what + ':':<10} {p}")
    return 0
