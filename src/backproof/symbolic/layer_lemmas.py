r"""The two lemmas every layer rests on, proved entry by entry for symbolic sizes.

* **Linear layer lemma** (:func:`linear_layer_lemma`). For :math:`a = W x + b\mathbb{1}^\top`
  with :math:`W` of shape :math:`(m, n)`, :math:`x` of shape :math:`(n, N)` and any
  differentiable loss :math:`E` of :math:`a` with upstream gradient
  :math:`\delta = \partial E / \partial a`:
  :math:`\partial E/\partial W = \delta x^\top`, :math:`\partial E/\partial b = \delta\mathbb{1}`,
  :math:`\partial E/\partial x = W^\top \delta`, for symbolic :math:`m, n, N`.
* **Elementwise activation lemma** (:func:`activation_lemma`). For :math:`h = \sigma(a)`
  elementwise, :math:`\sigma` any differentiable function and :math:`e = \partial E/\partial h`:
  :math:`\partial E/\partial a = \sigma'(a) \odot e`, for symbolic :math:`m, N`.

Each carries realistic wrong variants (:mod:`.point_refutation`) and numeric checks
(:mod:`._layer_numeric`). :func:`linear_claims` and :func:`activation_claim` are reused,
renamed, at layer :math:`l` by :mod:`.recursion`.

Non-goals: convolutional or recurrent layers.
"""

from __future__ import annotations

import functools
import random

import sympy as sp
from sympy.matrices.expressions.matexpr import MatrixElement

from .chain_rule import chain_rule_chain
from .indexed import Claim, IndexedChain, LayerIdentity, _lemma, defn, rewrite, to_latex
from .point_refutation import (
    SQUARE,
    PointVariant,
    _gradient,
    _rmat,
    _test_loss,
    _test_sigma,
    _test_sigma_prime,
    _variant,
)
from .rules import CHAIN_RULE, cite
from .symbols import E, N, _ones_col, _ones_row, derivative_of, elementwise, m, n, p, q, r, s, sigma, t


def _linear_claims(
    W, x, b, delta, a, rows, inner, batch, layer: str = "", rules=(CHAIN_RULE,)
) -> list[Claim]:
    r"""The three claims of the linear layer lemma for ``a = W x + b 1^T`` (names given).

    Used for the lemma itself and, renamed, for layer :math:`l` of the recursion theorem.
    """
    a_def = W * x + b * _ones_row(batch)
    defs = {a: a_def}
    rule = f"chain rule; ${to_latex(delta)} = \\partial E / \\partial {to_latex(a)}$" + (
        f" ({layer})" if layer else ""
    )
    kd = sp.KroneckerDelta

    def upstream(var):
        return sp.Sum(delta[p, q] * sp.Derivative(a[p, q], var), (p, 0, rows - 1), (q, 0, batch - 1))

    cW = IndexedChain(
        f"$\\partial E / \\partial {to_latex(W)}$, entry $(r, s)$, symbolic sizes",
        [
            defn(sp.Derivative(E, W[r, s]), ""),
            cite(upstream(W[r, s]), rule, rules, [(sp.Derivative(E, W[r, s]), upstream(W[r, s]))]),
            rewrite(
                sp.Sum(
                    delta[p, q]
                    * sp.Sum(kd(p, r, (0, rows - 1)) * kd(t, s, (0, inner - 1)) * x[t, q], (t, 0, inner - 1)),
                    (p, 0, rows - 1),
                    (q, 0, batch - 1),
                ),
                f"differentiate ${to_latex(a[p, q])} = \\sum_t {to_latex(W[p, t])} {to_latex(x[t, q])}"
                f" + {to_latex(b[p, 0])}$",
            ),
            rewrite(
                sp.Sum(delta[r, q] * x[s, q], (q, 0, batch - 1)), "the brackets keep $p = r$ and $t = s$"
            ),
            defn(MatrixElement(delta * x.T, r, s), "matrix product"),
        ],
        definitions=defs,
    )
    cb = IndexedChain(
        f"$\\partial E / \\partial {to_latex(b)}$, entry $r$, symbolic sizes",
        [
            defn(sp.Derivative(E, b[r, 0]), ""),
            cite(upstream(b[r, 0]), rule, rules, [(sp.Derivative(E, b[r, 0]), upstream(b[r, 0]))]),
            rewrite(
                sp.Sum(delta[p, q] * kd(p, r, (0, rows - 1)), (p, 0, rows - 1), (q, 0, batch - 1)),
                f"differentiate ${to_latex(a[p, q])}$: "
                f"only ${to_latex(b[p, 0])}$ depends on ${to_latex(b[r, 0])}$",
            ),
            rewrite(sp.Sum(delta[r, q], (q, 0, batch - 1)), "the bracket keeps $p = r$"),
            defn(MatrixElement(delta * _ones_col(batch), r, 0), "matrix product with $\\mathbb{1}$"),
        ],
        definitions=defs,
    )
    cx = IndexedChain(
        f"$\\partial E / \\partial {to_latex(x)}$, entry $(r, s)$, symbolic sizes",
        [
            defn(sp.Derivative(E, x[r, s]), ""),
            cite(upstream(x[r, s]), rule, rules, [(sp.Derivative(E, x[r, s]), upstream(x[r, s]))]),
            rewrite(
                sp.Sum(
                    delta[p, q]
                    * sp.Sum(
                        W[p, t] * kd(t, r, (0, inner - 1)) * kd(q, s, (0, batch - 1)), (t, 0, inner - 1)
                    ),
                    (p, 0, rows - 1),
                    (q, 0, batch - 1),
                ),
                f"differentiate ${to_latex(a[p, q])}$",
            ),
            rewrite(sp.Sum(W[p, r] * delta[p, s], (p, 0, rows - 1)), "the brackets keep $t = r$ and $q = s$"),
            defn(MatrixElement(W.T * delta, r, s), "matrix product"),
        ],
        definitions=defs,
    )
    return [
        Claim(delta * x.T, cW, sp.Derivative(E, W[r, s])),
        Claim(delta * _ones_col(batch), cb, sp.Derivative(E, b[r, 0]), (r, 0)),
        Claim(W.T * delta, cx, sp.Derivative(E, x[r, s])),
    ]


def _linear_instance(rng: random.Random) -> dict:
    k = SQUARE
    W, x, b = _rmat(rng, k, k), _rmat(rng, k, k), _rmat(rng, k, 1)
    loss = _test_loss(rng, k, k)

    def a_of(W_, x_, b_):
        return W_ * x_ + b_ * sp.ones(1, k)

    a = a_of(W, x, b)
    delta = _gradient(loss, a)  # the upstream gradient dE/da at this point
    return dict(
        W=W,
        x=x,
        b=b,
        delta=delta,
        one=sp.ones(k, 1),
        dW=_gradient(lambda V: loss(a_of(V, x, b)), W),
        db=_gradient(lambda V: loss(a_of(W, x, V)), b),
        dx=_gradient(lambda V: loss(a_of(W, V, b)), x),
    )


def _linear_variants() -> list[PointVariant]:
    sizes = f"m = n = N = {SQUARE}, E a nonlinear polynomial of a"
    inst = _linear_instance

    def dW(P):
        return P["delta"] * P["x"].T

    def db(P):
        return P["delta"] * P["one"]

    def dx(P):
        return P["W"].T * P["delta"]

    return [
        _variant(
            "nabla_W_is_x_transpose_delta",
            "∂E/∂W = xᵀ δ (factors swapped)",
            "dW",
            dW,
            lambda P: P["x"].T * P["delta"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_W_is_delta_x",
            "∂E/∂W = δ x (missing transpose)",
            "dW",
            dW,
            lambda P: P["delta"] * P["x"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_W_is_x_delta_transpose",
            "∂E/∂W = x δᵀ (transposed gradient)",
            "dW",
            dW,
            lambda P: P["x"] * P["delta"].T,
            sizes,
            inst,
        ),
        _variant(
            "nabla_b_sums_wrong_axis",
            "∂E/∂b = δᵀ 1 (sum over the wrong axis)",
            "db",
            db,
            lambda P: P["delta"].T * P["one"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_b_is_mean",
            "∂E/∂b = δ 1 / N (mean, not sum)",
            "db",
            db,
            lambda P: P["delta"] * P["one"] / SQUARE,
            sizes,
            inst,
        ),
        _variant(
            "nabla_x_is_W_delta",
            "∂E/∂x = W δ (missing transpose)",
            "dx",
            dx,
            lambda P: P["W"] * P["delta"],
            sizes,
            inst,
        ),
        _variant(
            "nabla_x_is_delta_transpose_W",
            "∂E/∂x = (δᵀ W)ᵀ with W for Wᵀ: δᵀ Wᵀ transposed",
            "dx",
            dx,
            lambda P: (P["delta"].T * P["W"].T).T,
            sizes,
            inst,
        ),
    ]


@functools.lru_cache(maxsize=1)
def linear_layer_lemma() -> LayerIdentity:
    r"""The linear layer lemma, proved for symbolic :math:`m, n, N`.

    :math:`a = W x + b\mathbb{1}^\top`, :math:`W` :math:`(m, n)`, :math:`x` :math:`(n, N)`,
    :math:`b` :math:`(m, 1)`, :math:`\delta = \partial E/\partial a` :math:`(m, N)` for any
    differentiable :math:`E`. Proved: :math:`\partial E/\partial W = \delta x^\top`,
    :math:`\partial E/\partial b = \delta\mathbb{1}`, :math:`\partial E/\partial x = W^\top\delta`,
    entry by entry, each chain's derivative and sums evaluated by SymPy with :math:`m, n, N`
    symbolic. The chain rule step is cited (see the module docstring).
    """
    W, x = sp.MatrixSymbol("W", m, n), sp.MatrixSymbol("x", n, N)
    b, delta, a = sp.MatrixSymbol("b", m, 1), sp.MatrixSymbol(r"\delta", m, N), sp.MatrixSymbol("a", m, N)
    return _lemma(
        "linear_layer_gradients_delta_x_transpose",
        "Linear layer lemma: ∂E/∂W = δ xᵀ, ∂E/∂b = δ 1, ∂E/∂x = Wᵀ δ",
        _linear_claims(W, x, b, delta, a, m, n, N),
        [
            "$a = W x + b \\mathbb{1}^\\top$",
            "$E$ differentiable in $a$, $\\delta = \\partial E / \\partial a$",
        ],
        "symbolic m, n, N (every size), from the chain rule, which is cited for symbolic sizes and "
        "checked at every size up to 3 in each dimension",
        _linear_variants(),
        extra_chains=[chain_rule_chain("linear")],
        numeric_function="backprop",
    )


# --------------------------------------------------------------------------- activation lemma


def _activation_claim(a, e, h, rows, batch, f=sigma, layer: str = "") -> Claim:
    kd = sp.KroneckerDelta
    defs = {h: elementwise(f, a)}
    upstream = sp.Sum(e[p, q] * sp.Derivative(h[p, q], a[r, s]), (p, 0, rows - 1), (q, 0, batch - 1))
    chain = IndexedChain(
        f"$\\partial E / \\partial {to_latex(a)}$, entry $(r, s)$, symbolic sizes, any $\\sigma$",
        [
            defn(sp.Derivative(E, a[r, s]), ""),
            cite(
                upstream,
                f"chain rule; ${to_latex(e)} = \\partial E / \\partial {to_latex(h)}$"
                + (f" ({layer})" if layer else ""),
                [CHAIN_RULE],
                [(sp.Derivative(E, a[r, s]), upstream)],
            ),
            rewrite(
                sp.Sum(
                    e[p, q]
                    * sp.Derivative(f(a[p, q]), a[p, q])
                    * kd(p, r, (0, rows - 1))
                    * kd(q, s, (0, batch - 1)),
                    (p, 0, rows - 1),
                    (q, 0, batch - 1),
                ),
                f"differentiate ${to_latex(h[p, q])} = \\sigma({to_latex(a[p, q])})$: "
                f"it depends on ${to_latex(a[p, q])}$ only",
            ),
            rewrite(sp.Derivative(f(a[r, s]), a[r, s]) * e[r, s], "the brackets keep $p = r$ and $q = s$"),
            defn(
                MatrixElement(sp.HadamardProduct(elementwise(derivative_of(f), a), e), r, s),
                "elementwise product",
            ),
        ],
        definitions=defs,
    )
    return Claim(sp.HadamardProduct(elementwise(derivative_of(f), a), e), chain, sp.Derivative(E, a[r, s]))


def _activation_instance(rng: random.Random) -> dict:
    k = SQUARE
    a = _rmat(rng, k, k)
    loss = _test_loss(rng, k, k)
    h = a.applyfunc(_test_sigma)
    return dict(
        a=a,
        h=h,
        e=_gradient(loss, h),
        sp_a=a.applyfunc(_test_sigma_prime),
        sp_h=h.applyfunc(_test_sigma_prime),
        da=_gradient(lambda V: loss(V.applyfunc(_test_sigma)), a),
    )


def _activation_variants() -> list[PointVariant]:
    sizes = f"m = N = {SQUARE}, σ(t) = t + t²/2 − t³/3, E a nonlinear polynomial of h"
    inst = _activation_instance

    def true(P):
        return P["sp_a"].multiply_elementwise(P["e"])

    return [
        _variant(
            "missing_sigma_prime", "∂E/∂a = e (σ' forgotten)", "da", true, lambda P: P["e"], sizes, inst
        ),
        _variant(
            "sigma_for_sigma_prime",
            "∂E/∂a = σ(a) ⊙ e",
            "da",
            true,
            lambda P: P["h"].multiply_elementwise(P["e"]),
            sizes,
            inst,
        ),
        _variant(
            "sigma_prime_at_h",
            "∂E/∂a = σ'(h) ⊙ e (σ' at the output, not the input)",
            "da",
            true,
            lambda P: P["sp_h"].multiply_elementwise(P["e"]),
            sizes,
            inst,
        ),
        _variant(
            "matrix_product_for_elementwise",
            "∂E/∂a = σ'(a) e (matrix product for ⊙)",
            "da",
            true,
            lambda P: P["sp_a"] * P["e"],
            sizes,
            inst,
        ),
    ]


@functools.lru_cache(maxsize=1)
def activation_lemma() -> LayerIdentity:
    r"""The elementwise activation lemma, proved for symbolic :math:`m, N` and any :math:`\sigma`.

    :math:`h = \sigma(a)` entry by entry, :math:`a` :math:`(m, N)`, :math:`e = \partial E/\partial h`:
    :math:`\partial E/\partial a = \sigma'(a) \odot e`. :math:`\sigma` is an undefined SymPy
    function, so this holds for each activation once its derivative is known.
    """
    a, e, h = sp.MatrixSymbol("a", m, N), sp.MatrixSymbol("e", m, N), sp.MatrixSymbol("h", m, N)
    return _lemma(
        "activation_gradient_is_sigma_prime_times_e",
        "Elementwise activation lemma: ∂E/∂a = σ'(a) ⊙ ∂E/∂h",
        [_activation_claim(a, e, h, m, N)],
        ["$h = \\sigma(a)$ entry by entry, $\\sigma$ differentiable", "$e = \\partial E / \\partial h$"],
        "symbolic m, N (every size), any differentiable σ",
        _activation_variants(),
        extra_chains=[chain_rule_chain("activation")],
        numeric_function="activation_jvp",
    )
