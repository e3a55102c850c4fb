r"""Finding the derivations in a notebook's Markdown cells, a ``.md`` or a ``.tex`` file.

A derivation is a chain of expressions joined by ``=``: inside one display (``$$ … $$``,
``\[ … \]``, ``align``, ``align*``, ``aligned``, ``eqnarray``, ``equation``, ``gather``), across its
rows (``&=`` and ``\\``), and across consecutive displays when a display starts with ``=`` or
with the expression the previous one ended on; the prose between two displays is kept as the
step's justification. A condition written beside a row ("for j ≠ i", ``\quad (i \neq j)``,
``\text{if } i = j``) is attached to that row and holds for the whole chain. A marker
``backproof: target NAME`` in the text before a derivation (in an HTML comment or a ``%``
comment) names the course result it targets.

Non-goals: inline maths as steps (inline ``$S = …$`` is read only as a definition); LaTeX
macros defined by the learner (``\newcommand``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Derivation", "Item", "Source", "find_derivations", "read_source"]


@dataclass
class Item:
    r"""One expression of a chain, as the learner wrote it, and where."""

    text: str
    where: str
    conditions: list[tuple[str, str, str]] = field(default_factory=list)  # ("ne"|"eq", i, j)
    why: str = ""  # the prose before it, when it starts a new display


@dataclass
class Derivation:
    r"""A chain of expressions joined by ``=``, with the definitions written before it."""

    items: list[Item]
    where: str
    marker: str | None = None
    definitions: list[Item] = field(default_factory=list)  # inline $S = …$ in the prose before it


@dataclass
class Source:
    r"""The text to search, cut into parts that each know how to name a line."""

    name: str
    parts: list[tuple[str, str]]  # (text, label): label "cell 3" for a notebook, "" for a file


def read_source(path_or_text: str | Path) -> Source:
    r"""The Markdown cells of a notebook, or the text of a ``.md``/``.tex`` file, or a text given."""
    if isinstance(path_or_text, Path) or (
        "\n" not in str(path_or_text) and str(path_or_text).endswith((".ipynb", ".md", ".tex", ".txt"))
    ):
        path = Path(path_or_text)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            from .._load import UnreadableFileError

            raise UnreadableFileError(f"cannot read {path}: {exc}") from None
        if path.suffix == ".ipynb":
            import nbformat

            try:
                nb = nbformat.reads(text, as_version=4)
            except Exception as exc:  # nbformat raises several kinds for a broken file
                from .._load import UnreadableFileError

                raise UnreadableFileError(f"{path} is not a readable Jupyter notebook: {exc}") from None
            parts = [(c.source, f"cell {n}") for n, c in enumerate(nb.cells, 1) if c.cell_type == "markdown"]
            return Source(str(path), parts)
        return Source(str(path), [(text, "")])
    return Source("<text>", [(str(path_or_text), "")])


_DISPLAY = re.compile(
    r"\$\$(?P<a>.+?)\$\$|\\\[(?P<b>.+?)\\\]"
    r"|\\begin\{(?P<env>align\*?|eqnarray\*?|equation\*?|gather\*?|multline\*?)\}(?P<c>.+?)\\end\{(?P=env)\}",
    re.S,
)
_INNER_ENV = re.compile(r"\\(begin|end)\{(aligned|gathered|split|array)\}(\{[^}]*\})?")
_MATRIX = re.compile(r"\\begin\{([pbvBV]?matrix|array)\}.*?\\end\{\1\}", re.S)
_CASES = re.compile(r"\\begin\{cases\}(.*?)\\end\{cases\}", re.S)
_JUNK = re.compile(r"\\(tag|label)\{[^}]*\}|\\(nonumber|notag)\b")
_MARKER = re.compile(r"backproof\s*:\s*target\s*[:=]?\s*([\w-]+)", re.I)
_INLINE_DEF = re.compile(r"(?<![\\$])\$([^$]+?=[^$]+?)\$(?!\$)")
_REL = r"(\\neq|\\ne(?![a-z])|≠|\\not=|=)"
_COND = re.compile(
    r"(?:,|\\quad|\\qquad|\\[;:!,]|\\text\{[^{}]*\}|\(|\s)*"
    r"(?:\\text\{\s*)?(?:for|if|when|where|with)?(?:\s*\})?\s*(?:all\s*)?\$?\s*"
    rf"([a-z])\s*{_REL}\s*([a-z])\s*\$?\s*(?:\}})?\s*\)?\s*[.,]?\s*$"
)
_COND_WORD = re.compile(
    r"(,|\\quad|\\qquad|\\text\{\s*(for|if|when|where|with)|\\;|\\,|\(|\b(for|if|when)\b)"
)
_NOTE = re.compile(r"(?:\\[;,:!]|\\q?quad|\s)*\\text\{\s*\(?\s*([A-Za-z]{3,})")


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _where(label: str, line: int) -> str:
    return f"{label}, line {line}" if label else f"line {line}"


def _split_top(text: str, sep: str) -> list[str]:
    r"""``text`` cut at ``sep`` outside braces and brackets."""
    out, depth, start, k = [], 0, 0, 0
    while k < len(text):
        ch = text[k]
        if text.startswith("\\{", k) or text.startswith("\\}", k):
            k += 2
            continue
        depth += ch in "{(["
        depth -= ch in "})]"
        if depth == 0 and text.startswith(sep, k) and not (sep == "=" and _is_compound_rel(text, k)):
            out.append(text[start:k])
            k += len(sep)
            start = k
            continue
        k += 1
    out.append(text[start:])
    return out


def _is_compound_rel(text: str, k: int) -> bool:
    before = text[max(0, k - 5) : k]
    return before.endswith(("\\not", "<", ">", "!", ":")) or text[k + 1 : k + 2] == "="


_SUM1 = re.compile(
    r"(?:,|\\q?quad|\\[;:!,]|\s|\()*(?:\\text\{[^{}]*\}\s*)?\$?\s*"
    r"\\sum(?:_\{?\s*[a-z]\s*(?:=\s*\w\s*)?\}?)?(?:\^\{?[^{}\s]+\}?)?\s*d_\{?[a-z]\}?\s*=\s*1\s*\$?\s*\)?\s*[.,]?\s*$"
)


def _condition(row: str, whole: bool = False) -> tuple[str, list[tuple[str, str, str]]]:
    r"""A row without the condition written beside it, and that condition (``whole``: only a condition)."""
    m1 = _SUM1.search(row)
    seps = (",", "(", "\\q", "\\text", "\\;", "\\,")
    if (
        m1 is not None and m1.start() > 0 and row[m1.start() :].lstrip().startswith(seps)
    ):  # "… \quad (\sum_k d_k = 1)": the targets sum to 1
        head, conds = _condition(row[: m1.start()], whole)
        return head, [*conds, ("sum1", "d", "d")]
    m = _COND.search(row)
    if m is None or (m.start() == 0 and not whole):
        return row, []
    head = row[: m.start()]
    tail = row[m.start() :]
    # a condition needs a word or a separator before it; "… = g_i" must not lose "g = i"
    if not _COND_WORD.search(tail[: tail.find(m.group(1))] if m.group(1) in tail else tail):
        return row, []
    kind = "eq" if m.group(2) == "=" else "ne"
    return head, [(kind, m.group(1), m.group(3))]


def _cases(m: re.Match) -> str:
    rows = [r for r in m.group(1).split("\\\\") if r.strip()]
    if len(rows) != 2:
        return r"\CASES"
    vals, kinds = [], []
    for r in rows:
        value, _, cond = r.partition("&")
        _, conds = (
            _condition(" , " + cond.replace("\\text{otherwise}", "").strip(), whole=True)
            if cond.strip()
            else ("", [])
        )
        vals.append(value)
        kinds.append(conds[0] if conds else ("otherwise", "", ""))
    eq = next((n for n, c in enumerate(kinds) if c[0] == "eq"), None)
    if eq is None:
        return r"\CASES"
    i, j = kinds[eq][1], kinds[eq][2]
    return rf"\left(\delta_{{{i}{j}}}({vals[eq]}) + (1-\delta_{{{i}{j}}})({vals[1 - eq]})\right)"


def _rows(body: str) -> list[str]:
    body = _JUNK.sub(" ", _INNER_ENV.sub(" ", body))
    body = _CASES.sub(_cases, body)
    body = _MATRIX.sub(lambda m: r"\cdots" if re.search(r"\\[cvdl]?dots", m.group(0)) else r"\begin", body)
    return [r for r in re.split(r"\\\\(?:\[[^\]]*\])?", body) if r.strip()]


def _without_note(row: str) -> str:
    r"""A row without a remark in words written after it (``\;\text{(only k = i survives)}``)."""
    m = _NOTE.search(row)
    words = ("softmax", "diag", "exp", "log", "relu", "for", "if", "when", "where", "with")
    if m is not None and m.start() > 0 and m.group(1).lower() not in words:
        return row[: m.start()]
    return row


def _clean(piece: str) -> str:
    piece = re.sub(r"\\(textstyle|displaystyle|scriptstyle)(?![A-Za-z])", " ", piece)
    return piece.replace("&", " ").strip().rstrip(".,;").strip()


def _same(x: str, y: str) -> bool:
    def key(s: str) -> str:
        return re.sub(r"\\left|\\right|\\[,;:! ]|\s|\{|\}", "", s)

    return key(x) == key(y)


def find_derivations(source: Source) -> list[Derivation]:
    r"""Every chain of at least two expressions, in the order written."""
    chains: list[Derivation] = []
    pending_defs: list[Item] = []
    marker: str | None = None
    for text, label in source.parts:
        last_end = 0
        current: Derivation | None = chains[-1] if chains else None
        for m in _DISPLAY.finditer(text):
            prose = text[last_end : m.start()]
            last_end = m.end()
            if (mk := _MARKER.search(prose)) is not None:
                marker = mk.group(1).lower()
            for d in _INLINE_DEF.finditer(prose):
                pending_defs.append(Item(d.group(1), _where(label, _line_of(text, m.start()))))
            body = m.group("a") or m.group("b") or m.group("c") or ""
            offset = m.start("a") if m.group("a") else m.start("b") if m.group("b") else m.start("c")
            why = " ".join(prose.split())[-160:]
            continues = (current is not None and prose.strip() != "") or current is not None
            lines_seen = 0
            carry = ""
            for row in _rows(body):
                rel = body.find(row.strip()[:20])
                line = _line_of(text, offset + max(rel, 0))
                row, conds = _condition(_clean(row))
                row = _without_note(row)
                pieces = [_clean(p) for p in _split_top(carry + row, "=")]
                carry = ""
                if pieces and pieces[-1] == "" and len(pieces) > 1:  # "… = \\" then the next row
                    carry = "=".join(pieces[:-1]) + "="
                    continue
                where = _where(label, line)
                items = [Item(p, where, list(conds)) for p in pieces]
                for it in items[:-1]:
                    it.conditions = list(conds)
                starts_eq = pieces[0] == ""
                if starts_eq and current is not None and (lines_seen or continues):
                    if lines_seen == 0:
                        items[1].why = why
                    current.items.extend(items[1:])
                elif (
                    current is not None
                    and current.items
                    and len(pieces) > 1
                    and _same(pieces[0], current.items[-1].text)
                ):
                    if lines_seen == 0:
                        items[1].why = why
                    current.items.extend(items[1:])
                else:
                    items = [it for it in items if it.text]
                    current = Derivation(items, where, marker, pending_defs)
                    pending_defs, marker = [], None
                    chains.append(current)
                lines_seen += 1
        for d in _INLINE_DEF.finditer(text[last_end:]):
            pending_defs.append(Item(d.group(1), _where(label, _line_of(text, last_end + d.start()))))
    return chains
