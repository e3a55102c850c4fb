r"""What a check is made of: properties, mistakes, output normalisation, input strategies.

Each :class:`Prop` is one claim about a function: either an identity of
:mod:`backproof.symbolic` (named by its ``name``) or a stated property (shape, dtype, range,
stability at logits of ±1000, a batch with a class absent, ...). It says how to generate
inputs (a Hypothesis strategy), what backproof's own functions give on them (the expected
value), and which known mistakes to try when the learner's output differs. A :class:`Mistake`
marked ``course=True`` is a convention or a fragility of the course's own handout: matching it
gives the verdict "differs from the course", never "wrong".

The course functions' checks are in :mod:`._specs_data` (preprocessing, loss),
:mod:`._specs_layers` (softmax, ReLU), :mod:`._specs_net` (initialisation, forward, update,
full-batch loop) and :mod:`._specs_train` (the minibatch loop, checked by behaviour);
:mod:`._specs` lists them.

Non-goals: checking functions outside the course's list (use ``--map`` to rename).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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
    # a convention or fragility of the course's own handout: "differs from the course", not "wrong"
    course: bool = False
    breaks_on: dict | None = None  # for a course convention: an input on which it breaks
    where: str | None = None  # a regular expression for the learner's line that shows the mistake


@dataclass
class Prop:
    key: str
    claim: str
    link: str
    strategy: Callable[[], Any]
    args: Callable[[dict], tuple]
    expected: Callable[[dict], Any]
    identity: str | None = None
    normalise: Callable[[Any], dict] = None  # type: ignore[assignment]  # None: __post_init__ puts `single`
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
    # a course convention seen on a correct output (float64, ...): a "differs" note, not a failure
    convention: Callable[[dict, dict], str | None] | None = None
    convention_key: str = "convention"  # the catalogue's key for it
    # a check by behaviour: given ``call(args, seed)`` (the learner's normalised output, or raises
    # :class:`Misbehaves`), returns None, a note (it holds), or
    # ``(problem, inputs, expected lines, got lines, mistake)``
    behaviour: Callable[[Callable], tuple | None] | None = None

    def __post_init__(self):
        if self.normalise is None:
            self.normalise = single
        if self.identity:
            self.link = identity_link(self.identity)


class Misbehaves(Exception):  # noqa: N818 - the learner's call did not return a usable value
    r"""Raised by the ``call`` given to a behaviour check when the learner's function fails."""


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
