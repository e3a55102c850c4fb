r"""Checks of softmax, its Jacobian-vector product softmaxp, relu and relup.

Non-goals: activations the course does not use.
"""

from __future__ import annotations

import numpy as np

from . import _course as C
from ._spec_base import (
    Mistake,
    Prop,
    Spec,
    _columns,
    _floats,
    _grid,
    _matrix,
    _st,
)


def _softmax_spec():
    from ..softmax import softmax

    st, _ = _st()
    # each column: a shift of 0 or ±1000 plus small logits, so columns far apart in size are generated;
    # the first column's shift is ±1000, so every input (and the shrunk counterexample) has such logits
    big = (
        st.integers(1, 3)
        .flatmap(
            lambda n: st.tuples(
                st.sampled_from([1000.0, -1000.0]),
                st.lists(st.sampled_from([0.0, 1000.0, -1000.0]), min_size=n - 1, max_size=n - 1),
                _matrix(10, n, _floats(-2, 2)),
            )
        )
        .map(lambda t: {"a": t[2] + np.array([t[0], *t[1]])})
    )
    generic = _columns(10, ["a"])
    probes = [{"a": _grid(10, 3, 1)}, {"a": _grid(10, 2, 2)}]
    big_probes = [
        {"a": np.stack([np.full(10, -1000.0), np.linspace(0, 1000, 10)], axis=1)},
        {"a": np.stack([np.linspace(1000, 990, 10), np.full(10, 0.0), np.linspace(-1000, -999, 10)], axis=1)},
    ]
    mistakes = [
        Mistake(
            "wrong_axis",
            "normalises along axis 1 (across samples) instead of axis 0: each column must sum to 1",
            lambda i: C.softmax(i["a"], axis=1),
            where=r"axis\s*=\s*1",
        ),
        Mistake(
            "wrong_axis",
            "sums along axis 1 (across samples) instead of axis 0: each column must sum to 1",
            lambda i: C.softmax(i["a"], sum_axis=1),
            where=r"axis\s*=\s*1",
        ),
        Mistake(
            "global_sum",
            "divides by the sum over the whole matrix, not by each column's sum (use axis=0, keepdims=True)",
            lambda i: C.softmax(i["a"], axis=None, max_sub="global"),
            where=r"sum\(",
        ),
        Mistake(
            "row_max",
            "subtracts each row's maximum (axis=1), which changes the result: subtract each column's "
            "maximum, a.max(axis=0, keepdims=True)",
            lambda i: C.softmax(i["a"], max_sub="row"),
            where=r"max\(",
        ),
    ]
    stable = [
        Mistake(
            "no_max_subtraction",
            "exponentiates the logits without subtracting each column's maximum first: e^1000 overflows "
            "to inf and inf/inf is NaN",
            lambda i: C.softmax(i["a"], max_sub=None),
            where=r"exp\(",
        ),
        Mistake(
            "global_max",
            "subtracts the maximum of the whole matrix, not of each column: a column whose logits all lie "
            "far below another column's maximum underflows to 0/0",
            lambda i: C.softmax(i["a"], max_sub="global"),
            where=r"max\(",
        ),
    ]
    return Spec(
        "softmax",
        ("a",),
        [
            Prop(
                "definition",
                "each column of softmax(a) is e^a / Σ e^a over that column (columns are samples)",
                "softmax.html",
                lambda: generic,
                lambda i: (i["a"],),
                lambda i: {"": softmax(i["a"])},
                mistakes=mistakes,
                probes=probes,
            ),
            Prop(
                "stable",
                "stable for logits of ±1000 (subtracting each column's maximum leaves the softmax unchanged)",
                "softmax.html",
                lambda: big,
                lambda i: (i["a"],),
                lambda i: {"": softmax(i["a"])},
                mistakes=stable + mistakes,
                probes=big_probes,
                after="definition",  # a wrong axis breaks both: report it once, under the definition
            ),
        ],
    )


def _softmaxp_spec():
    from ..softmax import softmax_jvp

    probes = [{"a": _grid(10, 3, 3), "e": _grid(10, 3, 4)}, {"a": _grid(10, 2, 5), "e": _grid(10, 2, 6)}]
    mistakes = [
        Mistake(
            "dropped_term",
            "drops the − ⟨g, e⟩ g term: returns g ⊙ e only (the diagonal of the Jacobian)",
            lambda i: C.softmaxp(i["a"], i["e"], term=False),
            where=r"return",
        ),
        Mistake(
            "wrong_sign",
            "has the wrong sign: returns ⟨g, e⟩ g − g ⊙ e",
            lambda i: C.softmaxp(i["a"], i["e"], sign=-1),
        ),
        Mistake(
            "inner_wrong_axis",
            "sums ⟨g, e⟩ along axis 1 (across samples) instead of axis 0 (within each column)",
            lambda i: C.softmaxp(i["a"], i["e"], axis=1),
            where=r"sum\(",
        ),
        Mistake(
            "inner_whole_matrix",
            "sums ⟨g, e⟩ over the whole matrix instead of over each column (axis=0, keepdims=True)",
            lambda i: C.softmaxp(i["a"], i["e"], axis=None),
            where=r"sum\(",
        ),
        Mistake(
            "inner_without_g",
            "uses Σ e instead of ⟨g, e⟩ = Σ g ⊙ e in the second term",
            lambda i: C.softmaxp(i["a"], i["e"], inner="ones"),
            where=r"sum\(",
        ),
        Mistake(
            "takes_probabilities",
            "treats its first argument as the probabilities g = softmax(a) instead of the logits a: "
            "softmaxp must apply softmax itself (and its callers pass a2, not y)",
            lambda i: C.softmaxp(i["a"], i["e"], input_is_g=True),
            where=r"^\s*\w+\s*=\s*a\b|return",
        ),
    ]
    return Spec(
        "softmaxp",
        ("a", "e"),
        [
            Prop(
                "jvp",
                "softmaxp(a, e) = g ⊙ e − ⟨g, e⟩ g with g = softmax(a), column by column",
                "",
                lambda: _columns(10, ["a", "e"]),
                lambda i: (i["a"], i["e"]),
                lambda i: {"": softmax_jvp(i["a"], i["e"])},
                identity="softmax_jvp_is_g_times_e_minus_inner_product",
                mistakes=mistakes,
                probes=probes,
                scale=lambda i: float(np.abs(i["e"]).max(initial=0)),
            )
        ],
    )


def _relu_specs():
    from ..relu import relu, relu_jvp

    st, _ = _st()
    kinky = st.one_of(st.just(0.0), _floats(-4, 4))
    probes = [
        {"a": np.array([[-1.5, 0.0, 2.0], [0.0, 3.0, -0.5], [1.0, -2.0, 0.0]]), "e": _grid(3, 3, 7)},
        {"a": np.array([[0.0, 1.0], [-1.0, 0.0]]), "e": np.array([[2.0, -1.0], [0.5, 3.0]])},
    ]
    relu_spec = Spec(
        "relu",
        ("a",),
        [
            Prop(
                "relu",
                "relu(a) = max(a, 0) elementwise",
                "relu.html",
                lambda: _columns(3, ["a"], kinky),
                lambda i: (i["a"],),
                lambda i: {"": relu(i["a"])},
                mistakes=[
                    Mistake(
                        "step",
                        "returns the step a > 0 (the derivative), not max(a, 0)",
                        lambda i: (i["a"] > 0) * 1.0,
                        where=r"return",
                    ),
                    Mistake(
                        "min",
                        "returns min(a, 0) instead of max(a, 0)",
                        lambda i: np.minimum(i["a"], 0),
                        where=r"min",
                    ),
                    Mistake(
                        "abs", "returns |a| instead of max(a, 0)", lambda i: np.abs(i["a"]), where=r"abs"
                    ),
                ],
                probes=[{"a": p["a"]} for p in probes],
            )
        ],
    )
    mistakes = [
        Mistake(
            "kink_one",
            "uses a >= 0: at the kink a = 0 the course's relup (and the proof) use H(0) = 0, i.e. a > 0",
            lambda i: C.relup(i["a"], i["e"], kink=1.0),
            where=r">=|heaviside",
        ),
        Mistake(
            "kink_half",
            "uses H(0) = 1/2 (np.heaviside(a, 0.5)): the course's relup uses H(0) = 0, i.e. a > 0",
            lambda i: C.relup(i["a"], i["e"], kink=0.5),
            where=r"heaviside",
        ),
        Mistake(
            "not_times_e",
            "returns the step H(a) alone: the directional derivative is H(a) ⊙ e",
            lambda i: C.relup(i["a"], i["e"], times_e=False),
            where=r"return",
        ),
        Mistake("wrong_sign", "has the wrong sign: returns −H(a) ⊙ e", lambda i: -C.relup(i["a"], i["e"])),
        Mistake(
            "swapped",
            "swaps its arguments: returns H(e) ⊙ a instead of H(a) ⊙ e",
            lambda i: C.relup(i["e"], i["a"]),
            where=r"return",
        ),
        Mistake(
            "relu_times_e",
            "returns relu(a) ⊙ e: the derivative of relu is the step H(a), not relu(a)",
            lambda i: np.maximum(i["a"], 0) * i["e"],
            where=r"return",
        ),
    ]
    relup_spec = Spec(
        "relup",
        ("a", "e"),
        [
            Prop(
                "heaviside",
                "relup(a, e) = H(a) ⊙ e with H(a) = [a > 0], so H(0) = 0 at the kink",
                "",
                lambda: _columns(3, ["a", "e"], kinky),
                lambda i: (i["a"], i["e"]),
                lambda i: {"": relu_jvp(i["a"], i["e"]).astype(np.float64)},
                identity="relu_derivative_is_heaviside_zero_at_kink",
                mistakes=mistakes,
                probes=probes,
            )
        ],
    )
    return [relu_spec, relup_spec]
