r"""The 3-layer cross-check: backprop through a whole explicit network equals SymPy's derivatives.

Identity ``three_layer_backprop_equals_sympy_gradient``: backprop's formulas equal SymPy's
derivatives of the whole explicit network 3 → 2 → 2 → 3 with an undefined activation
:math:`\sigma`, for **one sample at that size only** (like identity 8 for the shallow network).

Non-goals: any other size (the recursion theorem of :mod:`.recursion` is the general statement).
"""

from __future__ import annotations

import functools

import sympy as sp

from .chain import Chain, Step
from .identity_base import Identity, Link, Variant
from .indexed import _checks, defn, rewrite
from .notation import Had, nc
from .symbols import _u, sigma


class SigmaPrimeOf(sp.Function):
    r""":math:`\sigma'(a_l)`, a display head; a Link gives its meaning (:math:`\sigma'` at each entry)."""

    def _latex(self, printer, exp=None):
        return rf"\sigma'\left({printer._print(self.args[0])}\right)"


THREE_LAYER_SIZES = (3, 2, 2, 3)  # n_0 .. n_3: two hidden layers, 3 classes
THREE_LAYER_LABEL = 0  # the batch is one sample, of class 0


@functools.lru_cache(maxsize=1)
def three_layer_network() -> dict:
    r"""SymPy's explicit 3-layer network (3 → 2 → 2 → 3, one sample), activation an undefined :math:`\sigma`.

    Returns the parameters ``W1, b1, ..., W3, b3``, ``x``, ``d``, the pre-activations ``a`` and
    activations ``h`` (lists, ``h[0] = x``), ``y``, the recursion's ``delta`` and ``sigma_prime``
    (dicts by layer), backprop's formulas ``backprop`` and SymPy's derivatives ``dE`` of the loss
    :math:`E = -\sum_k d_k \log y_k` (by layer name).
    """
    sizes, N = THREE_LAYER_SIZES, 1
    L = len(sizes) - 1
    W = [
        sp.Matrix(sizes[k + 1], sizes[k], lambda i, j, k=k: sp.Symbol(f"w{k + 1}_{i}{j}", real=True))
        for k in range(L)
    ]
    b = [
        sp.Matrix(sizes[k + 1], 1, lambda i, j, k=k: sp.Symbol(f"b{k + 1}_{i}", real=True)) for k in range(L)
    ]
    x = sp.Matrix(sizes[0], N, lambda i, j: sp.Symbol(f"x_{i}{j}", real=True))
    d = sp.Matrix(sizes[-1], N, lambda i, j: 1 if i == THREE_LAYER_LABEL else 0)
    hs, acts = [x], []
    for k in range(L):
        acts.append(W[k] * hs[-1] + b[k] * sp.ones(1, N))
        if k < L - 1:
            hs.append(acts[-1].applyfunc(sigma))
    top = acts[-1]
    lse = sp.log(sum(sp.exp(top[i, 0]) for i in range(sizes[-1])))
    E = -sum(d[i, 0] * (top[i, 0] - lse) for i in range(sizes[-1]))
    total = sum(sp.exp(top[i, 0]) for i in range(sizes[-1]))
    y = top.applyfunc(lambda v: sp.exp(v) / total)
    deltas, primes, backprop = {L: y - d}, {}, {}
    for k in range(L, 0, -1):
        backprop[f"W{k}"] = deltas[k] * hs[k - 1].T
        backprop[f"b{k}"] = deltas[k] * sp.ones(N, 1)
        if k > 1:
            primes[k - 1] = acts[k - 2].applyfunc(lambda v: sp.Subs(sp.Derivative(sigma(_u), _u), _u, v))
            deltas[k - 1] = primes[k - 1].multiply_elementwise(W[k - 1].T * deltas[k])
    params = {}
    for k in range(L):
        params[f"W{k + 1}"], params[f"b{k + 1}"] = W[k], b[k]
    dE = {key: P.applyfunc(lambda p_: sp.diff(E, p_)) for key, P in params.items()}
    return dict(
        params=params, x=x, d=d, a=acts, h=hs, y=y, delta=deltas, sigma_prime=primes, backprop=backprop, dE=dE
    )


def _three_layer_identity() -> Identity:
    net = three_layer_network()
    size = "n = 3, 2, 2, 3; N = 1"
    order = ("W3", "b3", "W2", "b2", "W1", "b1")
    grads = {
        key: Chain(
            f"$\\partial E / \\partial {key[0]}_{key[1]}$ for 3 → 2 → 2 → 3, one sample, any $\\sigma$",
            [
                Step(net["dE"][key]),
                rewrite(net["backprop"][key], "SymPy differentiates; backprop's formula")
                if net["dE"][key] != net["backprop"][key]
                else defn(net["backprop"][key], "SymPy's derivative is backprop's formula as it stands"),
            ],
            size=size,
            show_latex=False,
        )
        for key in order
    }
    dl = {k: nc(rf"\delta_{k}") for k in (1, 2, 3)}
    Wt = {k: nc(rf"W_{k}^{{\top}}") for k in (2, 3)}
    hT = {k: nc(rf"h_{k}^{{\top}}") for k in (1, 2)}
    xT, y, d, one = nc(r"x^{\top}", "y", "d", r"\mathbf{1}")
    SP = SigmaPrimeOf
    a_ = {k: nc(f"a_{k}") for k in (1, 2)}
    nab = {key: sp.Symbol(rf"\nabla_{{{key[0]}_{key[1]}}}", commutative=False) for key in order}
    P = net["params"]
    meaning = {
        y: net["y"],
        d: net["d"],
        one: sp.ones(1, 1),
        xT: net["x"].T,
        **{dl[k]: net["delta"][k] for k in dl},
        **{Wt[k]: P[f"W{k}"].T for k in Wt},
        **{hT[k]: net["h"][k].T for k in hT},
        **{SP(a_[k]): net["sigma_prime"][k] for k in a_},
        **{nab[key]: net["dE"][key] for key in order},
    }
    deltas = {
        k: Chain(
            f"the recursion, $\\delta_{k}$",
            [
                Step(net["delta"][k]),
                defn(
                    net["y"] - net["d"]
                    if k == 3
                    else net["sigma_prime"][k].multiply_elementwise(P[f"W{k + 1}"].T * net["delta"][k + 1]),
                    f"definition of $\\delta_{k}$",
                ),
            ],
            size=size,
            show_latex=False,
        )
        for k in (3, 2, 1)
    }
    eqs: list = []
    links: list = []

    def add(eq, chain):
        links.append(Link(chain.title, meaning, len(eqs)))
        eqs.append(eq)

    add(sp.Eq(dl[3], sp.Add(y, -d, evaluate=False), evaluate=False), deltas[3])
    for k, below in ((3, hT[2]), (2, hT[1]), (1, xT)):
        if k < 3:
            add(sp.Eq(dl[k], Had(SP(a_[k]), Wt[k + 1] * dl[k + 1]), evaluate=False), deltas[k])
        add(sp.Eq(nab[f"W{k}"], dl[k] * below, evaluate=False), grads[f"W{k}"])
        add(sp.Eq(nab[f"b{k}"], dl[k] * one, evaluate=False), grads[f"b{k}"])
    h1, a1, W2 = net["h"][1], net["a"][0], P["W2"]
    variants = [
        Variant("a_for_h", "∇W_2 = δ_2 a_1ᵀ (a in place of h)", net["delta"][2] * a1.T, grads["W2"].title),
        Variant("transposed_gradient", "∇W_2 = h_1 δ_2ᵀ", h1 * net["delta"][2].T, grads["W2"].title),
        Variant(
            "missing_transpose",
            "δ_1 = σ'(a_1) ⊙ W_2 δ_2 (W_2 not transposed)",
            net["sigma_prime"][1].multiply_elementwise(W2 * net["delta"][2]) * net["x"].T,
            grads["W1"].title,
        ),
        Variant(
            "missing_sigma_prime",
            "δ_1 = W_2ᵀ δ_2 (σ' forgotten)",
            (W2.T * net["delta"][2]) * net["x"].T,
            grads["W1"].title,
        ),
    ]
    name = "three_layer_backprop_equals_sympy_gradient"
    return Identity(
        name,
        "Backprop through a whole 3-layer network (two hidden layers) equals SymPy's derivatives",
        [*(grads[key] for key in order), *(deltas[k] for k in (3, 2, 1))],
        statement=sp.Tuple(*eqs),
        links=links,
        assumptions=["$\\sigma$ any differentiable function (an undefined SymPy function)", "one sample"],
        variants=variants,
        checks=_checks(name),
        implements="backprop",
    )
