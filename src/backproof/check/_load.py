r"""Reading a learner's ``.py`` or ``.ipynb`` and choosing which statements to run.

By default only what defines things is kept: imports, function and class definitions, and
assignments of constants (literals, arithmetic on them, NumPy dtypes and seeded generators),
so a notebook that loads MNIST and trains for minutes is still checked in seconds. With
``run_all`` every code cell (or the whole module) runs, in order. IPython magics and shell
lines (``%matplotlib``, ``!pip``) are dropped in both cases.

Non-goals: executing notebooks with a Jupyter kernel, other notebook formats.
"""

from __future__ import annotations

import ast
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


def cells_of(path: Path) -> list[str]:
    r"""The code cells of a notebook, or the whole text of a ``.py`` file as one cell."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableFileError(f"cannot read {path}: {exc}") from None
    if path.suffix == ".ipynb":
        import nbformat

        try:
            nb = nbformat.reads(text, as_version=4)
        except Exception as exc:  # nbformat raises several kinds for a broken file
            raise UnreadableFileError(f"{path} is not a readable Jupyter notebook: {exc}") from None
        return [c.source for c in nb.cells if c.cell_type == "code"]
    if path.suffix != ".py":
        raise UnreadableFileError(f"{path}: expected a .py file or a .ipynb notebook")
    return [text]


def cell_labels(path: Path) -> list[str]:
    r"""For each code cell of :func:`cells_of`, the name Jupyter shows: ``In [12]`` (its execution
    count) when the notebook was run, else ``cell 7`` (its position among all cells, from 1).
    A ``.py`` file is one cell, ``the file``."""
    if path.suffix != ".ipynb":
        return ["the file"]
    import nbformat

    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)
    return [
        f"In [{c.get('execution_count')}]" if c.get("execution_count") else f"cell {k}"
        for k, c in enumerate(nb.cells, 1)
        if c.cell_type == "code"
    ]


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


def load_source(path: str | Path, run_all: bool = False) -> Source:
    r"""Read ``path`` and return the statements to run (see the module docstring)."""
    path = Path(path)
    if path.is_dir():
        raise UnreadableFileError(f"{path} is a folder: give the notebook or .py file inside it")
    if not path.is_file():
        raise UnreadableFileError(f"{path}: no such file")
    cells = cells_of(path)
    notebook = path.suffix == ".ipynb"
    src = Source(path, [])
    labels = cell_labels(path)
    for number, raw in enumerate(cells, 1):
        code = _strip_magics(raw)
        where = labels[number - 1]  # as Jupyter shows it: In [12], else the cell's position
        filename = f"{LEARNER_FILE}:{where.removeprefix('cell ')}" if notebook else LEARNER_FILE
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
        modules = _module_roots(tree)
        for node in tree.body:
            for name in _defined(node):
                src.definitions.setdefault(name, []).append(f"{where}, line {node.lineno}")
        if run_all:
            src.statements.append((filename, code, where))
            continue
        for node in tree.body:
            if _keep(node, modules):
                # keep line numbers: pad with blank lines so tracebacks point into the learner's file
                decorators = getattr(node, "decorator_list", None)
                if decorators:  # whole lines from the first decorator to the end of the definition
                    first = decorators[0].lineno
                    text = "\n" * (first - 1) + "\n".join(code.splitlines()[first - 1 : node.end_lineno])
                else:  # exactly the statement, even on a line shared with others by ";"
                    segment = ast.get_source_segment(code, node, padded=True) or ""
                    text = "\n" * (node.lineno - 1) + segment
                label = _defined(node) or [ast.unparse(node).splitlines()[0][:60]]
                src.statements.append((filename, text, f"{where}, line {node.lineno} ({label[0]})"))
    return src
