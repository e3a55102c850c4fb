r"""Checks of the minibatch loop: its step sizes, and its behaviour (which samples, in which order).

Non-goals: judging the learner's choice of B or γ.
"""

from __future__ import annotations

import numpy as np

from . import _course as C
from ._spec_base import (
    GAMMA,
    Mistake,
    Prop,
    Spec,
    _st,
    net_out,
)
from ._specs_net import _train_inputs, _update_mistakes


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
                        where=r"gamma|\blr\b|\beta\b",
                    ),
                    Mistake(
                        "divides_by_all",
                        "divides by N, the number of all samples, instead of B, the batch size",
                        mb(divide_by_all=True),
                        where=r"/\s*N\b|len\(",
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
        ],
    )
