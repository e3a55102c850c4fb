r"""LaTeX as learners type it, cut into tokens: spacing and typography dropped, words recognised.

Non-goals: a LaTeX parser (that is :mod:`.read`); macros the learner defines.
"""

from __future__ import annotations

import re

__all__ = ["tokens"]

_UNICODE = {
    "−": "-", "·": r"\cdot ", "×": r"\times ", "⊙": r"\odot ", "∂": r"\partial ", "Σ": r"\sum ",
    "∑": r"\sum ", "δ": r"\delta ", "σ": r"\sigma ", "≠": r"\neq ", "⟨": r"\langle ", "⟩": r"\rangle ",
    "∇": r"\nabla ", "ᵀ": "^T", "′": "'", "⋅": r"\cdot ", "∘": r"\circ ",
}  # fmt: skip
_DROP = re.compile(
    r"\\(left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|limits|nolimits"
    r"|quad|qquad|space|enspace|thinspace|medspace|thickspace)(?![A-Za-z])|\\[,;:! ]|~|&"
)
_WRAP = re.compile(
    r"\\(mathbf|boldsymbol|bm|vec|mathit|mathsf|mathcal|mathnormal|pmb|hat|bar|tilde)\s*(\{[^{}]*\}|\w)"
)
_NAMED = re.compile(r"\\(mathrm|operatorname|text|textrm|mathbb)\s*\{\s*([^{}]*?)\s*\}")
_TOKEN = re.compile(r"\\[A-Za-z]+|\d+(?:\.\d+)?|[A-Za-z]|\S")
_WORDS = ("softmax", "diag", "exp", "log", "ln", "relu", "max", "sum")
_GREEK = {"delta": "δ", "sigma": "σ", "gamma": "γ", "eta": "η", "alpha": "α", "lambda": "λ", "theta": "θ"}


def _named(m: re.Match) -> str:
    body = m.group(2).replace(" ", "")
    if body == "e" and m.group(1) in ("mathrm", "text", "operatorname", "textrm"):
        return r"\EULER "
    if body == "d" and m.group(1) == "mathrm":
        return " d "
    if body in ("1", "I") and m.group(1) == "mathbb":
        return " 1 "
    if body.lower() in _WORDS or body in ("T", "⊤"):
        return f" {body} " if body not in ("T", "⊤") else "T"
    if m.group(1) in ("text", "textrm"):
        return " "  # prose inside the maths
    return f" {body} "


def tokens(text: str) -> list[str]:
    r"""The tokens of one line of LaTeX, after removing spacing and typography."""
    for u, t in _UNICODE.items():
        text = text.replace(u, t)
    text = _DROP.sub(" ", text)
    for _ in range(3):
        text = _WRAP.sub(lambda m: " " + m.group(2).strip("{}") + " ", text)
        text = _NAMED.sub(_named, text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    text = re.sub(r"(\}|\))\s*x\s*(?=\\frac|\()", r"\1 \\times ", text)  # a bare x between fractions
    out: list[str] = []
    for t in _TOKEN.findall(text):
        if t.startswith("\\") and t[1:] in _GREEK:
            t = _GREEK[t[1:]]
        out.append(t)
    merged: list[str] = []  # words written without a backslash: exp, log, softmax, ...
    idx = 0
    while idx < len(out):
        for w in sorted(_WORDS, key=len, reverse=True):
            if "".join(out[idx : idx + len(w)]) == w and all(len(c) == 1 for c in out[idx : idx + len(w)]):
                merged.append("\\" + w)
                idx += len(w)
                break
        else:
            merged.append(out[idx])
            idx += 1
    return merged
