"""Write a generated class of N submissions from the learners' solutions, to time class grading.

    python tests/check_cases/make_class.py OUT_FOLDER [N]     # N = 200 by default
    time backproof check OUT_FOLDER --out OUT_FOLDER-grades

Each submission is one of the solutions in learners/class (a .py, a notebook, or Mo's folder),
turned into a notebook every other time (one function per cell, as learners split them) and
given its own header comment, so that every submission has its own content digest.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import nbformat

CLASS = Path(__file__).resolve().parent / "learners" / "class"


def as_notebook(text: str, header: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells.append(nbformat.v4.new_markdown_cell(header))
    for k, cell in enumerate(re.split(r"\n(?=def |class )", text), 1):
        if cell.strip():
            code = nbformat.v4.new_code_cell(cell.strip())
            code.execution_count = k
            nb.cells.append(code)
    return nb


def main(out: Path, n: int = 200) -> None:
    sources = sorted(p for p in CLASS.iterdir() if p.suffix in (".py", ".ipynb") or p.is_dir())
    out.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        src = sources[k % len(sources)]
        name = f"learner{k:03d}"
        header = f"# {name}: generated from {src.name}"
        if src.is_dir():
            shutil.copytree(src, out / name)
            nb = out / name / "assignment.ipynb"
            book = nbformat.read(str(nb), as_version=4)
            book.cells.insert(0, nbformat.v4.new_markdown_cell(header))
            nbformat.write(book, str(nb))
        elif src.suffix == ".py" and k % 2:
            nbformat.write(as_notebook(src.read_text(), header), str(out / f"{name}.ipynb"))
        elif src.suffix == ".py":
            (out / f"{name}.py").write_text(f"{header}\n{src.read_text()}")
        else:
            book = nbformat.read(str(src), as_version=4)
            book.cells.insert(0, nbformat.v4.new_markdown_cell(header))
            nbformat.write(book, str(out / f"{name}.ipynb"))


if __name__ == "__main__":
    main(Path(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 200)
