r"""The derivatives of leaky ReLU, the sigmoid and tanh, each proved from its definition.

For a real scalar :math:`a` (so for every entry of a matrix of any size):
leaky ReLU :math:`\operatorname{lrelu}_\alpha'(a) = 1` for :math:`a > 0`, :math:`\alpha`
for :math:`a < 0`, and by backproof's convention :math:`\alpha` at the kink :math:`a = 0`;
:math:`\operatorname{sigmoid}' = s(1 - s)` with :math:`s = 1/(1 + e^{-a})`;
:math:`\tanh' = 1 - \tanh^2` with :math:`\tanh a = (e^a - e^{-a})/(e^a + e^{-a})`.
(ReLU's is identity 7 of :mod:`backproof.symbolic`.) Wrong variants are refuted at
:math:`a = \pm\log u`, :math:`u` rational, where every value is rational.

Non-goals: activations backproof does not ship.
"""

from __future__ import annotations

import functools
import random

import sympy as sp

from .indexed import Claim, IndexedChain, LayerIdentity, _lemma, defn, rewrite
from .point_refutation import PointVariant, _rational
from .symbols import (
    LEAKY_DEF,
    LEAKY_SLOPE,
    SIGMOID_DEF,
    TANH_DEF,
    LeakyRelu,
    LeakySlope,
    Sigmoid,
    Tanh,
    _a,
    _a_neg,
    _a_pos,
    alpha,
)


def _derivative_instance(fn_def, point_kind: str):
    """A random rational point; for exponential activations a = log(u), u rational, so values are exact."""

    def build(rng: random.Random) -> dict:
        if point_kind == "log":
            u = sp.Rational(rng.randint(2, 9), rng.randint(1, 9))
            while u == 1:
                u = sp.Rational(rng.randint(2, 9), rng.randint(1, 9))
            pts = [sp.log(u), -sp.log(u)]
        else:
            pts = [abs(_rational(rng)), -abs(_rational(rng))]
        al = sp.Rational(rng.randint(1, 9), 10)
        vals = [fn_def.subs({alpha: al, _a: v}) for v in pts]
        truth = sp.Matrix([sp.simplify(sp.diff(fn_def, _a).subs({alpha: al}).subs(_a, v)) for v in pts])
        return dict(points=pts, alpha=al, f=sp.Matrix([sp.simplify(v) for v in vals]), truth_=truth)

    return build


def _deriv_variants(fn_def, kind: str, true_fn, wrongs) -> list[PointVariant]:
    inst = _derivative_instance(fn_def, kind)
    where = "a = ±log u, u rational" if kind == "log" else "a rational, one point > 0 and one < 0"
    sizes = f"{where}, α rational in (0, 1)" if kind != "log" else where
    return [PointVariant(name, desc, inst, "truth_", true_fn, wrong, sizes) for name, desc, wrong in wrongs]


def _activation_derivative_lemmas() -> list[LayerIdentity]:
    # leaky ReLU
    lr = IndexedChain(
        "where the derivative exists, $a \\ne 0$ (checked for $a > 0$ and for $a < 0$)",
        [
            defn(sp.Derivative(LeakyRelu(_a), _a), ""),
            defn(
                sp.Derivative(LEAKY_DEF, _a),
                "$\\operatorname{lrelu}_\\alpha(a) = a$ for $a > 0$, else $\\alpha a$",
            ),
            rewrite(LEAKY_SLOPE, "differentiate each piece"),
            defn(LeakySlope(_a), "the step $H_\\alpha$"),
        ],
        definitions={LeakyRelu(_a): LEAKY_DEF, LeakySlope(_a): LEAKY_SLOPE},
    )
    lr.cases = [{_a: _a_pos}, {_a: _a_neg}]
    lr.hypotheses = {sp.Ne(_a, 0): True}  # stated: the two cases cover exactly a != 0
    kink = IndexedChain(
        "at the kink $a = 0$, where the derivative does not exist: the convention",
        [
            defn(LeakySlope(0), ""),
            defn(alpha, "backproof's $H_\\alpha(0) = \\alpha$, as PyTorch's leaky ReLU"),
        ],
        definitions={LeakySlope(0): LEAKY_SLOPE.subs(_a, 0)},
    )

    def lr_true(P):
        return sp.Matrix([LEAKY_SLOPE.subs({alpha: P["alpha"], _a: v}) for v in P["points"]])

    leaky = _lemma(
        "leaky_relu_derivative_is_one_or_alpha",
        "Leaky ReLU's derivative is 1 for a > 0 and α for a < 0 (α at the kink, by convention)",
        [
            Claim(LeakySlope(_a), lr, sp.Derivative(LeakyRelu(_a), _a), (), condition=r"a \ne 0"),
            Claim(alpha, kink, LeakySlope(0), (), condition=r"\text{the convention at the kink}"),
        ],
        ["$\\alpha > 0$", "at $a = 0$ there is no derivative: backproof uses $\\alpha$"],
        "a real scalar (each entry of a matrix of any size)",
        _deriv_variants(
            LEAKY_DEF,
            "rat",
            lr_true,
            [
                (
                    "relu_slope",
                    "lrelu' = H(a) (α forgotten: ReLU's derivative)",
                    lambda P: sp.Matrix([1 if v > 0 else 0 for v in P["points"]]),
                ),
                (
                    "slopes_swapped",
                    "lrelu' = α for a > 0, 1 for a < 0",
                    lambda P: sp.Matrix([P["alpha"] if v > 0 else 1 for v in P["points"]]),
                ),
                ("lrelu_for_derivative", "lrelu' = lrelu(a)", lambda P: P["f"]),
                (
                    "one_minus_alpha_below_zero",
                    "lrelu' = 1 − α for a < 0 (right only when α = 1/2)",
                    lambda P: sp.Matrix([1 if v > 0 else 1 - P["alpha"] for v in P["points"]]),
                ),
            ],
        ),
        numeric_function="leaky_relu_jvp",
    )

    # sigmoid
    S = SIGMOID_DEF
    sig = IndexedChain(
        "any real $a$, from $\\operatorname{sigmoid}(a) = 1 / (1 + e^{-a})$",
        [
            defn(sp.Derivative(Sigmoid(_a), _a), ""),
            defn(sp.Derivative(S, _a), "definition"),
            rewrite(sp.exp(-_a) / (1 + sp.exp(-_a)) ** 2, "quotient rule"),
            rewrite(sp.Mul(S, sp.exp(-_a) / (1 + sp.exp(-_a)), evaluate=False), "split the fraction"),
            rewrite(sp.Mul(S, 1 - S, evaluate=False), "$e^{-a} / (1 + e^{-a}) = 1 - 1 / (1 + e^{-a})$"),
            defn(sp.Mul(Sigmoid(_a), 1 - Sigmoid(_a), evaluate=False), "definition"),
        ],
        definitions={Sigmoid(_a): S},
    )

    def sig_true(P):
        return sp.Matrix([v * (1 - v) for v in P["f"]])

    sigmoid_lemma = _lemma(
        "sigmoid_derivative_is_s_times_one_minus_s",
        "The sigmoid's derivative is s(1 − s)",
        [
            Claim(
                sp.Mul(Sigmoid(_a), 1 - Sigmoid(_a), evaluate=False),
                sig,
                sp.Derivative(Sigmoid(_a), _a),
                (),
            )
        ],
        [],
        "a real scalar (each entry of a matrix of any size)",
        _deriv_variants(
            S,
            "log",
            sig_true,
            [
                ("missing_one_minus_s", "sigmoid' = s", lambda P: P["f"]),
                (
                    "one_minus_s_squared",
                    "sigmoid' = 1 − s² (tanh's form)",
                    lambda P: P["f"].applyfunc(lambda v: 1 - v**2),
                ),
                (
                    "a_for_s",
                    "sigmoid' = a(1 − a) (the input for the output)",
                    lambda P: sp.Matrix([v * (1 - v) for v in P["points"]]),
                ),
            ],
        ),
        numeric_function="sigmoid_jvp",
    )

    # tanh
    T = TANH_DEF
    th = IndexedChain(
        "any real $a$, from $\\tanh a = (e^{a} - e^{-a}) / (e^{a} + e^{-a})$",
        [
            defn(sp.Derivative(Tanh(_a), _a), ""),
            defn(sp.Derivative(T, _a), "definition"),
            rewrite(
                ((sp.exp(_a) + sp.exp(-_a)) ** 2 - (sp.exp(_a) - sp.exp(-_a)) ** 2)
                / (sp.exp(_a) + sp.exp(-_a)) ** 2,
                "quotient rule",
            ),
            rewrite(1 - T**2, "split the fraction"),
            defn(1 - Tanh(_a) ** 2, "definition"),
        ],
        definitions={Tanh(_a): T},
    )

    def th_true(P):
        return P["f"].applyfunc(lambda v: 1 - v**2)

    tanh_lemma = _lemma(
        "tanh_derivative_is_one_minus_tanh_squared",
        "tanh's derivative is 1 − tanh²",
        [Claim(1 - Tanh(_a) ** 2, th, sp.Derivative(Tanh(_a), _a), ())],
        [],
        "a real scalar (each entry of a matrix of any size)",
        _deriv_variants(
            T,
            "log",
            th_true,
            [
                (
                    "one_plus_tanh_squared",
                    "tanh' = 1 + tanh² (sign)",
                    lambda P: P["f"].applyfunc(lambda v: 1 + v**2),
                ),
                (
                    "one_minus_tanh",
                    "tanh' = 1 − tanh (square forgotten)",
                    lambda P: P["f"].applyfunc(lambda v: 1 - v),
                ),
                (
                    "a_for_tanh",
                    "tanh' = 1 − a² (the input for the output)",
                    lambda P: sp.Matrix([1 - v**2 for v in P["points"]]),
                ),
            ],
        ),
        numeric_function="tanh_jvp",
    )
    return [leaky, sigmoid_lemma, tanh_lemma]


@functools.lru_cache(maxsize=1)
def activation_derivatives() -> tuple[LayerIdentity, ...]:
    r"""The derivatives of leaky ReLU, the sigmoid and tanh, each from its definition.

    Proved for a real scalar :math:`a` (so for every entry of a matrix of any size):
    leaky ReLU on :math:`a > 0` and on :math:`a < 0` separately, and its value at the kink
    fixed by convention (:math:`\alpha`); the sigmoid and tanh for every real :math:`a`.
    """
    return tuple(_activation_derivative_lemmas())
