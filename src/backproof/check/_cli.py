r"""The ``backproof check`` subcommand: its arguments and what it runs.

:mod:`backproof.cli` only registers it (:func:`add_parser`); everything else lives here.
Exit status: 0 when every checked function passes, 1 when any fails (or none is found), 2
when the file cannot be read or an option is wrong.

A folder instead of a file grades a class (:mod:`backproof.check._grade`): one learner per
notebook or script, or per sub-folder; exit status 0 when it was graded.

Non-goals: checking several loose files in one run other than as a class folder.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def _mapping(text: str) -> tuple[str, str]:
    course, sep, mine = text.partition("=")
    if not sep or not course.strip() or not mine.strip():
        raise argparse.ArgumentTypeError(
            f"expected COURSE_NAME=YOUR_NAME, e.g. softmaxp=my_softmax_grad; got {text!r}"
        )
    return course.strip(), mine.strip()


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text}")
    if value == float("inf"):
        raise argparse.ArgumentTypeError("must be a finite number of seconds, e.g. 60")
    return value


def _megabytes(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of MB") from None
    if value < 256:
        raise argparse.ArgumentTypeError(f"must be at least 256 (MB), got {value}")
    if value > MEMORY_MAX_MB:
        raise argparse.ArgumentTypeError(
            f"{value} MB is more than the {MEMORY_MAX_MB} MB (1 TiB) a limit can be; give e.g. --memory 4096"
        )
    return value


MEMORY_MAX_MB = 2**20


def _can_show(text: str, stream) -> bool:
    r"""Whether ``stream`` can encode ``text`` (False on an ASCII terminal, LC_ALL=C, ...)."""
    try:
        text.encode(getattr(stream, "encoding", None) or "ascii")
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def add_parser(sub) -> argparse.ArgumentParser:
    r"""Add ``check`` to the subcommands ``sub`` of the ``backproof`` parser."""
    c = sub.add_parser(
        "check",
        help="check your own backprop code (a .py or .ipynb) against the proofs",
        description="Check the course's functions in a .py file or a Jupyter notebook: each against a proved "
        "identity or a stated property, on generated inputs; failures come with the smallest input found "
        "and, where the output matches a known mistake, a diagnosis.",
    )
    c.add_argument(
        "file",
        type=Path,
        help="your notebook (.ipynb) or module (.py), or derivations alone (.md, .tex); "
        "or a folder of a class's submissions to grade",
    )
    c.add_argument(
        "--map",
        type=_mapping,
        action="append",
        default=[],
        metavar="COURSE=YOURS",
        help="your name for a course function, e.g. --map softmaxp=my_softmax_grad (repeatable)",
    )
    c.add_argument(
        "--only",
        default=None,
        metavar="NAMES",
        help="comma-separated course functions (or derivation results, e.g. softmax-diagonal; "
        "'derivations' for all of them) to check",
    )
    c.add_argument(
        "--run-all",
        action="store_true",
        help="run every cell in order, as you ran it, in a copy of your folder (not only the definitions)",
    )
    c.add_argument(
        "--cell-limit",
        type=_positive,
        default=600.0,
        metavar="SECONDS",
        help="with --run-all: time allowed to each cell (default %(default)g)",
    )
    c.add_argument(
        "--layout",
        choices=("columns", "rows"),
        default=None,
        help="rows: your functions take samples as rows, x of shape (N, 784) (default: columns)",
    )
    c.add_argument(
        "--adapter",
        type=Path,
        default=None,
        metavar="FILE",
        help="a .py of adapters for functions whose arguments are packed differently (see the docs, "
        "'Grading a class')",
    )
    c.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help="with a folder: where the gradebook, feedback and summary go (default: FOLDER-grades)",
    )
    c.add_argument(
        "--jobs",
        type=int,
        default=2,
        metavar="N",
        help="with a folder: submissions checked at once (default 2)",
    )
    c.add_argument(
        "--json", type=Path, default=None, metavar="OUT", help="write the report as JSON for grading"
    )
    c.add_argument(
        "--time-limit", type=_positive, default=3.0, metavar="SECONDS", help="per call (default %(default)g)"
    )
    c.add_argument(
        "--memory",
        type=_megabytes,
        default=2048,
        metavar="MB",
        help="memory limit of your code (default %(default)s)",
    )
    c.add_argument(
        "--site",
        default="",
        metavar="URL",
        help="prefix for the links to the proofs, e.g. the site's address",
    )
    c.set_defaults(run=run)
    return c


def _json_output(args):
    r"""``--json`` checked before any of the learner's code runs, and never the learner's own file."""
    from .._output import check_not_input, check_output

    out = check_output(args.json, "--json")
    check_not_input([out], [args.file], "the file checked,")  # the same path, a hard link, /dev/fd/N
    return out


def run(args) -> int:
    r"""Run the check described by the parsed ``args``; returns the exit status."""
    from .._output import write_output
    from ._run import check_file

    if args.file.is_dir():
        from ._grade import run_folder

        return run_folder(args)
    out = _json_output(args) if args.json is not None else None
    only = [n.strip() for n in args.only.split(",") if n.strip()] if args.only else None

    def progress(line: str) -> None:
        print(line, file=sys.stderr, flush=True)

    report = check_file(
        args.file,
        mapping=dict(args.map),
        only=only,
        run_all=args.run_all,
        time_limit=args.time_limit,
        memory_mb=args.memory,
        cell_limit=args.cell_limit,
        progress=progress if args.run_all else None,
        layout=args.layout,
        adapter=args.adapter,
    )
    text = report.format(site=args.site)
    if not _can_show(text, sys.stdout):
        text = report.format(site=args.site, ascii=True)  # γ -> gamma etc., not "?"
    print(text)
    if out is not None:
        data = (json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n").encode("utf-8")

        def write(fh) -> None:
            fh.write(data)

        written = write_output(out, write)
        if not out.direct:
            print(f"report written to {written}")
    sys.stdout.flush()
    return report.exit_code
