r"""Run every chapter of the site as a student who downloads it would: as a Jupyter notebook.

Each MyST Markdown notebook of ``docs/`` (a page with a jupytext header) is converted to
``.ipynb`` by jupytext and executed top to bottom by nbclient, in an empty temporary folder
(nothing of the repository is reachable but the installed backproof), with the ``python3``
kernel of the Python running this script. The executed notebooks are written to ``--out``.
Exits non-zero when a notebook raises; prints each notebook's execution time.

    python docs/run_notebooks.py [--out DIR] [--timeout SECONDS] [page ...]

``tox -e notebooks`` runs it on a fresh install of the package (CI does).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
from pathlib import Path

DOCS = Path(__file__).resolve().parent
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # terminal colour codes in tracebacks


def chapters(names: list[str]) -> list[Path]:
    """The pages that are notebooks: Markdown files whose front matter has a jupytext header."""
    pages = [DOCS / f"{n.removesuffix('.md')}.md" for n in names] if names else sorted(DOCS.glob("*.md"))
    heads = {p: p.read_text(encoding="utf-8").split("\n---", 1)[0] for p in pages}
    return [p for p, head in heads.items() if head.startswith("---") and "jupytext" in head]


def main(argv=None) -> int:
    import jupytext
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    parser = argparse.ArgumentParser(description="Execute the site's chapters as notebooks.")
    parser.add_argument("pages", nargs="*", help="page names (default: every notebook page)")
    parser.add_argument("--out", type=Path, default=DOCS / "_build" / "notebooks")
    parser.add_argument("--timeout", type=int, default=900, help="seconds per cell")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    failures, total = [], 0.0
    for page in chapters(args.pages):
        nb = jupytext.read(page)
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
                failures.append(f"{page.name}: {COLOUR.sub('', last)}")
            seconds = time.perf_counter() - start
        total += seconds
        nbformat.write(nb, args.out / f"{page.stem}.ipynb")
        n_code = sum(c.cell_type == "code" for c in nb.cells)
        print(f"run_notebooks: {page.stem:14} {n_code:3} code cells {seconds:7.1f} s  {status}", flush=True)
    for failure in failures:
        print(f"run_notebooks: FAIL {failure}", file=sys.stderr)
    print(f"run_notebooks: {total:.1f} s in all; executed notebooks in {args.out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
