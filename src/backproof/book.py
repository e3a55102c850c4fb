r"""What the site's chapters draw and show, so that a downloaded chapter draws and shows the same.

* :func:`source`: a function's code as the chapter shows it: the code, without its docstring.
* :func:`network_figure`: the network as layers of units, with the sizes and the formulas.
* :func:`graph_figure`: the course network's computation graph, forward (``W_1 x + b_1``,
  ``relu``, ...) and backward (``y - d``, ``H(a_1) \odot e``, ...), with one chapter's
  quantities highlighted.

Non-goals: figures of results (the chapters draw those from their runs); any layout engine.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

# the course network's computation graph: (name, label, x, y) of each node
_NODES = [
    ("x", r"$x$", 0.0, 0.0),
    ("W1", r"$W_1, b_1$", 1.0, 1.0),
    ("a1", r"$a_1$", 1.0, 0.0),
    ("h", r"$h$", 2.0, 0.0),
    ("W2", r"$W_2, b_2$", 3.0, 1.0),
    ("a2", r"$a_2$", 3.0, 0.0),
    ("y", r"$y$", 4.0, 0.0),
    ("d", r"$d$", 5.0, 1.0),
    ("E", r"$E$", 5.0, 0.0),
]
# forward edges (from, to, operation) and backward edges (from, to, what flows back)
_FORWARD = [
    ("x", "a1", r"$W_1 x + b_1$"),
    ("W1", "a1", ""),
    ("a1", "h", r"relu"),
    ("h", "a2", r"$W_2 h + b_2$"),
    ("W2", "a2", ""),
    ("a2", "y", r"$g$ (softmax)"),
    ("y", "E", r"$-\sum_i d_i \log y_i$"),
    ("d", "E", ""),
]
_BACKWARD = [
    ("E", "y", r"$-d / y$"),
    ("y", "a2", r"$\delta_2 = y - d$"),
    ("a2", "h", r"$e = W_2^\top \delta_2$"),
    ("h", "a1", r"$\delta_1 = H(a_1) \odot e$"),
]
CHAPTER_NODES = {
    "data": {"x", "d"},
    "softmax": {"a2", "y", "E", "d"},
    "relu": {"a1", "h"},
    "backprop": {"x", "W1", "a1", "h", "W2", "a2", "y", "d", "E"},
}
"""The quantities each chapter is about, for :func:`graph_figure`'s ``highlight``."""


def source(func):
    """The code of ``func`` as the site shows it: its source without the docstring.

    Returns an :class:`IPython.display.Code` (highlighted in a notebook), or the text when
    IPython is not installed.
    """
    text = textwrap.dedent(inspect.getsource(func))
    tree = ast.parse(text)
    node = tree.body[0]
    body = getattr(node, "body", [])
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        lines = text.splitlines()
        doc = body[0]
        end = doc.end_lineno or doc.lineno
        text = "\n".join(lines[: doc.lineno - 1] + lines[end:]) + "\n"
    try:
        from IPython.display import Code
    except ImportError:  # pragma: no cover - IPython comes with Jupyter
        return text
    return Code(text, language="python")


def _box(ax, x, y, label, on):
    ax.text(
        x, y, label, ha="center", va="center", fontsize=13,
        bbox={"boxstyle": "round,pad=0.35", "fc": "#cfe3f7" if on else "white",
              "ec": "#1f5f99" if on else "0.55", "lw": 1.6 if on else 1.0},
        zorder=3,
    )  # fmt: skip


def graph_figure(highlight=(), backward: bool = True, ax=None):
    """The course network's computation graph, with the nodes named in ``highlight`` filled.

    Forward edges (black) carry the operation; with ``backward``, the edges below carry what
    backprop sends back (red): the gradient of :math:`E` with respect to the node it reaches.
    ``highlight`` takes node names (``x``, ``W1``, ``a1``, ``h``, ``W2``, ``a2``, ``y``, ``d``,
    ``E``) or a chapter's name from :data:`CHAPTER_NODES`.
    """
    import matplotlib.pyplot as plt

    on = CHAPTER_NODES.get(highlight, set()) if isinstance(highlight, str) else set(highlight)
    pos = {name: (x, y) for name, _, x, y in _NODES}
    if ax is None:
        _, ax = plt.subplots(figsize=(9.6, 2.9 if backward else 2.2))
    for name, label, x, y in _NODES:
        _box(ax, x, y, label, name in on)
    for a, b, label in _FORWARD:
        (x0, y0), (x1, y1) = pos[a], pos[b]
        ax.annotate("", (x1, y1), (x0, y0), arrowprops={"arrowstyle": "-|>", "color": "0.2",
                    "shrinkA": 16, "shrinkB": 16, "lw": 1.2})  # fmt: skip
        if label:
            ax.text((x0 + x1) / 2, y0 + 0.17, label, ha="center", va="bottom", fontsize=10)
    if backward:
        for a, b, label in _BACKWARD:
            (x0, _), (x1, _) = pos[a], pos[b]
            ax.annotate("", (x1, -0.42), (x0, -0.42), arrowprops={"arrowstyle": "-|>", "color": "#b3261e",
                        "lw": 1.2, "connectionstyle": "arc3,rad=0.0"})  # fmt: skip
            ax.text((x0 + x1) / 2, -0.5, label, ha="center", va="top", fontsize=10, color="#b3261e")
        ax.text(-0.3, -0.42, "backward", ha="right", va="center", fontsize=9, color="#b3261e")
    ax.text(-0.3, 0.0, "forward", ha="right", va="center", fontsize=9, color="0.2")
    ax.set_xlim(-0.85, 5.45)
    ax.set_ylim(-0.95 if backward else -0.35, 1.35)
    ax.axis("off")
    ax.figure.tight_layout()
    return ax.figure


def network_figure(sizes=(784, 64, 10), activation: str = "relu", shown: int = 6, ax=None):
    """The network of layer ``sizes`` as columns of units joined by their weights.

    At most ``shown`` units of a layer are drawn (then a gap and the last one); each column
    is labelled with its quantity, its size and how it is computed.
    """
    import matplotlib.pyplot as plt

    sizes = list(sizes)
    L = len(sizes) - 1
    if ax is None:
        _, ax = plt.subplots(figsize=(2.6 * len(sizes) + 0.6, 3.9))
    columns = []
    for col, n in enumerate(sizes):
        k = min(n, shown)
        ys = [1 - i / (shown - 1) for i in range(k)] if k > 1 else [0.5]
        columns.append(ys)
        for j, y in enumerate(ys):
            ax.add_patch(plt.Circle((col, y), 0.045, fc="#cfe3f7", ec="#1f5f99", zorder=3))
            if n > shown and j == k - 2:
                ax.text(col, (y + ys[-1]) / 2, "⋮", ha="center", va="center", fontsize=12, zorder=4)
        if col == 0:
            label, how = r"$x = h_0$", "input image"
        elif col == L:
            last = "x" if L == 1 else ("h" if L == 2 else f"h_{{{L - 1}}}")
            label, how = r"$y$", rf"$g(W_{L} {last} + b_{L})$"
        else:
            label = r"$h$" if L == 2 else rf"$h_{col}$"
            prev = "x" if col == 1 else (r"h" if L == 2 else f"h_{{{col - 1}}}")
            how = rf"{activation}$(W_{col} {prev} + b_{col})$"
        ax.text(col, -0.2, f"{label}\n{n} units\n{how}", ha="center", va="top", fontsize=10)
    for col in range(L):
        for y0 in columns[col]:
            for y1 in columns[col + 1]:
                ax.plot([col, col + 1], [y0, y1], color="0.6", lw=0.4, zorder=1)
        ax.text(col + 0.5, 1.12, rf"$W_{col + 1}$: ${sizes[col + 1]} \times {sizes[col]}$",
                ha="center", va="bottom", fontsize=10)  # fmt: skip
    ax.set_xlim(-0.5, L + 0.5)
    ax.set_ylim(-0.75, 1.3)
    ax.set_aspect("auto")
    ax.axis("off")
    ax.figure.tight_layout()
    return ax.figure
