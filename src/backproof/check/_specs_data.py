r"""Checks of the data functions: normalisation, one-hot labels, the loss and the error rate.

Non-goals: checking the loading of MNIST itself (the learner's loader is not a course function).
"""

from __future__ import annotations

import numpy as np

from . import _course as C
from ._spec_base import (
    Mistake,
    Prop,
    Spec,
    _rng,
    _st,
    identity_link,
    scalar,
)


def _normalize_specs():
    from ..preprocess import normalize

    st, arrays = _st()
    u8 = st.integers(1, 3).flatmap(
        lambda n: arrays(np.uint8, (784, n), elements=st.integers(0, 255)).map(lambda u: {"u": u})
    )
    probes = [{"u": _rng(s).integers(0, 256, (784, 2)).astype(np.uint8)} for s in (1, 2)]
    probes.append({"u": _rng(3).integers(20, 200, (784, 2)).astype(np.uint8)})  # faint: no 0, no 255
    ex = {"u": np.tile(np.array([0, 255, 128, 200], np.uint8), 196)[:, None]}

    def dtype_check(got, inputs):
        dt = got[""].dtype
        if dt.kind == "f" and dt.itemsize >= 4:
            return None
        return f"dtype is {dt}, expected float32 (the course's images)"

    def float64(got, inputs):
        if got[""].dtype == np.float64:
            return (
                "returns float64: the values are right, but the course's images are float32 "
                "(x.astype(np.float32)); in float64 the 60000 training images take 376 MB instead of 188 MB"
            )
        return None

    def minmax(axis):
        def f(i):
            u = i["u"].astype(np.float64)
            lo, hi = u.min(axis=axis, keepdims=True), u.max(axis=axis, keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                return 2 * (u - lo) / (hi - lo) - 1

        return f

    constant = {"u": np.zeros((784, 1), np.uint8)}
    mistakes = [
        Mistake(
            "over_255",
            "divides by 255 only: the values are in [0, 1], not [−1, 1]",
            lambda i: i["u"] / 255,
            where=r"/\s*255",
        ),
        Mistake(
            "uint8_overflow",
            "computes 2*x on the uint8 array, which wraps around above 127; convert to float32 first",
            lambda i: (2 * i["u"]).astype(np.uint8) / 255 - 1,
            where=r"2\s*\*",
        ),
        Mistake(
            "minmax",
            "scales by the smallest and largest grey level present (min-max scaling), as the handout does: "
            "equal to 2u/255 − 1 on MNIST, where every batch has a 0 and a 255, but 0/0 = NaN on a constant "
            "image (this one, all black) and stretched on a faint one",
            minmax(None),
            course=True,
            breaks_on=constant,
            where=r"\.min\(|\.max\(|min\(|max\(",
        ),
        Mistake(
            "minmax_per_image",
            "scales each image by its own smallest and largest grey level (min-max per image), as the "
            "handout does: equal to 2u/255 − 1 on an image with a 0 and a 255, but 0/0 = NaN on a constant "
            "image (this one, all black) and stretched on a faint one",
            minmax(0),
            course=True,
            breaks_on=constant,
            where=r"\.min\(|\.max\(|min\(|max\(",
        ),
        Mistake(
            "no_shift", "forgets the − 1: the values are in [0, 2]", lambda i: 2 * i["u"] / 255, where=r"255"
        ),
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
                convention=float64,
                convention_key="float64",
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
                        "sizes the matrix by the largest label present (lbl.max() + 1), as the handout does, "
                        "not by the 10 classes: fine on the whole training set, which has every digit, "
                        "wrong on a batch or a test set without a 9",
                        sized("max"),
                        course=True,
                        breaks_on={"lbl": np.array([0, 1, 2])},
                        where=r"max\(",
                    ),
                    Mistake(
                        "sized_by_unique",
                        "sizes the matrix by the number of distinct labels present, not by the 10 classes",
                        sized("unique"),
                        where=r"unique",
                    ),
                    Mistake(
                        "transposed",
                        "returns (N, 10): samples must be columns, (10, N)",
                        lambda i: one_hot(i["lbl"], 10, dtype=np.float64).T,
                        where=r"zeros|\.T",
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
                        where=r"axis\s*=\s*1",
                    )
                ],
                probes=[{"d": one_hot(p["lbl"], 10, dtype=np.float64)} for p in probes],
                examples=[{"d": one_hot(np.array([3, 1]), 10, dtype=np.float64)}],
            )
        ],
    )
    return [l2o, o2l]


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
                        where=r"sum\(",
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
                        where=r"log",
                    ),
                    Mistake(
                        "log10",
                        "uses log10 instead of the natural logarithm",
                        loss_of(lambda y, d: -(d * np.log10(y)).mean()),
                        where=r"log10",
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
                        where=r"mean|/",
                    ),
                    Mistake(
                        "accuracy",
                        "returns the percentage of correct answers, not of errors",
                        lambda i: {"": np.array(100 - misclassification(i["y"], i["lbl"]))},
                        where=r"==",
                    ),
                ],
                probes=probes,
            )
        ],
    )
    return [loss, perfs]
