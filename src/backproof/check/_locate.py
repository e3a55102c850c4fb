r"""Where a diagnosed mistake shows in the learner's code: ``In [7], line 3: return g * e``.

Each known mistake may carry a regular expression for the line that makes it (``max(`` for
a one-hot matrix sized by the largest label, ``/ 255`` for a wrong normalisation, ...). The
line is looked for in the learner's last definition of the function only; when no line of it
matches, nothing is said (a guessed line would be a false diagnosis).

Non-goals: data-flow analysis; locating a mistake spread over several functions.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path


def function_lines(path: Path) -> dict[str, tuple[str, list[tuple[int, str]]]]:
    r"""Top-level function name -> (cell label, its ``(line number, text)`` lines), last definition."""
    from ._load import _strip_magics, cell_labels, cells_of

    out: dict[str, tuple[str, list[tuple[int, str]]]] = {}
    try:
        cells, labels = cells_of(path), cell_labels(path)
    except Exception:  # unreadable: the loader reports it
        return out
    for raw, label in zip(cells, labels):
        code = _strip_magics(raw)
        try:
            tree = ast.parse(code)
        except (SyntaxError, RecursionError, MemoryError, ValueError):  # the loader says why
            continue
        lines = code.splitlines()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                end = node.end_lineno or node.lineno
                body = [(k, lines[k - 1]) for k in range(node.lineno, end + 1)]
                out[node.name] = (label, body)
    return out


def locate(sources: dict, name: str, pattern: str | None) -> str | None:
    r"""``"In [7], line 3: return g * e"`` for the first line of ``name`` matching ``pattern``."""
    if not pattern or name not in sources:
        return None
    label, body = sources[name]
    regex = re.compile(pattern)
    for number, text in body[1:]:  # not the def line itself
        code = text.split("#")[0]
        if regex.search(code):
            where = "line" if label == "the file" else f"{label}, line"
            return f"{where} {number}: {text.strip()}"
    return None
