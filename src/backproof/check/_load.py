r"""Reading a learner's ``.py`` or ``.ipynb`` and choosing which statements to run.

By default only what defines things is kept: imports, function and class definitions, and
assignments of constants (literals, arithmetic on them, NumPy dtypes and seeded generators),
so a notebook that loads MNIST and trains for minutes is still checked in seconds. With
``run_all`` every code cell runs, in order, each on its own (a ``.py`` file is cut at its
``# %%`` marks, else into its top-level statements), so a failing cell does not hide the
definitions after it. IPython magics and shell lines (``%matplotlib``, ``!pip``) are dropped
in both cases. Cells are named as Jupyter shows them (see :func:`code_cells`).

Non-goals: executing notebooks with a Jupyter kernel, other notebook formats.
"""

from __future__ import annotations

import ast
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import BackproofError
from ._worker import LEARNER_FILE


class UnreadableFileError(BackproofError):
    r"""The file to check cannot be read (missing, not a notebook, not Python)."""


@dataclass
class Source:
    r"""The learner's code: the statements to run and what was learned while choosing them."""

    path: Path
    statements: list[tuple[str, str, str]]  # (filename for tracebacks, source, description)
    definitions: dict[str, list[str]] = field(default_factory=dict)  # name -> where, each time defined
    notes: list[str] = field(default_factory=list)


_MAGIC = re.compile(r"^\s*([%!?]|get_ipython\(\))")
_NO_CALL = re.compile(r"load|read|open|fetch|download|save|fromfile|show|plot|input|train|fit", re.I)


@dataclass
class Cell:
    r"""A code cell: ``label`` as Jupyter shows it (``In [30]``, or ``cell 5`` counting every cell)."""

    label: str
    source: str


def _read_text(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")  # a byte-order mark (Notepad) is not code
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc}") from None


def code_cells(path: Path, notes: list[str] | None = None) -> list[Cell]:
    r"""The code cells of a notebook, or the whole text of a ``.py`` file as one cell.

    A cell is labelled with its execution count when it has one (``In [30]``, what Jupyter
    shows), else with its position among all cells, Markdown included (``cell 5``); a count
    seen before gets its position too (``In [1] (cell 7)``). A cell
    whose source is not text (a hand-edited file) is skipped with a note in ``notes``.
    """
    text = _read_text(path)
    if path.suffix == ".ipynb":
        import warnings

        import nbformat

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # missing cell ids and the like: nbformat's own business
                nb = nbformat.reads(text, as_version=4)
            raw_cells = list(nb.cells)
        except Exception as exc:  # nbformat raises several kinds for a broken file
            raise UnreadableFileError(f"{path} is not a readable Jupyter notebook: {one_line(exc)}") from None
        cells = []
        seen: set[str] = set()
        for position, c in enumerate(raw_cells, 1):
            if not isinstance(c, dict) or c.get("cell_type") != "code":
                continue
            count = c.get("execution_count")
            label = f"In [{count}]" if type(count) is int else f"cell {position}"
            if label in seen:  # counts repeat after a kernel restart: the position tells them apart
                label = f"{label} (cell {position})"
            seen.add(label)
            source = c.get("source")
            if isinstance(source, list) and all(isinstance(x, str) for x in source):
                source = "".join(source)
            if not isinstance(source, str):
                if notes is not None:
                    notes.append(f"{label}: its source is {type(source).__name__}, not text: skipped")
                continue
            cells.append(Cell(label, source))
        return cells
    if path.suffix != ".py":
        raise UnreadableFileError(f"{path}: expected a .py file or a .ipynb notebook")
    return [Cell("the file", text)]


def cells_of(path: Path) -> list[str]:
    r"""The sources of :func:`code_cells`."""
    return [c.source for c in code_cells(path)]


def cell_labels(path: Path) -> list[str]:
    r"""The labels of :func:`code_cells` (``In [12]``, ``cell 7``, ``the file``), as :func:`cells_of`."""
    return [c.label for c in code_cells(path)]


def one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())[:300]


def _strip_magics(code: str) -> str:
    return "\n".join("" if _MAGIC.match(line) else line for line in code.splitlines())


def _module_roots(tree: ast.Module) -> set[str]:
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            roots.update(a.asname or a.name for a in node.names)
    return roots


def _is_constant(node: ast.AST, modules: set[str]) -> bool:
    r"""Literals, arithmetic, names, module attributes and cheap calls on module functions."""
    if isinstance(node, (ast.Constant, ast.Lambda)):  # a lambda's body runs only when called
        return True
    if isinstance(node, ast.Name):
        return True
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return all(_is_constant(e, modules) for e in node.elts)
    if isinstance(node, ast.Dict):
        return all(k is None or _is_constant(k, modules) for k in node.keys) and all(
            _is_constant(v, modules) for v in node.values
        )
    if isinstance(node, ast.BinOp):
        return _is_constant(node.left, modules) and _is_constant(node.right, modules)
    if isinstance(node, ast.UnaryOp):
        return _is_constant(node.operand, modules)
    if isinstance(node, ast.Attribute):
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            root = root.value
        return isinstance(root, ast.Name) and root.id in modules
    if isinstance(node, ast.Call):
        name = ast.unparse(node.func)
        return (
            isinstance(
                node.func, ast.Attribute
            )  # np.float32(...), np.random.default_rng(0): not own functions
            and _is_constant(node.func, modules)
            and not _NO_CALL.search(name)
            and all(_is_constant(a, modules) for a in node.args)
            and all(_is_constant(k.value, modules) for k in node.keywords)
        )
    return False


def _keep(node: ast.stmt, modules: set[str]) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign):
        return all(_is_target(t) for t in node.targets) and _is_constant(node.value, modules)
    if isinstance(node, ast.AnnAssign):
        return (
            isinstance(node.target, ast.Name) and node.value is not None and _is_constant(node.value, modules)
        )
    if isinstance(node, ast.Try):  # try: import a / except ImportError: import b
        return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in node.body)
    return False


def _is_target(t: ast.AST) -> bool:
    return isinstance(t, ast.Name) or (
        isinstance(t, ast.Tuple) and all(isinstance(e, ast.Name) for e in t.elts)
    )


def _defined(node: ast.stmt) -> list[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Assign):
        names: list[str] = []
        for t in node.targets:
            names.extend(n.id for n in ast.walk(t) if isinstance(n, ast.Name))
        return names
    return []


def _units(code: str, tree: ast.Module, label: str, notebook: bool) -> list[tuple[str, str]]:
    r"""What ``run_all`` runs separately: a notebook's cell, or a ``.py`` file's ``# %%`` cells
    (else each top-level statement), so one failing part does not hide the definitions after it."""
    if notebook:
        return [(label, code)]
    lines = code.splitlines()
    marks = [i for i, line in enumerate(lines) if line.lstrip().startswith("# %%")]
    if marks:
        bounds = [0, *[m for m in marks if m > 0], len(lines)]
        return [
            (f"the cell at line {a + 1}", "\n" * a + "\n".join(lines[a:b]))
            for a, b in itertools.pairwise(bounds)
            if "\n".join(lines[a:b]).strip()
        ]
    out = []
    for node in tree.body:
        first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        last = node.end_lineno or node.lineno
        out.append((f"line {first}", "\n" * (first - 1) + "\n".join(lines[first - 1 : last])))
    return out


def load_source(path: str | Path, run_all: bool = False) -> Source:
    r"""Read ``path`` and return the statements to run (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise UnreadableFileError(f"{path} is a folder: give the notebook or .py file inside it")
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    notebook = path.suffix == ".ipynb"
    src = Source(path, [])
    cells = code_cells(path, src.notes)
    for cell in cells:
        code = _strip_magics(cell.source)
        where = cell.label
        filename = f"{LEARNER_FILE}:{cell.label}" if notebook else LEARNER_FILE
        try:
            tree = ast.parse(code, filename)
        except SyntaxError as exc:
            if not notebook:
                raise UnreadableFileError(
                    f"{path}: syntax error at line {exc.lineno}: {exc.msg}; fix it first"
                ) from None
            hint = " (a Python 2 print statement: write print(...))" if "print" in str(exc.msg) else ""
            src.notes.append(f"{where} has a syntax error at line {exc.lineno} ({exc.msg}){hint}: skipped")
            continue
        except (RecursionError, MemoryError, ValueError) as exc:  # 100,000 terms in one line; NUL bytes
            why = (
                "an expression too deeply nested for Python"
                if not isinstance(exc, ValueError)
                else one_line(exc)
            )
            if not notebook:
                raise UnreadableFileError(f"{path} cannot be parsed: {why}; split it up") from None
            src.notes.append(f"{where} cannot be parsed ({why}): skipped")
            continue
        modules = _module_roots(tree)
        for node in tree.body:
            for name in _defined(node):
                src.definitions.setdefault(name, []).append(f"{where}, line {node.lineno}")
        if run_all:
            src.statements.extend(
                (filename, text, what) for what, text in _units(code, tree, where, notebook)
            )
            continue
        for node in tree.body:
            try:
                if not _keep(node, modules):
                    continue
                # keep line numbers: pad with blank lines so tracebacks point into the learner's file
                decorators = getattr(node, "decorator_list", None)
                if decorators:  # whole lines from the first decorator to the end of the definition
                    first = decorators[0].lineno
                    text = "\n" * (first - 1) + "\n".join(code.splitlines()[first - 1 : node.end_lineno])
                else:  # exactly the statement, even on a line shared with others by ";"
                    segment = ast.get_source_segment(code, node, padded=True) or ""
                    text = "\n" * (node.lineno - 1) + segment
                label = _defined(node) or [ast.unparse(node).splitlines()[0][:60]]
            except RecursionError:
                src.notes.append(
                    f"{where}, line {node.lineno}: a statement too deeply nested to read: skipped"
                )
                continue
            src.statements.append((filename, text, f"{where}, line {node.lineno} ({label[0]})"))
    return src
