r"""Run every chapter as a learner who downloads it would: the site's ``.ipynb`` in plain Jupyter.

The notebooks are the downloads of the built site (``docs/_build/html/_sources/*.ipynb``,
written by ``tox -e docs``): plain Jupyter notebooks, without MyST (``_ext/notebook_export.py``).
Each one is checked for MyST left in it, cleared of its outputs, and executed top to bottom
by nbclient in an empty temporary folder (nothing of the repository is reachable but the
installed backproof), with the ``python3`` kernel of the Python running this script. No cell
time limit by default; on a busy machine one BLAS thread per notebook, as in the site's
build. Cells tagged ``skip-execution`` (the exercises' checks, which wait for
the learner's code) are skipped, as nbclient does with that tag. The deeper chapter's training
runs are read from the build's run cache (``docs/_build/.runs``, ``backproof.experiments``) when
they are there, so that CI does not train them twice; ``--no-run-cache`` trains every run again.
The executed notebooks are written to ``--out``. Exits non-zero when a notebook raises or
still holds MyST; prints each notebook's execution time.

    python docs/run_notebooks.py [--site docs/_build/html] [--out DIR] [--timeout SECONDS] [page ...]

``tox -e notebooks`` runs it on a fresh install of the package, without myst-nb (CI does, after
``tox -e docs``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS / "_ext"))
from backproof_site import one_blas_thread_if_busy  # noqa: E402 - a sibling folder of this script
from notebook_export import MYST_LEFTOVERS  # noqa: E402 - a sibling folder of this script

COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # terminal colour codes in tracebacks


def notebooks(site: Path, names: list[str]) -> list[Path]:
    """The site's downloadable notebooks (all, or the pages named)."""
    folder = site / "_sources"
    found = sorted(folder.glob("*.ipynb"))
    if names:
        found = [folder / f"{n.removesuffix('.md').removesuffix('.ipynb')}.ipynb" for n in names]
        missing = [p.name for p in found if not p.is_file()]
        if missing:
            raise SystemExit(f"run_notebooks: not among the site's downloads: {', '.join(missing)}")
    if not found:
        raise SystemExit(f"run_notebooks: no notebooks in {folder}; build the site first (tox -e docs)")
    return found


def main(argv=None) -> int:
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    parser = argparse.ArgumentParser(description="Execute the site's downloadable notebooks.")
    parser.add_argument("pages", nargs="*", help="page names (default: every downloadable notebook)")
    parser.add_argument("--site", type=Path, default=DOCS / "_build" / "html", help="the built site")
    parser.add_argument("--out", type=Path, default=DOCS / "_build" / "notebooks")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell (default: no limit)")
    parser.add_argument("--no-run-cache", action="store_true", help="train the deeper chapter's runs again")
    args = parser.parse_args(argv)
    if args.no_run_cache:
        os.environ.pop("BACKPROOF_RUN_CACHE", None)
    else:  # the kernel inherits it
        os.environ.setdefault("BACKPROOF_RUN_CACHE", str(DOCS / "_build" / ".runs"))
    if busy := one_blas_thread_if_busy():
        print(f"run_notebooks: {busy}")
    args.out.mkdir(parents=True, exist_ok=True)
    failures, total = [], 0.0
    for path in notebooks(args.site, args.pages):
        nb = nbformat.read(path, as_version=4)
        nbformat.validate(nb)
        myst = sorted({m.group(0).strip() for c in nb.cells for m in MYST_LEFTOVERS.finditer(c.source)})
        if myst:
            failures.append(f"{path.name}: MyST left in the notebook: {myst[:5]}")
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        with tempfile.TemporaryDirectory() as cwd:
            client = NotebookClient(
                nb, timeout=args.timeout, kernel_name="python3", resources={"metadata": {"path": cwd}}
            )
            start = time.perf_counter()
            try:
                client.execute()
                status = "ok"
            except CellExecutionError as exc:
                status = "FAILED"
                last = str(exc).strip().splitlines()[-1] if str(exc).strip() else repr(exc)
                failures.append(f"{path.name}: {COLOUR.sub('', last)}")
            seconds = time.perf_counter() - start
        total += seconds
        nbformat.write(nb, args.out / path.name)
        n_code = sum(c.cell_type == "code" for c in nb.cells)
        print(f"run_notebooks: {path.stem:14} {n_code:3} code cells {seconds:7.1f} s  {status}", flush=True)
    for failure in failures:
        print(f"run_notebooks: FAIL {failure}", file=sys.stderr)
    print(f"run_notebooks: {total:.1f} s in all; executed notebooks in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
