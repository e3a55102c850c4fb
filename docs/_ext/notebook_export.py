r"""The downloadable notebook of a chapter: plain Jupyter, no MyST.

A chapter is a MyST Markdown notebook executed by MyST-NB. Its executed ``.ipynb`` still holds
MyST-only syntax that Jupyter shows as text: ``{glue:text}`name:.2f``` roles, ``{doc}`relu```
and ``{py:func}`...``` cross-references, ``(label)=`` targets, ``%`` comments, and code that
imports ``myst_nb.glue``. :func:`export` turns it into a notebook a learner runs with plain
Jupyter:

* each glued value is written into the text, formatted as the page shows it;
* ``{doc}`` and Markdown links to another chapter (``relu.md#label``) become links to that
  chapter's notebook (``relu.ipynb``), which the site offers beside it; API roles become code;
  a ``{toctree}`` becomes a numbered list of such links;
* ``(label)=`` lines and ``%`` comment lines are dropped; the glued outputs (which Jupyter cannot
  show) are removed from the cells;
* ``from myst_nb import glue`` becomes a two-line ``glue`` of the notebook's own, which shows a
  value (``display=True``) or does nothing: the text already holds the build's values.

:data:`MYST_LEFTOVERS` finds what must not remain; the site check and the tests use it.

Non-goals: converting MyST directives (the chapters use none in their text).
"""

from __future__ import annotations

import copy
import re
from ast import literal_eval

GLUE_PREFIX = "application/papermill.record/"
GLUE_ROLE = re.compile(r"\{glue(?::text)?\}`([^`:]+)(?::([^`]*))?`")
DOC_ROLE = re.compile(r"\{doc\}`(?:([^`<]+?)\s*<)?/?([\w/-]+)>?`")
API_ROLE = re.compile(r"\{py:\w+\}`(?:([^`<]+?)\s*<)?~?([\w.]+)>?`")
REF_ROLE = re.compile(r"\{(?:ref|numref)\}`(?:([^`<]+?)\s*<)?([\w-]+)>?`")
MD_LINK = re.compile(r"\]\((/?[\w-]+)\.md(#[\w-]*)?\)")
LABEL_LINE = re.compile(r"^\([\w-]+\)=\s*$", re.M)
COMMENT_LINE = re.compile(r"^%.*\n?", re.M)
TOCTREE = re.compile(r"^```\{toctree\}[^\n]*\n(.*?)^```\s*$", re.M | re.S)
GLUE_IMPORT = re.compile(r"^from myst_nb import glue\s*$", re.M)
GLUE_SHIM = (
    "def glue(name, value, display=True):  # on the site, glue writes a value into the text\n"
    "    if display:\n"
    "        IPython.display.display(value)"
)

MYST_LEFTOVERS = re.compile(
    r"\{glue(:\w+)?\}`|\{(doc|ref|numref|eq|py:\w+)\}`|^\([\w-]+\)=\s*$|^```\{|myst_nb|^% ", re.M
)
"""MyST syntax (roles, targets, directives, comments) or a ``myst_nb`` import left in a notebook."""


def glued_values(nb, glued: dict | None = None) -> dict[str, str]:
    """Every glued value of the executed notebook, by name, as its ``text/plain``.

    ``glued`` holds the outputs that MyST-NB saved apart (``<page>.glue.json``): those of
    cells whose outputs it removed from the notebook (``remove-cell``, ``remove-output``).
    """
    values = {}
    outputs = [out for cell in nb.cells for out in cell.get("outputs", [])]
    for out in list((glued or {}).values()) + outputs:
        name = out.get("metadata", {}).get("scrapbook", {}).get("name")
        data = out.get("data", {})
        text = data.get(GLUE_PREFIX + "text/plain", data.get("text/plain"))
        if name is not None and text is not None:
            values[name] = text
    return values


def format_value(text: str, spec: str) -> str:
    """A glued value as ``{glue:text}`` shows it (MyST-NB's rule: a literal, then ``format``)."""
    try:
        value = literal_eval(text)
    except (SyntaxError, ValueError):
        value = text
    if not spec:
        return str(value)
    kind = spec[-1]
    if kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    elif kind == "s":
        value = str(value)
    return format(value, spec)


def _link(page: str) -> str:
    return page.lstrip("/").split("/")[-1] + ".ipynb"


def convert_markdown(text: str, values: dict[str, str], titles: dict[str, str]) -> str:
    """A Markdown cell's MyST turned into plain Markdown (see the module's docstring)."""

    def glue(m):
        if m.group(1) not in values:
            raise KeyError(f"glued value {m.group(1)!r} is not in the executed notebook")
        return format_value(values[m.group(1)], m.group(2) or "")

    def doc(m):
        page = m.group(2).lstrip("/")
        title = m.group(1) or titles.get(page, page)
        return f"[{title}]({_link(page)})"

    def toctree(m):  # the chapters' list: links to their notebooks
        pages = [ln.strip() for ln in m.group(1).splitlines() if ln.strip() and not ln.startswith(":")]
        return "\n".join(f"1. [{titles.get(page, page)}]({_link(page)})" for page in pages)

    text = TOCTREE.sub(toctree, text)
    text = GLUE_ROLE.sub(glue, text)
    text = DOC_ROLE.sub(doc, text)
    text = API_ROLE.sub(lambda m: f"`{m.group(1) or m.group(2)}`", text)
    text = REF_ROLE.sub(lambda m: m.group(1) or m.group(2).replace("_", " "), text)
    text = MD_LINK.sub(lambda m: f"]({_link(m.group(1))})", text)
    text = LABEL_LINE.sub("", text)
    text = COMMENT_LINE.sub("", text)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")


def export(nb, titles: dict[str, str] | None = None, glued: dict | None = None):
    """A copy of the executed chapter ``nb`` (an nbformat notebook) as a plain Jupyter notebook.

    ``titles`` maps page names to their titles, for the text of links to other chapters;
    ``glued`` is MyST-NB's ``<page>.glue.json``, when there is one.
    """
    nb = copy.deepcopy(nb)
    titles = titles or {}
    values = glued_values(nb, glued)
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = convert_markdown(cell.source, values, titles)
            if not cell.source.strip():
                continue
        elif cell.cell_type == "code":
            if GLUE_IMPORT.search(cell.source):
                cell.source = GLUE_IMPORT.sub("import IPython\n\n\n" + GLUE_SHIM, cell.source, count=1)
            outputs = []
            for out in cell.get("outputs", []):
                if "scrapbook" in out.get("metadata", {}):
                    continue  # a glued value: the text holds it
                data = out.get("data", {})
                if "text/markdown" in data:
                    data["text/markdown"] = convert_markdown(data["text/markdown"], values, titles)
                outputs.append(out)
            cell.outputs = outputs
        cell.metadata.pop("mystnb", None)
        cells.append(cell)
    nb.cells = cells
    nb.metadata.pop("jupytext", None)
    nb.metadata.pop("mystnb", None)
    return nb
