r"""The whole shallow network: backprop equals SymPy's gradient, and one training step.

SymPy builds the tiny network 4 → 3 (ReLU) → 3 (softmax) with a batch of 2 from symbols,
with :math:`h = M \odot a_1` on the linear region given by the activation pattern
:math:`M` (each entry 0 or 1), and differentiates its summed loss. Backprop's formulas
must equal those derivatives (proved), and realistic wrong backprop formulas (a missing
transpose, :math:`a_1` in place of :math:`h`, ...) are refuted at a random rational point
with :math:`M \in \{0, 1\}`.

The training step is stated about what the code does: with the summed loss of a batch of
:math:`B`, the update is :math:`\theta - (\gamma/B)\nabla_\theta \sum_s E_s`, the gradient
step on the mean loss; checked against :class:`backproof.kernel.Kernel` and
:func:`backproof.train_full_batch`.

Non-goals: deeper networks (see the layer lemmas); other losses.
"""

from __future__ import annotations

import functools

import numpy as np
import sympy as sp

from .chain import DEFINITION, Chain, Step
from .engine import register
from .identity_base import Check, Identity, Link, Variant
from .notation import Defines, Had, Step0, nc
from .softmax_identities import softmax_vector

__all__ = ["TINY", "TINY_LABELS", "tiny_network"]

TINY = {"Ni": 4, "Nh": 3, "No": 3, "N": 2}
TINY_LABELS = (0, 2)


def _matrix(name, rows, cols):
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r + 1}{c + 1}", real=True))


@functools.lru_cache(maxsize=1)
def tiny_network() -> dict:
    r"""SymPy's tiny shallow network (4 → 3 → 3, batch 2): symbols, loss and both gradients.

    Returns a dict with the parameter matrices ``params`` (``W1, b1, W2, b2``), the
    inputs ``x``, the activation pattern ``M`` (symbols standing for :math:`[a_1 > 0]`),
    the targets ``d``, the summed loss ``E`` with :math:`h = M \odot a_1` and ``E_relu``
    with :math:`h = \max(a_1, 0)`, SymPy's gradients of ``E`` (``sympy``) and of
    ``E_relu`` (``sympy_relu``), backprop's formulas (``backprop``) and the
    intermediate ``a1``, ``h``, ``delta1``, ``delta2``; ``dE`` holds the unevaluated
    derivatives of ``E``, which the proof chains start from.
    """
    Ni, Nh, No, N = TINY["Ni"], TINY["Nh"], TINY["No"], TINY["N"]
    W1, W2 = _matrix("w1", Nh, Ni), _matrix("w2", No, Nh)
    b1 = sp.Matrix([sp.Symbol(f"b1_{r + 1}", real=True) for r in range(Nh)])
    b2 = sp.Matrix([sp.Symbol(f"b2_{r + 1}", real=True) for r in range(No)])
    x, M = _matrix("x", Ni, N), _matrix("m", Nh, N)
    d = sp.Matrix(No, N, lambda r, c: 1 if TINY_LABELS[c] == r else 0)
    ones = sp.ones(1, N)

    def loss(h_of):
        a1 = W1 * x + b1 * ones
        h = h_of(a1)
        a2 = W2 * h + b2 * ones
        E = 0
        for c in range(N):
            lse = sp.log(sum(sp.exp(a2[r, c]) for r in range(No)))
            E += -sum(d[r, c] * (a2[r, c] - lse) for r in range(No))
        return E, a1, h, a2

    E, a1, h, a2 = loss(lambda a1: M.multiply_elementwise(a1))
    E_relu, *_ = loss(lambda a1: a1.applyfunc(lambda v: sp.Max(v, 0)))
    y = sp.Matrix.hstack(*[softmax_vector(a2[:, c]) for c in range(N)])
    delta2 = y - d
    delta1 = M.multiply_elementwise(W2.T * delta2)
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    backprop = {
        "W1": delta1 * x.T,
        "b1": delta1 * sp.ones(N, 1),
        "W2": delta2 * h.T,
        "b2": delta2 * sp.ones(N, 1),
    }
    sympy_grads = {k: P.applyfunc(lambda p, E=E: sp.diff(E, p)) for k, P in params.items()}
    unevaluated = {k: P.applyfunc(lambda p, E=E: sp.Derivative(E, p)) for k, P in params.items()}
    relu_grads = {k: P.applyfunc(lambda p: sp.diff(E_relu, p)) for k, P in params.items()}
    return dict(
        params=params,
        x=x,
        M=M,
        d=d,
        E=E,
        E_relu=E_relu,
        sympy=sympy_grads,
        dE=unevaluated,
        backprop=backprop,
        sympy_relu=relu_grads,
        a1=a1,
        h=h,
        y=y,
        delta1=delta1,
        delta2=delta2,
    )


# --------------------------------------------------------------------------- numeric checks


@functools.lru_cache(maxsize=1)
def _network_refs():
    net = tiny_network()
    P = net["params"]
    symbols = [*P["W1"], *P["b1"], *P["W2"], *P["b2"], *net["x"]]
    return {k: sp.lambdify([symbols], v, "numpy") for k, v in net["sympy_relu"].items()}


def _tiny_point(rng, dtype):
    from ..network import Parameters
    from ..preprocess import one_hot

    Ni, Nh, No, N = (TINY[k] for k in ("Ni", "Nh", "No", "N"))
    p = Parameters(
        rng.standard_normal((Nh, Ni)),
        rng.standard_normal(Nh),
        rng.standard_normal((No, Nh)),
        rng.standard_normal(No),
    ).astype(dtype)
    x = rng.standard_normal((Ni, N)).astype(dtype)
    while np.min(np.abs(p.W1 @ x + p.b1[:, None])) < 1e-2:  # stay away from the kink
        x = rng.standard_normal((Ni, N)).astype(dtype)
    d = one_hot(np.array(TINY_LABELS), No, dtype=dtype)
    return p, x, d


def sympy_network_grads(p, x) -> dict:
    r"""SymPy's gradients of the summed loss of the tiny network at ``p``, ``x`` (float64)."""
    point = [
        *p.W1.ravel().astype(float),
        *p.b1.astype(float),
        *p.W2.ravel().astype(float),
        *p.b2.astype(float),
        *x.ravel().astype(float),
    ]
    return {
        k: np.array(f(point), dtype=float).reshape(getattr(p, k).shape) for k, f in _network_refs().items()
    }


def _check_network(dtype):
    def check(rng):
        from ..network import backprop
        from . import _accuracy as V
        from . import _numeric as X

        errs = []
        for _ in range(3):
            p, x, d = _tiny_point(rng, dtype)
            ref = sympy_network_grads(p, x)
            got = backprop(p, x, d).arrays()
            errs.append(X.worst(V.col_rel_error(got[k], ref[k]) for k in ref))
        return X.worst(errs)

    return check


def _fd_network(rng):
    from ..loss import cross_entropy
    from ..network import backprop, forward
    from . import _accuracy as V
    from . import _numeric as X

    p, x, d = _tiny_point(rng, np.float64)
    N = x.shape[1]
    grads = backprop(p, x, d)
    errs = []
    for name, value in p.arrays().items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + 1e-6
            up = cross_entropy(forward(p, x).y, d)
            value[idx] = old - 1e-6
            down = cross_entropy(forward(p, x).y, d)
            value[idx] = old
            numeric[idx] = (up - down) / 2e-6 * N  # cross_entropy is the mean; the summed loss is N times it
        errs.append(V.rel_error(getattr(grads, name), numeric))
    return X.worst(errs)


def _check_training_step(dtype, how):
    r"""One training step of the code against :math:`\theta - (\gamma/B)\nabla\sum_s E_s` from SymPy."""

    def check(rng):
        from ..training import train_full_batch, train_minibatch
        from . import _accuracy as V
        from . import _numeric as X

        gamma = 0.3
        errs = []
        for _ in range(2):
            p, x, _ = _tiny_point(rng, dtype)
            B = x.shape[1]
            labels = np.array(TINY_LABELS)
            ref = sympy_network_grads(p, x)
            expected = {k: v.astype(np.float64) - gamma / B * ref[k] for k, v in p.arrays().items()}
            if how == "minibatch":  # one batch of B: the update W <- W - (gamma / B) nabla_W
                q = train_minibatch(x, labels, epochs=1, batch_size=B, lr=gamma, params=p.copy()).params
            else:
                q = train_full_batch(x, labels, iterations=1, lr=gamma, params=p.copy()).params
            # relative to the step itself: the error of theta_new - theta against (gamma/B) grad
            for k, v in q.arrays().items():
                moved = v.astype(np.float64) - getattr(p, k).astype(np.float64)
                errs.append(
                    V.col_rel_error(
                        moved.reshape(v.shape[0], -1), (expected[k] - getattr(p, k)).reshape(v.shape[0], -1)
                    )
                )
        return X.worst(errs)

    return check


# --------------------------------------------------------------------------- identities


@register(order=13)
def _network() -> Identity:
    net = tiny_network()
    choices = {m: (0, 1) for m in net["M"]}
    chains = [
        Chain(
            f"$\\partial E / \\partial {name[0]}_{name[1]}$ "
            "for 4 inputs, 3 hidden units, 3 classes, a batch of 2",
            [Step(net["dE"][name]), Step(net["backprop"][name], "SymPy differentiates; backprop's formula")],
            size="Ni = 4, Nh = 3, No = 3, N = 2",
            show_latex=False,
            choices=choices,
        )
        for name in ("W2", "b2", "W1", "b1")
    ]
    W2T, x_T, hT, a1, y, d, d1, d2, one = nc(
        r"W_2^{\top}", r"x^{\top}", r"h^{\top}", "a_1", "y", "d", r"\delta_1", r"\delta_2", r"\mathbf{1}"
    )
    nab = {k: sp.Symbol(rf"\nabla_{{{k[0]}_{k[1]}}}", commutative=False) for k in ("W2", "b2", "W1", "b1")}
    statement = sp.Tuple(
        Defines(d2, sp.Add(y, -d, evaluate=False), evaluate=False),
        sp.Eq(nab["W2"], d2 * hT, evaluate=False),
        sp.Eq(nab["b2"], d2 * one, evaluate=False),
        Defines(d1, Had(Step0(a1), W2T * d2), evaluate=False),
        sp.Eq(nab["W1"], d1 * x_T, evaluate=False),
        sp.Eq(nab["b1"], d1 * one, evaluate=False),
    )
    N = TINY["N"]
    # what the shown symbols stand for on the linear region with pattern M (H(a_1) = M there)
    meaning = {
        d2: net["delta2"],
        y: net["y"],
        d: net["d"],
        hT: net["h"].T,
        x_T: net["x"].T,
        W2T: net["params"]["W2"].T,
        d1: net["delta1"],
        one: sp.ones(N, 1),
        **{nab[k]: net["dE"][k] for k in nab},
    }
    M = net["M"]
    step_meaning = {**meaning, Step0(a1): M}  # on a linear region, H(a_1) is its pattern M
    delta_chain = Chain(
        "the definition $\\delta_2 \\coloneqq y - d$ (identity 6 proves it is $\\partial E / \\partial a_2$)",
        [Step(net["delta2"]), Step(net["y"] - net["d"], "definition of $\\delta_2$", DEFINITION)],
        size="Ni = 4, Nh = 3, No = 3, N = 2",
        show_latex=False,
    )
    mask_chain = Chain(
        "the definition $\\delta_1 \\coloneqq M \\odot W_2^\\top \\delta_2$ on the region with pattern $M$",
        [
            Step(net["delta1"]),
            Step(
                M.multiply_elementwise(net["params"]["W2"].T * net["delta2"]),
                "definition of $\\delta_1$",
                DEFINITION,
            ),
        ],
        size="Ni = 4, Nh = 3, No = 3, N = 2",
        show_latex=False,
    )
    h = net["h"]
    W2, dlt2, dlt1, x = net["params"]["W2"], net["delta2"], net["delta1"], net["x"]
    a1m = net["a1"]
    return Identity(
        "network_backprop_equals_sympy_gradient",
        "Backprop through the whole shallow network equals SymPy's derivatives",
        [*chains, delta_chain, mask_chain],
        statement=statement,
        links=[
            Link(delta_chain.title, meaning, 0),
            Link(chains[0].title, meaning, 1),
            Link(chains[1].title, meaning, 2),
            Link(mask_chain.title, step_meaning, 3),
            Link(chains[2].title, meaning, 4),
            Link(chains[3].title, meaning, 5),
        ],
        assumptions=[
            "away from the ReLU kink (on each linear region, "
            "$\\operatorname{relu}(a_1) = M \\odot a_1$ with $M$ constant, each entry 0 or 1)"
        ],
        variants=[
            Variant("a_for_h", "$\\delta_2 a_1^\\top$: $a_1$ in place of $h$", dlt2 * a1m.T, chains[0].title),
            Variant("flipped_sign", "$\\delta_2 = d - y$", -(dlt2 * sp.ones(N, 1)), chains[1].title),
            Variant(
                "missing_transpose",
                "$\\delta_1 = H(a_1) \\odot W_2 \\delta_2$: $W_2$ not transposed",
                M.multiply_elementwise(W2 * dlt2) * x.T,
                chains[2].title,
            ),
            Variant(
                "mask_dropped",
                "$\\delta_1 = W_2^\\top \\delta_2$: ReLU's derivative dropped",
                (W2.T * dlt2) * x.T,
                chains[2].title,
            ),
            Variant(
                "divided_by_N", "$\\delta_2 h^\\top / N$ for the summed loss", dlt2 * h.T / N, chains[0].title
            ),
            Variant(
                "wrong_axis",
                "$\\nabla_{b_1}$ summed over hidden units, not samples",
                (sp.ones(1, dlt1.rows) * dlt1).T,
                chains[3].title,
            ),
        ],
        checks=[
            Check("float64 vs SymPy", "float64", _check_network(np.float64)),
            Check("float32 vs SymPy", "float32", _check_network(np.float32)),
            Check("finite differences", "fd", _fd_network),
        ],
        implements="backprop",
    )


@register(order=14)
def _training_step() -> Identity:
    B = sp.Symbol("B", integer=True, positive=True)
    s = sp.Symbol("s", integer=True, positive=True)
    theta = sp.Symbol(r"\theta", real=True)
    gamma = sp.Symbol(r"\gamma", positive=True)
    Es = sp.Function("E")(s, theta)
    mean_step = theta - gamma * sp.Derivative(sp.Sum(Es, (s, 1, B)) / B, theta)
    general = Chain(
        "any batch size $B$, any parameter $\\theta$",
        [
            Step(mean_step),
            Step(
                theta - gamma / B * sp.Sum(sp.Derivative(Es, theta), (s, 1, B)), "differentiation is linear"
            ),
            Step(
                theta - gamma / B * sp.Derivative(sp.Sum(Es, (s, 1, B)), theta),
                "linearity again: the gradient of the summed loss",
            ),
        ],
    )
    net = tiny_network()
    gam = sp.Symbol(r"\gamma", positive=True)
    N = TINY["N"]
    W2, b2 = net["params"]["W2"], net["params"]["b2"]
    tiny = Chain(
        "the tiny network, $B = 2$: $W_2$ and $b_2$ after one step",
        [
            Step(sp.Matrix.vstack(W2 - gam * net["dE"]["W2"] / N, (b2 - gam * net["dE"]["b2"] / N).T)),
            Step(
                sp.Matrix.vstack(
                    W2 - gam / N * net["backprop"]["W2"], (b2 - gam / N * net["backprop"]["b2"]).T
                ),
                "identity 8, scaled by $\\gamma / B$ as kernel.Kernel does",
            ),
        ],
        size="Ni = 4, Nh = 3, No = 3, B = 2",
        show_latex=False,
        choices={m: (0, 1) for m in net["M"]},
    )
    summed = theta - gamma * sp.Sum(sp.Derivative(Es, theta), (s, 1, B))
    return Identity(
        "mean_loss_gradient_is_summed_gradient_over_n",
        "One training step is θ − (γ/B)·∇ of the summed loss: the gradient step on the mean loss "
        "(any B by linearity; the training code is checked numerically, and at B = 2 through identity 13)",
        [general, tiny],
        variants=[
            Variant("missing_1_over_B", "$\\theta - \\gamma \\nabla \\sum_s E_s$", summed),
            Variant(
                "divided_twice",
                "$\\gamma / B^2$",
                theta - gamma / B**2 * sp.Derivative(sp.Sum(Es, (s, 1, B)), theta),
            ),
            Variant(
                "ascent",
                "$\\theta + (\\gamma/B) \\nabla \\sum_s E_s$",
                theta + gamma / B * sp.Derivative(sp.Sum(Es, (s, 1, B)), theta),
            ),
            Variant(
                "kernel_without_1_over_B",
                "the tiny network's step without $1/B$",
                sp.Matrix.vstack(W2 - gam * net["backprop"]["W2"], (b2 - gam * net["backprop"]["b2"]).T),
                tiny.title,
            ),
        ],
        checks=[
            Check(
                "train_minibatch, one batch, float64",
                "float64",
                _check_training_step(np.float64, "minibatch"),
            ),
            Check(
                "train_minibatch, one batch, float32",
                "float32",
                _check_training_step(np.float32, "minibatch"),
            ),
            Check(
                "train_full_batch, one step, vs SymPy", "float64", _check_training_step(np.float64, "full")
            ),
        ],
        implements="train_minibatch",
    )
