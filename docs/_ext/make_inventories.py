r"""Write the intersphinx inventories of ``docs/_inventories/`` (run by hand; output committed).

The site links into the Python, NumPy, SymPy and Matplotlib documentation, and its build is offline, so
intersphinx reads inventories kept in the repository. We may not commit the projects' own
``objects.inv`` files, so this script writes small ones of our own: only the objects our pages
and docstrings refer to, each with the page and anchor of the project's published
documentation (their URL patterns: ``library/<module>.html#<name>`` for Python,
``reference/...html#<name>`` for NumPy, ``modules/...html#<name>`` for SymPy,
``api/_as_gen/<name>.html#<name>`` for Matplotlib).

When ``sphinx-build -n`` reports an unresolved reference to one of these projects, add the
object here and rerun::

    python docs/_ext/make_inventories.py

The format is Sphinx's inventory version 2: four header lines, then zlib-compressed lines
``name domain:role priority uri display-name`` (``$`` in the URI stands for the name, ``-``
for a display name equal to the name). The script reads each file back with Sphinx's own
loader to check it.
"""

from __future__ import annotations

import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "_inventories"

# project -> (name, version, base URL, [(object, domain:role, page#anchor)]); "$" = the name
INVENTORIES = {
    "python": (
        "Python",
        "3",
        "https://docs.python.org/3/",
        [
            ("str", "py:class", "library/stdtypes.html#$"),
            ("int", "py:class", "library/functions.html#$"),
            ("float", "py:class", "library/functions.html#$"),
            ("bool", "py:class", "library/functions.html#$"),
            ("dict", "py:class", "library/stdtypes.html#$"),
            ("list", "py:class", "library/stdtypes.html#$"),
            ("tuple", "py:class", "library/stdtypes.html#$"),
            ("None", "py:data", "library/constants.html#$"),
            ("Ellipsis", "py:data", "library/constants.html#$"),
            ("callable", "py:function", "library/functions.html#$"),
            ("inspect.getsource", "py:function", "library/inspect.html#$"),
            ("os.PathLike", "py:class", "library/os.html#$"),
            ("pathlib.Path", "py:class", "library/pathlib.html#$"),
            ("collections.abc.Callable", "py:class", "library/collections.abc.html#$"),
            ("collections.abc.Sequence", "py:class", "library/collections.abc.html#$"),
            ("Exception", "py:exception", "library/exceptions.html#$"),
            ("ValueError", "py:exception", "library/exceptions.html#$"),
            ("RuntimeError", "py:exception", "library/exceptions.html#$"),
            ("OSError", "py:exception", "library/exceptions.html#$"),
            ("UserWarning", "py:exception", "library/exceptions.html#$"),
            ("http.server", "py:module", "library/http.server.html#module-http.server"),
        ],
    ),
    "numpy": (
        "NumPy",
        "stable",
        "https://numpy.org/doc/stable/",
        [
            ("numpy.ndarray", "py:class", "reference/generated/numpy.ndarray.html#$"),
            ("numpy.dtype", "py:class", "reference/generated/numpy.dtype.html#$"),
            ("numpy.float32", "py:class", "reference/arrays.scalars.html#$"),
            ("numpy.float64", "py:class", "reference/arrays.scalars.html#$"),
            ("numpy.uint8", "py:class", "reference/arrays.scalars.html#$"),
            ("numpy.random.Generator", "py:class", "reference/random/generator.html#$"),
            ("numpy.random.default_rng", "py:function", "reference/random/generator.html#$"),
            ("array_like", "std:term", "glossary.html#term-array_like"),
        ],
    ),
    "sympy": (
        "SymPy",
        "latest",
        "https://docs.sympy.org/latest/",
        [
            ("sympy.core.basic.Basic", "py:class", "modules/core.html#$"),
            ("sympy.core.expr.Expr", "py:class", "modules/core.html#$"),
            ("sympy.core.relational.Equality", "py:class", "modules/core.html#$"),
            ("sympy.core.symbol.Symbol", "py:class", "modules/core.html#$"),
            ("sympy.matrices.dense.MutableDenseMatrix", "py:class", "modules/matrices/dense.html#$"),
            ("sympy.simplify.simplify.simplify", "py:function", "modules/simplify/simplify.html#$"),
            (
                "sympy.functions.special.delta_functions.Heaviside",
                "py:class",
                "modules/functions/special.html#$",
            ),
        ],
    ),
    "matplotlib": (
        "Matplotlib",
        "stable",
        "https://matplotlib.org/stable/",
        [
            ("matplotlib.axes.Axes", "py:class", "api/_as_gen/matplotlib.axes.Axes.html#$"),
            ("matplotlib.figure.Figure", "py:class", "api/_as_gen/matplotlib.figure.Figure.html#$"),
        ],
    ),
}


def render(project: str, version: str, objects: list[tuple[str, str, str]]) -> bytes:
    head = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    body = "".join(f"{name} {role} 1 {uri} -\n" for name, role, uri in sorted(objects)).encode()
    return head + zlib.compress(body, 9)


def main() -> None:
    from sphinx.util.inventory import InventoryFile

    OUT.mkdir(exist_ok=True)
    for key, (project, version, base, objects) in INVENTORIES.items():
        path = OUT / f"{key}.inv"
        data = render(project, version, objects)
        path.write_bytes(data)
        loaded = InventoryFile.loads(data, uri=base)
        count = sum(len(v) for v in loaded.data.values()) if hasattr(loaded, "data") else len(objects)
        if count != len(objects):
            raise SystemExit(f"{path}: wrote {len(objects)} objects, Sphinx reads {count}")
        print(f"{path.relative_to(OUT.parent)}: {count} objects of {project} ({base})")


if __name__ == "__main__":
    main()
