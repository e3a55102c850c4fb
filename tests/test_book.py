"""What the chapters show: a function's code without its docstring, and the two diagrams."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import backproof as bp
from backproof import book


def _text(code) -> str:
    return code if isinstance(code, str) else code.data


def test_the_source_shown_is_the_code_without_its_docstring():
    shown = _text(book.source(bp.softmax_jvp))
    assert shown.startswith("def softmax_jvp(")
    assert bp.softmax_jvp.__doc__.strip().splitlines()[0] not in shown
    assert '"""' not in shown and "return" in shown


def test_a_function_without_a_docstring_is_shown_whole():
    def relup(a, e):
        return (a > 0) * e

    assert _text(book.source(relup)) == "def relup(a, e):\n    return (a > 0) * e\n"


def test_the_graph_fills_the_nodes_of_the_chapter_named():
    fig = book.graph_figure("relu")
    boxes = [t for t in fig.axes[0].texts if t.get_bbox_patch() is not None]
    filled = {t.get_text() for t in boxes if t.get_bbox_patch().get_facecolor()[0] < 1}
    assert filled == {"$a_1$", "$h$"}


def test_the_network_figure_labels_each_layer_with_its_size():
    fig = book.network_figure((784, 512, 256, 10))
    text = " ".join(t.get_text() for t in fig.axes[0].texts)
    for n in ("784 units", "512 units", "256 units", "10 units", r"$W_3$: $10 \times 256$"):
        assert n in text
