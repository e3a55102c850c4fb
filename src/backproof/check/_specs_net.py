r"""Checks of the network: initialisation, forward pass, one update and the full-batch loop.

Non-goals: networks deeper than the course's 784 → 64 → 10 (the checks use tiny sizes).
"""

from __future__ import annotations

import numpy as np

from . import _course as C
from ._spec_base import (
    GAMMA,
    NET,
    Misbehaves,
    Mistake,
    Prop,
    Spec,
    _nets,
    _probe_nets,
    _rng,
    _st,
    last_of_tuple,
    net_inputs,
    net_out,
    shapes_out,
)


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
            where=r"\(\s*N[ho]\s*\)|\(\s*N[ho]\s*,\s*\)",
        ),
        Mistake(
            "row_bias",
            "returns biases as rows (1, Nh): they must be columns (Nh, 1)",
            shapes_of(init_mistake(bias_shape="row")),
            where=r"\(\s*1\s*,\s*N[ho]",
        ),
        Mistake(
            "transposed",
            "returns W1 of shape (Ni, Nh) and W2 of shape (Nh, No): with columns as samples W1 is (Nh, Ni)",
            lambda i: {
                **shapes_of(init_mistake())(i),
                "W1": np.array(i["sizes"][:2]),
                "W2": np.array(i["sizes"][1:]),
            },
            where=r"zeros|\.T",
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
            "he_output",
            "scales the output layer like the hidden one, by √(2/(Nh+1)) (He), as the handout does: the "
            "course's 1/√(Nh+1) suits the softmax layer, which has no ReLU; the first logits come out √2 "
            "times larger, which training absorbs, so nothing breaks, but the start differs",
            stats_of(init_mistake(scale="he_output")),
            course=True,
            breaks_on={"sizes": (784, 64, 10)},
        ),
        Mistake(
            "unscaled",
            "draws N(0, 1) without the course's scaling 1/√((Ni+1)/2) and 1/√(Nh+1)",
            stats_of(init_mistake(scale="none")),
            where=r"randn|normal",
        ),
        Mistake(
            "no_sqrt",
            "scales by 1/((Ni+1)/2) instead of 1/√((Ni+1)/2): the square root is missing",
            stats_of(init_mistake(scale="no_sqrt")),
            where=r"/\s*\(\(?N",
        ),
        Mistake(
            "times",
            "multiplies by √((Ni+1)/2) instead of dividing",
            stats_of(init_mistake(scale="times")),
            where=r"\*\s*np\.sqrt",
        ),
        Mistake(
            "uniform",
            "draws from the uniform [0, 1) (np.random.rand) instead of the Gaussian (randn)",
            stats_of(init_mistake(dist="uniform")),
            where=r"rand\(|uniform",
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
            where=r"a1",
        ),
        Mistake(
            "returns_logits",
            "returns the logits a2 = W2 h + b2 without the softmax",
            lambda i: C.forward(i["x"], i["net"], output="a2"),
            where=r"return",
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
            where=r"gamma|\blr\b|\beta\b",
        ),
        Mistake(
            "divides_by_pixels",
            "divides by x.shape[0] (the number of pixels) instead of x.shape[1] (the number N of samples)",
            f(divide="Ni"),
            identity=mean_id,
            where=r"shape\[0\]",
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
            where=r"softmaxp\(\s*y",
        ),
        Mistake("no_relup", "leaves out relup: δ1 = relup(a1, W2ᵀ δ2), not W2ᵀ δ2", f(relup_on=False)),
        Mistake(
            "relup_swapped",
            "swaps relup's arguments: δ1 = relup(a1, W2ᵀ δ2), not relup(W2ᵀ δ2, a1)",
            f(relup_swapped=True),
            identity="relu_derivative_is_heaviside_zero_at_kink",
            where=r"relup\(",
        ),
        Mistake(
            "transposed_W1",
            "transposes the weight gradient: ∇W1 = δ1 xᵀ (shape (Nh, Ni)), not x δ1ᵀ",
            f(transpose_W1=True),
            where=r"x\s*@|x\.dot|\.T\.T",
        ),
        Mistake(
            "a1_in_W2",
            "uses a1 (before the ReLU) instead of h = relu(a1) in ∇W2 = δ2 hᵀ",
            f(h_in_W2="a1"),
            where=r"a1\.T",
        ),
        Mistake(
            "bias_mean",
            "averages the bias gradients over the batch and then divides by N again: ∇b = δ 1 is a sum",
            f(bias="mean"),
            identity=mean_id,
            where=r"mean\(",
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
            where=r"range\(",
        ),
        Mistake(
            "returns_input",
            "returns the net it was given: the result of update_shallow is not assigned back "
            "(net = update_shallow(x, d, net, gamma))",
            lambda i: net_out(i["net"]),
            where=r"update_shallow\(",
        ),
        Mistake(
            "one_step",
            "does a single update whatever T is (the new net is not fed to the next step)",
            lambda i: net_out(C.train(i["x"], i["d"], i["net"], i["T"], GAMMA, steps=1)),
            where=r"update_shallow\(",
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
            ),
            Prop(
                "loss_falls",
                "the loss falls on a separable set (8 samples, 2 classes, 60 full-batch steps, γ = 0.5)",
                "results.html#the-two-loops",
                lambda: None,
                lambda i: (),
                lambda i: {},
                normalise=net_out,
                behaviour=_loss_falls_full_batch,
                after="train",
            ),
        ],
    )


def _loss_falls_full_batch(call):
    return loss_falls(call, minibatch=False)


# ---------------------------------------------------------------- the loss falls (both loops)

SEPARABLE_N, SEPARABLE_T, SEPARABLE_GAMMA = 8, 15, 0.5


def _separable(seed: int = 403) -> dict:
    rng = np.random.default_rng(seed)
    N = SEPARABLE_N
    lbl = np.arange(N) % 2
    x = np.where(lbl == 0, 2.0, -2.0)[None, :] * np.ones((2, 1)) + 0.3 * rng.standard_normal((2, N))
    d = np.zeros((10, N))
    d[lbl, np.arange(N)] = 1
    net = (
        0.5 * rng.standard_normal((4, 2)),
        np.zeros((4, 1)),
        0.5 * rng.standard_normal((10, 4)),
        np.zeros((10, 1)),
    )
    return {"x": x, "d": d, "net": net, "sizes": {"N": N, "Ni": 2, "Nh": 4, "classes": 2}}


def loss_falls(call, minibatch: bool):
    r"""Trains the learner's loop on 8 well separated samples of 2 classes; the course's loss must
    fall to less than half of where it started."""
    i = _separable()
    T = SEPARABLE_T if minibatch else 4 * SEPARABLE_T
    args = (
        (i["x"], i["d"], i["net"], T, 2, SEPARABLE_GAMMA)
        if minibatch
        else (i["x"], i["d"], i["net"], T, SEPARABLE_GAMMA)
    )
    inputs = {**i, "T": T, "gamma": SEPARABLE_GAMMA, **({"B": 2} if minibatch else {})}
    try:
        got = call(args, 0)
    except Misbehaves as exc:
        return (str(exc), inputs, [], [], None)
    before = C.ref_loss(C.ref_forward(i["x"], i["net"]), i["d"])
    after = C.ref_loss(C.ref_forward(i["x"], tuple(got[k] for k in NET)), i["d"])
    if np.isfinite(after) and after < before / 2:
        return None
    return (
        "the loss does not fall on a separable set",
        inputs,
        [f"loss below {before / 2:.4g} (half of {before:.4g}, where it starts)"],
        [f"loss = {after:.4g}"],
        None,
    )
