r"""Checks of the minibatch loop: its step sizes, and its behaviour (which samples, in which order).

Non-goals: judging the learner's choice of B or γ.
"""

from __future__ import annotations

import numpy as np

from . import _course as C
from ._spec_base import (
    GAMMA,
    Misbehaves,
    Mistake,
    Prop,
    Spec,
    _st,
    net_inputs,
    net_out,
)
from ._specs_net import SEPARABLE_GAMMA, SEPARABLE_N, SEPARABLE_T, _train_inputs, _update_mistakes, loss_falls

_EMPTY_LAST_BATCH = (
    "makes one batch too many when B divides N (range(N // B + 1)): the last batch is empty and its "
    "update divides by 0"
)
_EMPTY_WHERE = r"//\s*B\s*\+\s*1|\+\s*1\s*\)"


def _divide_by_zero(i):
    raise ZeroDivisionError("float division by zero")


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
                mistakes=[
                    *_update_mistakes("train"),
                    Mistake("empty_last_batch", _EMPTY_LAST_BATCH, _divide_by_zero, where=_EMPTY_WHERE),
                ],
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
                        where=r"gamma|\blr\b|\beta\b",
                    ),
                    Mistake(
                        "divides_by_all",
                        "divides by N, the number of all samples, instead of B, the batch size",
                        mb(divide_by_all=True),
                        where=r"/\s*N\b|len\(",
                    ),
                    Mistake(
                        "empty_last_batch",
                        _EMPTY_LAST_BATCH,
                        _divide_by_zero,
                        where=_EMPTY_WHERE,
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
                        where=r"range\(",
                    ),
                ],
                probes=probes,
                max_examples=10,
            ),
            Prop(
                "visits",
                "each epoch visits every sample once, in an order that changes from epoch to epoch; B "
                "dividing N gives N/B updates per epoch; a last, smaller batch is used or dropped "
                "(checked on real shuffles of distinct samples, where the order changes the result)",
                "results.html#the-two-loops",
                lambda: None,
                lambda i: (),
                lambda i: {},
                normalise=net_out,
                behaviour=visits,
                mistakes=list(
                    _VISIT_MISTAKES.values()
                ),  # diagnosed by visits itself, listed for the catalogue
                after="epochs",
            ),
            Prop(
                "loss_falls",
                f"the loss falls on a small separable set (N = {SEPARABLE_N}, B = 2, {SEPARABLE_T} epochs, "
                f"γ = {SEPARABLE_GAMMA})",
                "results.html#the-two-loops",
                lambda: None,
                lambda i: (),
                lambda i: {},
                normalise=net_out,
                behaviour=lambda call: loss_falls(call, minibatch=True),
                after="visits",
            ),
        ],
    )


# ---------------------------------------------------------------- checks by behaviour

ORDER_GAMMA = 0.5  # large steps: a different order gives a clearly different net


def _distinct(N: int, seed: int) -> dict:
    r"""N distinct samples of distinct classes and a net: updates in another order give another net."""
    i = net_inputs(N, 3, 3, seed)
    i["d"] = np.zeros((10, N))
    i["d"][np.arange(N) % 10, np.arange(N)] = 1
    return i


def _run(i: dict, batches: list[list[int]]):
    net = i["net"]
    for b in batches:
        net = C.ref_update(i["x"][:, b], i["d"][:, b], net, ORDER_GAMMA)
    return net


def _epochs(N: int, B: int, drop_last: bool) -> list[tuple[tuple[int, ...], ...]]:
    r"""Every distinct epoch of batches from a permutation of N samples (batch order kept, order
    within a batch ignored: the update sums over it)."""
    import itertools

    seen: dict = {}
    for perm in itertools.permutations(range(N)):
        cuts = range(0, N - N % B if drop_last else N, B)
        epoch = tuple(tuple(sorted(perm[k : k + B])) for k in cuts)
        seen.setdefault(epoch, None)
    return list(seen)


def _same(got: dict, net) -> bool:
    r"""Equal to float32 accuracy: another schedule differs by more than 0.05 (see the tests)."""
    exp = net_out(net)
    return all(
        got[k].shape == exp[k].shape
        and np.allclose(got[k], exp[k], rtol=1e-4, atol=1e-4 * max(1.0, float(np.abs(exp[k]).max(initial=0))))
        for k in exp
    )


def _match(got: dict, i: dict, schedules) -> list:
    return [s for s in schedules if _same(got, _run(i, [list(b) for e in s for b in e]))]


def _show(s) -> str:
    return " | ".join(" ".join(str(list(b)) for b in e) for e in s)


def _inputs(i: dict, T: int, B: int) -> dict:
    out = {**i, "T": T, "B": B, "gamma": ORDER_GAMMA}
    out["sizes"] = {**i["sizes"], "T": T, "B": B, "gamma": ORDER_GAMMA}
    return out


_VISIT_MISTAKES = {
    "never_shuffles": Mistake(
        "never_shuffles",
        "visits the samples in their stored order 0, 1, …, N−1 in every epoch: no shuffle reaches the "
        "batches (a permutation computed but not used to index x and d?)",
        lambda i: None,
        where=r"permutation|shuffle",
    ),
    "same_order": Mistake(
        "same_order",
        "visits the samples in the same shuffled order in every epoch: the permutation is drawn once, "
        "or with the same seed each epoch, instead of anew in each epoch",
        lambda i: None,
        where=r"permutation|shuffle|seed",
    ),
    "with_replacement": Mistake(
        "with_replacement",
        "draws each batch at random with replacement (np.random.choice or randint): in an epoch some "
        "samples come twice and others never; shuffle once per epoch and cut the permutation into batches",
        lambda i: None,
        where=r"choice|randint",
    ),
    "empty_last_batch": Mistake(
        "empty_last_batch", _EMPTY_LAST_BATCH + ", so the net becomes NaN", lambda i: None, where=_EMPTY_WHERE
    ),
}


def visits(call) -> tuple | str | None:
    r"""Which samples the learner's minibatch loop visits, in which order, found from its result.

    On N distinct samples with large steps every schedule of batches gives its own net, so the
    schedule is read off the learner's result by trying them all (T = 2 epochs of 3 samples,
    B = 1: 36 schedules). Four runs with different NumPy seeds; an order that never changes
    between the two epochs is wrong (a real shuffle repeats with probability 1/6 per run).
    """
    import itertools

    i3 = _distinct(3, 401)
    one = _epochs(3, 1, False)
    two_epochs = list(itertools.product(one, one))
    orders = []
    for seed in (0, 1, 2, 3):
        args = (i3["x"], i3["d"], i3["net"], 2, 1, ORDER_GAMMA)
        inputs = _inputs(i3, 2, 1)
        try:
            got = call(args, seed)
        except Misbehaves as exc:
            return (str(exc), inputs, [], [], None)
        found = _match(got, i3, two_epochs)
        if not found:
            anywhere = [tuple((k,) for k in e) for e in itertools.product(range(3), repeat=3)]
            replaced = _match(got, i3, itertools.product(anywhere, anywhere))
            mistake = _VISIT_MISTAKES["with_replacement"] if replaced else None
            seen = [f"visited: {_show(replaced[0])}"] if replaced else []
            return (
                "no schedule of 2 epochs, each visiting the 3 samples once (B = 1), gives your result",
                inputs,
                ["each epoch: the 3 samples, each once, in some order"],
                seen,
                mistake,
            )
        orders.append(found[0])
    if all(a == b for a, b in orders):
        identity = all(a == ((0,), (1,), (2,)) for a, _ in orders)
        mistake = _VISIT_MISTAKES["never_shuffles" if identity else "same_order"]
        return (
            "the order does not change between epochs, in any of 4 runs with different seeds",
            _inputs(i3, 2, 1),
            ["epoch 1 and epoch 2 in different orders (in most runs)"],
            [f"seed {s}: {_show(o)}" for s, o in zip((0, 1, 2, 3), orders)],
            mistake,
        )
    # B divides N: N/B updates per epoch, B distinct samples each
    i4 = _distinct(4, 402)
    inputs = _inputs(i4, 1, 2)
    try:
        got = call((i4["x"], i4["d"], i4["net"], 1, 2, ORDER_GAMMA), 0)
    except Misbehaves as exc:
        return (str(exc), inputs, [], [], None)
    if not _match(got, i4, [(e,) for e in _epochs(4, 2, False)]):
        nan = any(np.isnan(v).any() for v in got.values())
        return (
            "with N = 4 and B = 2, one epoch is not 2 updates of 2 distinct samples each",
            inputs,
            ["2 updates, on 2 samples each, every sample once"],
            ["NaN in the result"] if nan else [],
            _VISIT_MISTAKES["empty_last_batch"] if nan else None,
        )
    # B does not divide N: the last, smaller batch is used (N = 3, B = 2: batches of 2 and 1) or dropped
    # (a note, not a failure)
    inputs = _inputs(i3, 1, 2)
    try:
        got = call((i3["x"], i3["d"], i3["net"], 1, 2, ORDER_GAMMA), 0)
    except Misbehaves as exc:
        return (str(exc), inputs, [], [], None)
    used = _match(got, i3, [(e,) for e in _epochs(3, 2, False)])
    if not used and _match(got, i3, [(e,) for e in _epochs(3, 2, True)]):
        return (
            "when B does not divide N, each epoch drops the last N mod B samples of its shuffle "
            "(range(N // B)): fine, since the shuffle changes which ones, but say so if you mean it"
        )
    if not used:
        return (
            "with N = 3 and B = 2, one epoch is neither a batch of 2 then the last sample alone, nor a "
            "batch of 2 with the last, smaller batch dropped",
            inputs,
            ["batches of 2 and 1 samples, or of 2 samples (last one dropped)"],
            [],
            None,
        )
    return None
