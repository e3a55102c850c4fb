r"""Adapters: checking learners' functions whose layout or signature is not the course's.

The checker calls every function the course's way (samples as columns, ``net = (W1, b1, W2,
b2)`` with column biases). An adapter is a few lines of Python that call the learner's function
their way and give the result back the course's way; it runs next to the learner's code (in
the same process and namespace), and the learner's code is never edited.

* ``layout="rows"`` (``--layout rows``): samples as rows, ``x`` of shape (N, 784),
  ``a1 = x @ W1 + b1`` with ``W1`` of shape (784, 64) and ``b1`` of shape (1, 64) or (64,).
  Arrays are transposed on the way in and out, weights transposed, biases reshaped.
* an adapter file (``--adapter FILE``): a function named after each course function to adapt,
  written the course's way; inside it, ``learner`` is the learner's namespace. For a
  class-based network::

      def forwardprop_shallow(x, net):
          model = learner.Network(*net)            # the learner's class, built from the course's net
          return model.forward(x.T).T              # their forward takes rows

  Course functions the file does not define are looked up as usual.

Each adapted function is defined as ``_adapter_<course name>`` and checked under that name;
diagnoses and counterexamples are in the course's layout.

Non-goals: guessing a layout (say it); adapting the learner's *calls* between their own
functions (a rows-layout ``update_shallow`` calls the learner's rows-layout ``softmaxp``
unchanged, as it should).
"""

from __future__ import annotations

import ast
from pathlib import Path

from ..errors import BackproofError

PREFIX = "_adapter_"
LAYOUTS = ("columns", "rows")

# helpers shared by the rows adapters: in the learner's namespace, so no import is needed there
_ROWS_HELPERS = """
import numpy as _adapter_np


def _adapter_T(a):
    return _adapter_np.asarray(a).T


def _adapter_net_rows(net):
    W1, b1, W2, b2 = (_adapter_np.asarray(v) for v in net)
    return W1.T, b1.reshape(1, -1), W2.T, b2.reshape(1, -1)


def _adapter_net_cols(net):
    if isinstance(net, (tuple, list)) and len(net) == 2 and isinstance(net[0], (tuple, list)):
        net = net[0]  # (net, history)
    if not isinstance(net, (tuple, list)) or len(net) != 4:
        return net  # the checker says what is wrong with it
    W1, b1, W2, b2 = (_adapter_np.asarray(v) for v in net)
    return W1.T, b1.reshape(-1, 1), W2.T, b2.reshape(-1, 1)


def _adapter_last_T(out):
    if isinstance(out, (tuple, list)) and not isinstance(out, _adapter_np.ndarray):
        return _adapter_T(out[-1])
    return _adapter_T(out)
"""

# course name -> (parameters, the call of the learner's function {f}, rows layout)
_ROWS = {
    "normalize_MNIST_images": ("x", "_adapter_T({f}(_adapter_T(x)))"),
    "label2onehot": ("lbl", "_adapter_T({f}(lbl))"),
    "onehot2label": ("d", "{f}(_adapter_T(d))"),
    "softmax": ("a", "_adapter_T({f}(_adapter_T(a)))"),
    "softmaxp": ("a, e", "_adapter_T({f}(_adapter_T(a), _adapter_T(e)))"),
    "relu": ("a", "_adapter_T({f}(_adapter_T(a)))"),
    "relup": ("a, e", "_adapter_T({f}(_adapter_T(a), _adapter_T(e)))"),
    "init_shallow": ("Ni, Nh, No", "_adapter_net_cols({f}(Ni, Nh, No))"),
    "forwardprop_shallow": ("x, net", "_adapter_last_T({f}(_adapter_T(x), _adapter_net_rows(net)))"),
    "eval_loss": ("y, d", "{f}(_adapter_T(y), _adapter_T(d))"),
    "eval_perfs": ("y, lbl", "{f}(_adapter_T(y), lbl)"),
    "update_shallow": (
        "x, d, net, gamma",
        "_adapter_net_cols({f}(_adapter_T(x), _adapter_T(d), _adapter_net_rows(net), gamma))",
    ),
    "backprop_shallow": (
        "x, d, net, T, gamma",
        "_adapter_net_cols({f}(_adapter_T(x), _adapter_T(d), _adapter_net_rows(net), T, gamma))",
    ),
    "backprop_minibatch_shallow": (
        "x, d, net, T, B, gamma",
        "_adapter_net_cols({f}(_adapter_T(x), _adapter_T(d), _adapter_net_rows(net), T, B, gamma))",
    ),
}


class AdapterError(BackproofError):
    r"""An adapter file that cannot be used (missing, not Python, adapts no course function)."""


def rows_source(mapping: dict[str, str], names: list[str]) -> str:
    r"""Python defining ``_adapter_<name>`` for each course function in ``names`` (those the
    learner defines, under ``mapping``'s names), calling it with samples as rows."""
    parts = [_ROWS_HELPERS]
    for course in names:
        params, call = _ROWS[course]
        mine = mapping.get(course, course)
        parts.append(
            f"\n\nif {mine!r} in globals():\n\n"
            f"    def {PREFIX}{course}({params}):\n"
            f"        return {call.format(f=mine)}\n"
        )
    return "".join(parts)


def file_source(path: str | Path, course_functions) -> tuple[str, list[str]]:
    r"""The adapter file's code with its course functions renamed ``_adapter_<name>``, preceded by
    ``learner = <the learner's namespace>``; and the course functions it adapts."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
        tree = ast.parse(text, str(path))
    except (OSError, UnicodeDecodeError) as exc:
        raise AdapterError(f"--adapter {path}: cannot read it ({exc})") from None
    except SyntaxError as exc:
        raise AdapterError(f"--adapter {path}: syntax error at line {exc.lineno}: {exc.msg}") from None
    adapted = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name in course_functions:
            adapted.append(node.name)
            node.name = PREFIX + node.name
    if not adapted:
        raise AdapterError(
            f"--adapter {path}: it defines none of the course's functions "
            f"({', '.join(course_functions)}); name each adapter after the function it adapts"
        )
    snapshot = (
        "import types as _adapter_types\n"
        "learner = _adapter_types.SimpleNamespace(\n"
        "    **{k: v for k, v in dict(globals()).items() if not k.startswith('__')}\n"
        ")\n"
    )
    return snapshot + ast.unparse(tree) + "\n", adapted


def statements(
    layout: str | None, adapter: str | Path | None, mapping: dict[str, str], course_functions
) -> tuple[list[tuple[str, str, str]], dict[str, str], list[str]]:
    r"""Statements to run after the learner's code; the course name -> checked name for each
    function they adapt (the adapter file's first, then the layout's for the others); the course
    functions the adapter file adapts."""
    from ._worker import LEARNER_FILE

    if layout not in (None, *LAYOUTS):
        raise AdapterError(f"layout {layout!r}: choose one of {', '.join(LAYOUTS)}")
    out: list[tuple[str, str, str]] = []
    names: dict[str, str] = {}
    adapted: list[str] = []
    if adapter is not None:
        code, adapted = file_source(adapter, course_functions)
        out.append((f"{LEARNER_FILE}:adapter", code, f"the adapter {Path(adapter).name}"))
        names.update({c: PREFIX + c for c in adapted})
    if layout == "rows":
        rest = [c for c in course_functions if c not in names]
        out.append((f"{LEARNER_FILE}:rows", rows_source(mapping, rest), "the rows layout"))
        names.update({c: PREFIX + c for c in rest})
    return out, names, adapted
