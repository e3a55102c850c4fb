r"""What is checked for each course function: properties, identities, mistakes, probes.

Each :class:`Prop` is one claim about a function: either an identity of
:mod:`backproof.symbolic` (named by its ``name``) or a stated property (shape, dtype, range,
stability at logits of ±1000, a batch with a class absent, ...). It says how to generate
inputs (a Hypothesis strategy), what backproof's own functions give on them (the expected
value), and which known mistakes to try when the learner's output differs.

Non-goals: checking functions outside the course's list (use ``--map`` to rename).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import _course as C

# The page of the site that proves each identity; each proof carries a MyST label named after
# its identity, which Sphinx turns into the HTML id with "-" for "_" (see :func:`identity_link`).
IDENTITY_PAGES = {
    "softmax_jvp_is_g_times_e_minus_inner_product": "softmax.html",
    "cross_entropy_gradient_is_minus_d_over_y": "softmax.html",
    "fused_softmax_cross_entropy_gradient_is_y_minus_d": "softmax.html",
    "relu_derivative_is_heaviside_zero_at_kink": "relu.html",
    "network_backprop_equals_sympy_gradient": "backprop.html",
    "mean_loss_gradient_is_summed_gradient_over_n": "backprop.html",
}
TEXTBOOK_PAGE = "softmax.html#where-d-y-breaks"


def identity_link(name: str) -> str:
    r"""The relative URL of the proof of identity ``name`` on the site."""
    return f"{IDENTITY_PAGES[name]}#{name.replace('_', '-')}"


GAMMA = 0.1  # not the course's default 0.05, so a learner's hard-coded 0.05 shows


class Malformed(Exception):  # noqa: N818 - a verdict on the learner's output, not an error of ours
    r"""The learner's function returned something of the wrong kind or shape."""


@dataclass
class Mistake:
    key: str
    says: str
    formula: Callable[[dict], Any]
    identity: str | None = None  # the identity this mistake breaks, when not the property's


@dataclass
class Prop:
    key: str
    claim: str
    link: str
    strategy: Callable[[], Any]
    args: Callable[[dict], tuple]
    expected: Callable[[dict], Any]
    identity: str | None = None
    normalise: Callable[[Any], dict] = None  # type: ignore[assignment]
    base: Callable[[dict], dict] | None = None  # compare changes from this (for updates)
    mistakes: list[Mistake] = field(default_factory=list)
    probes: list[dict] = field(default_factory=list)
    examples: list[dict] = field(default_factory=list)
    max_examples: int = 30
    extra: Callable[[dict, dict], str | None] | None = None  # further check on the normalised output
    accept: Callable[[dict, dict], str | None] | None = None  # a correct variant: returns a note
    close: Callable[[dict, dict], bool] | None = None  # a comparison other than entry by entry
    close_says: str = "the statistics differ"  # what a failure of ``close`` means
    scale: Callable[[dict], float] | None = None  # size of the terms that cancel, for the tolerance
    after: str | None = None  # key of a property that must hold first (else this one says nothing new)

    def __post_init__(self):
        if self.normalise is None:
            self.normalise = single
        if self.identity:
            self.link = identity_link(self.identity)


@dataclass
class Spec:
    name: str
    params: tuple[str, ...]
    props: list[Prop]


# ---------------------------------------------------------------- output normalisation


def single(got) -> dict:
    if got is None:
        raise Malformed("returns None: is the return statement missing?")
    if isinstance(got, (tuple, list)) and any(np.ndim(v) > 0 for v in got):
        raise Malformed(f"returns a {type(got).__name__} of {len(got)} arrays, expected one array")
    try:
        return {"": np.asarray(got)}
    except Exception as exc:  # ragged lists and the like
        raise Malformed(f"returns {type(got).__name__}, not an array: {exc}") from None


def scalar(got) -> dict:
    arr = single(got)[""]
    if arr.size != 1:
        raise Malformed(f"returns an array of shape {arr.shape}, expected a single number")
    return {"": arr.reshape(())}


def last_of_tuple(got) -> dict:
    if isinstance(got, (tuple, list)) and len(got) and not isinstance(got, np.ndarray):
        return single(got[-1])  # (a1, h, a2, y): y is the last
    return single(got)


NET = ("W1", "b1", "W2", "b2")


def net_out(got) -> dict:
    if isinstance(got, (tuple, list)) and len(got) == 2 and isinstance(got[0], (tuple, list)):
        got = got[0]  # (net, history)
    if got is None:
        raise Malformed("returns None: is the return statement missing?")
    if not isinstance(got, (tuple, list)) or len(got) != 4:
        what = f"{len(got)} items" if isinstance(got, (tuple, list)) else type(got).__name__
        raise Malformed(f"returns {what}, expected the tuple (W1, b1, W2, b2)")
    return {k: np.asarray(v) for k, v in zip(NET, got)}


def shapes_out(got) -> dict:
    out = net_out(got)
    return {k: np.array(v.shape) for k, v in out.items()}


# ---------------------------------------------------------------- strategies


def _st():
    import hypothesis.strategies as st
    from hypothesis.extra.numpy import arrays

    return st, arrays


def _floats(lo=-8.0, hi=8.0):
    st, _ = _st()
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False, width=64)


def _matrix(rows, n, elements):
    _, arrays = _st()
    return arrays(np.float64, (rows, n), elements=elements)


def _columns(rows, names, elements=None, nmax=3):
    st, _ = _st()
    return st.integers(1, nmax).flatmap(
        lambda n: st.fixed_dictionaries(
            {k: _matrix(rows, n, _floats() if elements is None else elements) for k in names}
        )
    )


def _rng(seed):
    return np.random.default_rng(seed)


def net_inputs(N, Ni, Nh, seed, scale=1.0):
    rng = _rng(seed)
    x = rng.standard_normal((Ni, N))
    lbl = rng.integers(0, 10, N)
    d = np.zeros((10, N))
    d[lbl, np.arange(N)] = 1
    net = (
        rng.standard_normal((Nh, Ni)),
        rng.standard_normal((Nh, 1)),
        rng.standard_normal((10, Nh)) * scale,
        rng.standard_normal((10, 1)),
    )
    return {"x": x, "d": d, "net": net, "sizes": {"N": N, "Ni": Ni, "Nh": Nh, "seed": seed}}


def _nets(**fixed):
    st, _ = _st()
    draw = {
        "N": st.integers(1, 4),
        "Ni": st.integers(2, 5),
        "Nh": st.integers(1, 4),
        "seed": st.integers(0, 2**16),
    }
    draw.update({k: st.just(v) for k, v in fixed.items()})
    return st.fixed_dictionaries(draw).map(lambda s: net_inputs(**s))


def _probe_nets():
    # one square (Ni == Nh) so a transposed weight does not crash, one not square
    return [net_inputs(3, 3, 3, 101), net_inputs(2, 4, 3, 102)]


def _grid(rows, n, seed, lo=-3, hi=3):
    return _rng(seed).uniform(lo, hi, (rows, n))


# ---------------------------------------------------------------- the functions


def _normalize_specs():
    from ..preprocess import normalize

    st, arrays = _st()
    u8 = st.integers(1, 3).flatmap(
        lambda n: arrays(np.uint8, (784, n), elements=st.integers(0, 255)).map(lambda u: {"u": u})
    )
    probes = [{"u": _rng(s).integers(0, 256, (784, 2)).astype(np.uint8)} for s in (1, 2)]
    ex = {"u": np.tile(np.array([0, 255, 128, 200], np.uint8), 196)[:, None]}

    def dtype_check(got, inputs):
        dt = got[""].dtype
        return None if dt == np.float32 else f"dtype is {dt}, expected float32 (the course's images)"

    mistakes = [
        Mistake(
            "over_255", "divides by 255 only: the values are in [0, 1], not [−1, 1]", lambda i: i["u"] / 255
        ),
        Mistake(
            "uint8_overflow",
            "computes 2*x on the uint8 array, which wraps around above 127; convert to float32 first",
            lambda i: (2 * i["u"]).astype(np.uint8) / 255 - 1,
        ),
        Mistake(
            "float64",
            "the values are right but in float64; return x.astype(np.float32)",
            lambda i: 2 * i["u"].astype(np.float64) / 255 - 1,
        ),
        Mistake("no_shift", "forgets the − 1: the values are in [0, 2]", lambda i: 2 * i["u"] / 255),
    ]
    return Spec(
        "normalize_MNIST_images",
        ("x",),
        [
            Prop(
                "normalize",
                "maps uint8 grey levels u to float32 2u/255 − 1, in [−1, 1]",
                "data.html#normalisation",
                lambda: u8,
                lambda i: (i["u"],),
                lambda i: {"": normalize(i["u"])},
                mistakes=mistakes,
                probes=probes,
                examples=[ex],
                max_examples=10,
                extra=dtype_check,
            )
        ],
    )


def _onehot_specs():
    from ..preprocess import one_hot, one_hot_to_labels

    st, arrays = _st()
    labels = st.integers(1, 6).flatmap(
        lambda n: arrays(np.int64, (n,), elements=st.integers(0, 9)).map(lambda v: {"lbl": v})
    )
    probes = [{"lbl": np.array([3, 1, 4, 1, 5])}, {"lbl": np.array([9, 0, 2])}]

    def sized(k):
        def f(i):
            lbl = i["lbl"]
            n = {"max": lbl.max() + 1, "unique": len(np.unique(lbl))}[k]
            d = np.zeros((n, lbl.size))
            d[np.searchsorted(np.unique(lbl), lbl) if k == "unique" else lbl, np.arange(lbl.size)] = 1
            return d

        return f

    l2o = Spec(
        "label2onehot",
        ("lbl",),
        [
            Prop(
                "one_hot",
                "labels (N,) → one-hot (10, N), column n has its 1 in row lbl[n], also when some classes "
                "are absent from the batch",
                "data.html#one-hot-targets",
                lambda: labels,
                lambda i: (i["lbl"],),
                lambda i: {"": one_hot(i["lbl"], 10, dtype=np.float64)},
                mistakes=[
                    Mistake(
                        "sized_by_max",
                        "sizes the matrix by the largest label present (lbl.max() + 1), not by the 10 "
                        "classes: "
                        "a batch without a 9 gets fewer rows",
                        sized("max"),
                    ),
                    Mistake(
                        "sized_by_unique",
                        "sizes the matrix by the number of distinct labels present, not by the 10 classes",
                        sized("unique"),
                    ),
                    Mistake(
                        "transposed",
                        "returns (N, 10): samples must be columns, (10, N)",
                        lambda i: one_hot(i["lbl"], 10, dtype=np.float64).T,
                    ),
                ],
                probes=probes,
                examples=[{"lbl": np.array([0, 1, 2])}],
            )
        ],
    )
    onehots = st.integers(1, 6).flatmap(
        lambda n: arrays(np.int64, (n,), elements=st.integers(0, 9)).map(
            lambda v: {"d": one_hot(v, 10, dtype=np.float64)}
        )
    )
    o2l = Spec(
        "onehot2label",
        ("d",),
        [
            Prop(
                "argmax",
                "one-hot (10, N) → labels (N,): the row of each column's 1",
                "data.html#one-hot-targets",
                lambda: onehots,
                lambda i: (i["d"],),
                lambda i: {"": one_hot_to_labels(i["d"])},
                mistakes=[
                    Mistake(
                        "wrong_axis",
                        "takes the argmax along axis 1 (over samples) instead of axis 0 "
                        "(over the 10 classes)",
                        lambda i: np.argmax(i["d"], axis=1),
                    )
                ],
                probes=[{"d": one_hot(p["lbl"], 10, dtype=np.float64)} for p in probes],
                examples=[{"d": one_hot(np.array([3, 1]), 10, dtype=np.float64)}],
            )
        ],
    )
    return [l2o, o2l]


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
        ),
        Mistake(
            "wrong_axis",
            "sums along axis 1 (across samples) instead of axis 0: each column must sum to 1",
            lambda i: C.softmax(i["a"], sum_axis=1),
        ),
        Mistake(
            "global_sum",
            "divides by the sum over the whole matrix, not by each column's sum (use axis=0, keepdims=True)",
            lambda i: C.softmax(i["a"], axis=None, max_sub="global"),
        ),
        Mistake(
            "row_max",
            "subtracts each row's maximum (axis=1), which changes the result: subtract each column's "
            "maximum, a.max(axis=0, keepdims=True)",
            lambda i: C.softmax(i["a"], max_sub="row"),
        ),
    ]
    stable = [
        Mistake(
            "no_max_subtraction",
            "exponentiates the logits without subtracting each column's maximum first: e^1000 overflows "
            "to inf and inf/inf is NaN",
            lambda i: C.softmax(i["a"], max_sub=None),
        ),
        Mistake(
            "global_max",
            "subtracts the maximum of the whole matrix, not of each column: a column whose logits all lie "
            "far below another column's maximum underflows to 0/0",
            lambda i: C.softmax(i["a"], max_sub="global"),
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
        ),
        Mistake(
            "inner_whole_matrix",
            "sums ⟨g, e⟩ over the whole matrix instead of over each column (axis=0, keepdims=True)",
            lambda i: C.softmaxp(i["a"], i["e"], axis=None),
        ),
        Mistake(
            "inner_without_g",
            "uses Σ e instead of ⟨g, e⟩ = Σ g ⊙ e in the second term",
            lambda i: C.softmaxp(i["a"], i["e"], inner="ones"),
        ),
        Mistake(
            "takes_probabilities",
            "treats its first argument as the probabilities g = softmax(a) instead of the logits a: "
            "softmaxp must apply softmax itself (and its callers pass a2, not y)",
            lambda i: C.softmaxp(i["a"], i["e"], input_is_g=True),
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
                    ),
                    Mistake("min", "returns min(a, 0) instead of max(a, 0)", lambda i: np.minimum(i["a"], 0)),
                    Mistake("abs", "returns |a| instead of max(a, 0)", lambda i: np.abs(i["a"])),
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
        ),
        Mistake(
            "kink_half",
            "uses H(0) = 1/2 (np.heaviside(a, 0.5)): the course's relup uses H(0) = 0, i.e. a > 0",
            lambda i: C.relup(i["a"], i["e"], kink=0.5),
        ),
        Mistake(
            "not_times_e",
            "returns the step H(a) alone: the directional derivative is H(a) ⊙ e",
            lambda i: C.relup(i["a"], i["e"], times_e=False),
        ),
        Mistake("wrong_sign", "has the wrong sign: returns −H(a) ⊙ e", lambda i: -C.relup(i["a"], i["e"])),
        Mistake(
            "swapped",
            "swaps its arguments: returns H(e) ⊙ a instead of H(a) ⊙ e",
            lambda i: C.relup(i["e"], i["a"]),
        ),
        Mistake(
            "relu_times_e",
            "returns relu(a) ⊙ e: the derivative of relu is the step H(a), not relu(a)",
            lambda i: np.maximum(i["a"], 0) * i["e"],
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


def _init_spec():
    st, _ = _st()

    def shape_exp(i):
        Ni, Nh, No = i["sizes"]
        return {
            "W1": np.array([Nh, Ni]),
            "b1": np.array([Nh, 1]),
            "W2": np.array([No, Nh]),
            "b2": np.array([No, 1]),
        }

    def shapes_of(f):
        return lambda i: shapes_out(f(i))

    sizes = st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(2, 10)).map(lambda s: {"sizes": s})
    probes = [{"sizes": (7, 5, 10)}, {"sizes": (3, 4, 2)}]

    def init_mistake(**kw):
        return lambda i: C.init_shallow(*i["sizes"], _rng(0), **kw)

    shape_mistakes = [
        Mistake(
            "flat_bias",
            "returns biases of shape (Nh,) and (No,): the course's biases are columns, (Nh, 1) and (No, 1), "
            "so that W1 @ x + b1 adds b1 to every column",
            shapes_of(init_mistake(bias_shape="flat")),
        ),
        Mistake(
            "row_bias",
            "returns biases as rows (1, Nh): they must be columns (Nh, 1)",
            shapes_of(init_mistake(bias_shape="row")),
        ),
        Mistake(
            "transposed",
            "returns W1 of shape (Ni, Nh) and W2 of shape (Nh, No): with columns as samples W1 is (Nh, Ni)",
            lambda i: {
                **shapes_of(init_mistake())(i),
                "W1": np.array(i["sizes"][:2]),
                "W2": np.array(i["sizes"][1:]),
            },
        ),
    ]

    def stats(out: dict) -> dict:
        l1 = np.concatenate([np.ravel(out["W1"]), np.ravel(out["b1"])])
        l2 = np.concatenate([np.ravel(out["W2"]), np.ravel(out["b2"])])
        return {
            "std layer 1": np.array(l1.std()),
            "std layer 2": np.array(l2.std()),
            "mean layer 1": np.array(l1.mean()),
            "mean layer 2": np.array(l2.mean()),
        }

    def stats_of(f):
        return lambda i: stats(net_out(f(i)))

    scale_mistakes = [
        Mistake(
            "unscaled",
            "draws N(0, 1) without the course's scaling 1/√((Ni+1)/2) and 1/√(Nh+1)",
            stats_of(init_mistake(scale="none")),
        ),
        Mistake(
            "no_sqrt",
            "scales by 1/((Ni+1)/2) instead of 1/√((Ni+1)/2): the square root is missing",
            stats_of(init_mistake(scale="no_sqrt")),
        ),
        Mistake(
            "times", "multiplies by √((Ni+1)/2) instead of dividing", stats_of(init_mistake(scale="times"))
        ),
        Mistake(
            "uniform",
            "draws from the uniform [0, 1) (np.random.rand) instead of the Gaussian (randn)",
            stats_of(init_mistake(dist="uniform")),
        ),
    ]

    def close_stats(got, ref):
        for layer in (1, 2):
            s, e = float(got[f"std layer {layer}"]), float(ref[f"std layer {layer}"])
            m, mr = float(got[f"mean layer {layer}"]), float(ref[f"mean layer {layer}"])
            if not 0.8 * e <= s <= 1.25 * e or abs(m - mr) > 0.25 * e:
                return False
        return True

    def reference(i):
        from ..network import init_shallow

        p = init_shallow(*i["sizes"], seed=0, dtype=np.float64)
        return stats({"W1": p.W1, "b1": p.b1, "W2": p.W2, "b2": p.b2})

    return Spec(
        "init_shallow",
        ("Ni", "Nh", "No"),
        [
            Prop(
                "shapes",
                "returns (W1, b1, W2, b2) of shapes (Nh, Ni), (Nh, 1), (No, Nh), (No, 1)",
                "course.html",
                lambda: sizes,
                lambda i: tuple(int(v) for v in i["sizes"]),
                shape_exp,
                normalise=shapes_out,
                close=lambda g, e: all(tuple(g[k]) == tuple(e[k]) for k in NET),
                close_says="the shapes differ",
                mistakes=shape_mistakes,
                probes=probes,
                max_examples=10,
            ),
            Prop(
                "scale",
                "layer 1 drawn from N(0, 1/((Ni+1)/2)), layer 2 from N(0, 1/(Nh+1)) (standard deviations "
                "within 20 %, means near 0, on Ni = 784, Nh = 64, No = 10)",
                "course.html",
                lambda: _st()[0].just({"sizes": (784, 64, 10)}),
                lambda i: tuple(i["sizes"]),
                reference,
                normalise=lambda got: stats(net_out(got)),
                close=close_stats,
                probes=[{"sizes": (784, 64, 10)}],
                mistakes=scale_mistakes,
                max_examples=1,
                extra=None,
            ),
        ],
    )


def _forward_spec():
    mistakes = [
        Mistake(
            "no_relu",
            "leaves out the ReLU: h = W1 x + b1 must be h = relu(W1 x + b1)",
            lambda i: C.forward(i["x"], i["net"], relu_on=False),
        ),
        Mistake(
            "returns_logits",
            "returns the logits a2 = W2 h + b2 without the softmax",
            lambda i: C.forward(i["x"], i["net"], output="a2"),
        ),
    ]
    return Spec(
        "forwardprop_shallow",
        ("x", "net"),
        [
            Prop(
                "forward",
                "y = softmax(W2 relu(W1 x + b1) + b2), shape (10, N)",
                "backprop.html",
                lambda: _nets(),
                lambda i: (i["x"], i["net"]),
                lambda i: {"": C.ref_forward(i["x"], i["net"])},
                normalise=last_of_tuple,
                mistakes=mistakes,
                probes=_probe_nets(),
                max_examples=20,
            )
        ],
    )


def _loss_specs():
    from ..loss import misclassification
    from ..softmax import softmax

    st, _ = _st()

    def yd(N, seed):
        rng = _rng(seed)
        y = softmax(rng.standard_normal((10, N)) * 2)
        lbl = rng.integers(0, 10, N)
        d = np.zeros((10, N))
        d[lbl, np.arange(N)] = 1
        return {"y": y, "d": d, "lbl": lbl}

    draw = st.tuples(st.integers(1, 5), st.integers(0, 2**16)).map(lambda t: yd(*t))
    probes = [yd(4, 11), yd(3, 12)]

    def loss_of(f):
        return lambda i: {"": np.array(f(i["y"], i["d"]))}

    def per_sample(got, i):
        # mean over samples (backproof's convention) is a valid loss, 10 times the course's
        if np.isclose(float(got[""]), 10 * C.ref_loss(i["y"], i["d"]), rtol=1e-5):
            return (
                "eval_loss averages over the N samples, not over all 10·N entries as the course does: a "
                "valid loss, but its numbers are 10 times the course's"
            )
        return None

    loss = Spec(
        "eval_loss",
        ("y", "d"),
        [
            Prop(
                "loss",
                "the course's loss: the mean of −d log y over all 10·N entries",
                identity_link("cross_entropy_gradient_is_minus_d_over_y"),
                lambda: draw,
                lambda i: (i["y"], i["d"]),
                lambda i: {"": np.array(C.ref_loss(i["y"], i["d"]))},
                normalise=scalar,
                accept=per_sample,
                mistakes=[
                    Mistake(
                        "sum",
                        "sums −d log y without dividing by 10·N",
                        loss_of(lambda y, d: -(d * np.log(y)).sum()),
                    ),
                    Mistake(
                        "wrong_sign",
                        "has the wrong sign: the loss −d log y is positive",
                        loss_of(lambda y, d: (d * np.log(y)).mean()),
                    ),
                    Mistake(
                        "no_d",
                        "averages −log y over every entry, forgetting to multiply by d",
                        loss_of(lambda y, d: -np.log(y).mean()),
                    ),
                    Mistake(
                        "log10",
                        "uses log10 instead of the natural logarithm",
                        loss_of(lambda y, d: -(d * np.log10(y)).mean()),
                    ),
                ],
                probes=probes,
            )
        ],
    )
    perfs = Spec(
        "eval_perfs",
        ("y", "lbl"),
        [
            Prop(
                "perfs",
                "the percentage of columns whose largest entry is not at the label",
                "results.html",
                lambda: draw,
                lambda i: (i["y"], i["lbl"]),
                lambda i: {"": np.array(misclassification(i["y"], i["lbl"]))},
                normalise=scalar,
                mistakes=[
                    Mistake(
                        "fraction",
                        "returns a fraction in [0, 1], not a percentage",
                        lambda i: {"": np.array(misclassification(i["y"], i["lbl"]) / 100)},
                    ),
                    Mistake(
                        "accuracy",
                        "returns the percentage of correct answers, not of errors",
                        lambda i: {"": np.array(100 - misclassification(i["y"], i["lbl"]))},
                    ),
                ],
                probes=probes,
            )
        ],
    )
    return [loss, perfs]


def _update_mistakes(kind="update"):
    def f(**kw):
        if kind == "update":
            return lambda i: net_out(C.update(i["x"], i["d"], i["net"], GAMMA, **kw))
        return lambda i, kw=kw: net_out(C.train(i["x"], i["d"], i["net"], i["T"], GAMMA, **kw))

    mean_id = "mean_loss_gradient_is_summed_gradient_over_n"
    return [
        Mistake(
            "missing_1_over_N",
            "steps by γ ∇ instead of (γ/N) ∇: the 1/N is missing, so the step is N times too large",
            f(divide="1"),
            identity=mean_id,
        ),
        Mistake(
            "divides_by_pixels",
            "divides by x.shape[0] (the number of pixels) instead of x.shape[1] (the number N of samples)",
            f(divide="Ni"),
            identity=mean_id,
        ),
        Mistake(
            "ascent",
            "climbs the gradient: updates with + (W + γ/N ∇), or, equivalently, uses δ2 = d − y",
            f(sign=1),
            identity="fused_softmax_cross_entropy_gradient_is_y_minus_d",
        ),
        Mistake(
            "softmaxp_on_y",
            "passes the probabilities y instead of the logits a2 to softmaxp: δ2 = softmaxp(y, −d/y) "
            "where softmaxp(a2, −d/y) is meant",
            f(delta2="jvp_on_y"),
            identity="softmax_jvp_is_g_times_e_minus_inner_product",
        ),
        Mistake("no_relup", "leaves out relup: δ1 = relup(a1, W2ᵀ δ2), not W2ᵀ δ2", f(relup_on=False)),
        Mistake(
            "relup_swapped",
            "swaps relup's arguments: δ1 = relup(a1, W2ᵀ δ2), not relup(W2ᵀ δ2, a1)",
            f(relup_swapped=True),
            identity="relu_derivative_is_heaviside_zero_at_kink",
        ),
        Mistake(
            "transposed_W1",
            "transposes the weight gradient: ∇W1 = δ1 xᵀ (shape (Nh, Ni)), not x δ1ᵀ",
            f(transpose_W1=True),
        ),
        Mistake(
            "a1_in_W2", "uses a1 (before the ReLU) instead of h = relu(a1) in ∇W2 = δ2 hᵀ", f(h_in_W2="a1")
        ),
        Mistake(
            "bias_mean",
            "averages the bias gradients over the batch and then divides by N again: ∇b = δ 1 is a sum",
            f(bias="mean"),
            identity=mean_id,
        ),
    ]


def _update_spec():
    return Spec(
        "update_shallow",
        ("x", "d", "net", "gamma"),
        [
            Prop(
                "step",
                f"returns net − (γ/N) ∇E summed over the batch, with the gradient of the network "
                f"(γ = {GAMMA})",
                "",
                lambda: _nets(),
                lambda i: (i["x"], i["d"], i["net"], GAMMA),
                lambda i: net_out(C.ref_update(i["x"], i["d"], i["net"], GAMMA)),
                identity="network_backprop_equals_sympy_gradient",
                normalise=net_out,
                base=lambda i: net_out(i["net"]),
                mistakes=_update_mistakes(),
                probes=_probe_nets(),
                max_examples=20,
            ),
            Prop(
                "duplicated",
                "a batch of k copies of one sample gives the step of that sample alone: the mean "
                f"gradient (1/N) Σ ∇E_n does not change when every sample is repeated (γ = {GAMMA})",
                "",
                lambda: _duplicated(),
                lambda i: (i["x"], i["d"], i["net"], GAMMA),
                lambda i: net_out(C.ref_update(i["x"][:, :1], i["d"][:, :1], i["net"], GAMMA)),
                identity="mean_loss_gradient_is_summed_gradient_over_n",
                normalise=net_out,
                base=lambda i: net_out(i["net"]),
                mistakes=[
                    m
                    for m in _update_mistakes()
                    if m.identity == "mean_loss_gradient_is_summed_gradient_over_n"
                ],
                probes=[_repeat(net_inputs(1, 3, 3, 121), 3), _repeat(net_inputs(1, 4, 2, 122), 2)],
                max_examples=10,
            ),
        ],
    )


def _repeat(i: dict, k: int) -> dict:
    i = dict(i)
    i["x"], i["d"] = np.repeat(i["x"], k, axis=1), np.repeat(i["d"], k, axis=1)
    i["sizes"] = {**i["sizes"], "N": k, "copies of one sample": k}
    return i


def _duplicated():
    st, _ = _st()
    return st.tuples(_nets(N=1), st.integers(2, 4)).map(lambda t: _repeat(*t))


def _train_inputs(T, **kw):
    i = net_inputs(**kw)
    i["T"] = T
    i["sizes"] = {**i["sizes"], "T": T}
    return i


def _backprop_spec():
    st, _ = _st()
    draw = st.tuples(
        st.integers(1, 3), st.integers(1, 3), st.integers(2, 4), st.integers(1, 3), st.integers(0, 2**16)
    )
    inputs = draw.map(lambda t: _train_inputs(t[0], N=t[1], Ni=t[2], Nh=t[3], seed=t[4]))
    probes = [_train_inputs(3, N=3, Ni=3, Nh=3, seed=201), _train_inputs(2, N=2, Ni=4, Nh=3, seed=202)]
    mistakes = [
        *_update_mistakes("train"),
        Mistake(
            "one_step_short",
            "does T − 1 updates instead of T (range(1, T))",
            lambda i: net_out(C.train(i["x"], i["d"], i["net"], i["T"], GAMMA, steps=i["T"] - 1)),
        ),
        Mistake(
            "returns_input",
            "returns the net it was given: the result of update_shallow is not assigned back "
            "(net = update_shallow(x, d, net, gamma))",
            lambda i: net_out(i["net"]),
        ),
        Mistake(
            "one_step",
            "does a single update whatever T is (the new net is not fed to the next step)",
            lambda i: net_out(C.train(i["x"], i["d"], i["net"], i["T"], GAMMA, steps=1)),
        ),
    ]
    return Spec(
        "backprop_shallow",
        ("x", "d", "net", "T", "gamma"),
        [
            Prop(
                "train",
                f"T full-batch steps net ← net − (γ/N) ∇E (γ = {GAMMA})",
                "",
                lambda: inputs,
                lambda i: (i["x"], i["d"], i["net"], i["T"], GAMMA),
                lambda i: net_out(C.train(i["x"], i["d"], i["net"], i["T"], GAMMA, ref=True)),
                identity="network_backprop_equals_sympy_gradient",
                normalise=net_out,
                base=lambda i: net_out(i["net"]),
                mistakes=mistakes,
                probes=probes,
                max_examples=12,
            )
        ],
    )


def _minibatch_spec():
    st, _ = _st()

    def same_columns(T, B, k, Ni, Nh, seed):
        i = _train_inputs(T, N=1, Ni=Ni, Nh=Nh, seed=seed)
        N = B * k
        i["x"], i["d"] = np.repeat(i["x"], N, axis=1), np.repeat(i["d"], N, axis=1)
        i["B"] = B
        i["sizes"] = {**i["sizes"], "N": N, "B": B}
        return i

    draw = st.tuples(
        st.integers(1, 2),
        st.integers(1, 3),
        st.integers(1, 3),
        st.integers(2, 4),
        st.integers(1, 3),
        st.integers(0, 2**16),
    )
    inputs = draw.map(lambda t: same_columns(*t))
    probes = [same_columns(2, 2, 3, 3, 3, 301), same_columns(1, 3, 2, 4, 2, 302)]

    def mb(**kw):
        return lambda i: net_out(
            C.train_minibatch_same_columns(i["x"], i["d"], i["net"], i["T"], i["B"], GAMMA, **kw)
        )

    def reference(i):
        return net_out(
            C.train_minibatch_same_columns(i["x"], i["d"], i["net"], i["T"], i["B"], GAMMA, ref=True)
        )

    def full(i):
        return net_out(C.train(i["x"], i["d"], i["net"], i["T"], GAMMA, ref=True))

    def full_batch(T, N, Ni, Nh, seed):
        i = _train_inputs(T, N=N, Ni=Ni, Nh=Nh, seed=seed)
        i["B"] = N
        i["sizes"] = {**i["sizes"], "B": N}
        return i

    fb = st.tuples(
        st.integers(1, 2), st.integers(1, 4), st.integers(2, 4), st.integers(1, 3), st.integers(0, 2**16)
    )
    return Spec(
        "backprop_minibatch_shallow",
        ("x", "d", "net", "T", "B", "gamma"),
        [
            Prop(
                "one_batch",
                f"with B = N, T epochs are T full-batch steps, whatever the shuffle (γ = {GAMMA})",
                "",
                lambda: fb.map(lambda t: full_batch(*t)),
                lambda i: (i["x"], i["d"], i["net"], i["T"], i["B"], GAMMA),
                full,
                identity="network_backprop_equals_sympy_gradient",
                normalise=net_out,
                base=lambda i: net_out(i["net"]),
                mistakes=_update_mistakes("train"),
                probes=[full_batch(2, 3, 3, 3, 311), full_batch(1, 2, 4, 3, 312)],
                max_examples=10,
            ),
            Prop(
                "epochs",
                f"T epochs of N/B steps net ← net − (γ/B) ∇E over each batch of B samples (checked on data "
                f"whose columns are equal, so the shuffle cannot matter; γ = {GAMMA})",
                "",
                lambda: inputs,
                lambda i: (i["x"], i["d"], i["net"], i["T"], i["B"], GAMMA),
                reference,
                identity="mean_loss_gradient_is_summed_gradient_over_n",
                normalise=net_out,
                base=lambda i: net_out(i["net"]),
                mistakes=[
                    Mistake(
                        "missing_1_over_N",
                        "steps by γ ∇ instead of (γ/B) ∇: the 1/B is missing, so the step "
                        "is B times too large",
                        mb(no_1_over_B=True),
                    ),
                    Mistake(
                        "divides_by_all",
                        "divides by N, the number of all samples, instead of B, the batch size",
                        mb(divide_by_all=True),
                    ),
                    Mistake(
                        "T_steps",
                        "does T minibatch steps in all instead of T epochs of N/B steps each",
                        lambda i: net_out(
                            C.train_minibatch_same_columns(
                                i["x"], i["d"], i["net"], i["T"], i["B"], GAMMA, steps_per_epoch=1
                            )
                        ),
                        identity="network_backprop_equals_sympy_gradient",
                    ),
                ],
                probes=probes,
                max_examples=10,
            ),
        ],
    )


def specs() -> list[Spec]:
    r"""Every course function's checks, in the course's order."""
    return [
        _normalize_specs(),
        *_onehot_specs(),
        _softmax_spec(),
        _softmaxp_spec(),
        *_relu_specs(),
        _init_spec(),
        _forward_spec(),
        *_loss_specs(),
        _update_spec(),
        _backprop_spec(),
        _minibatch_spec(),
    ]


COURSE_FUNCTIONS = (
    "normalize_MNIST_images",
    "label2onehot",
    "onehot2label",
    "softmax",
    "softmaxp",
    "relu",
    "relup",
    "init_shallow",
    "forwardprop_shallow",
    "eval_loss",
    "eval_perfs",
    "update_shallow",
    "backprop_shallow",
    "backprop_minibatch_shallow",
)


_SPECS: list[Spec] | None = None


def specs_cache() -> list[Spec]:
    r"""The specs, built once per process (building imports Hypothesis)."""
    global _SPECS
    if _SPECS is None:
        _SPECS = specs()
    return _SPECS
