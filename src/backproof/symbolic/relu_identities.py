r"""The ReLU identities: its derivative away from the kink, and the convention at the kink.

:math:`\operatorname{relu}(t) = \max(t, 0)` has derivative :math:`H(t)` for :math:`t \ne 0`
and none at 0. There, every :math:`s \in [0, 1]` is a subgradient
(:math:`\operatorname{relu}(t) \ge s\,t` for all :math:`t`); backproof takes :math:`s = 0`
in :func:`~backproof.relu.relu_jvp` *and* in the training kernel, checked numerically here.

Non-goals: leaky or parametric variants.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .chain import DEFINITION, Chain, Step
from .engine import register
from .identity_base import Check, Identity, Variant
from .notation import Relu, Step0

t = sp.Symbol("t", real=True)
s = sp.Symbol("s", nonnegative=True)


def _check_relu(dtype):
    def check(rng):
        from . import _accuracy as V
        from . import _numeric as X

        a = rng.standard_normal((20, 5)).astype(dtype)
        a[::4] = 0  # the kink itself, where the convention H(0) = 0 applies
        e = rng.standard_normal(a.shape).astype(dtype)
        H = sp.lambdify(t, sp.Heaviside(t, 0), "mpmath")
        ref = np.vectorize(lambda u, v: float(H(float(u))) * float(v))(a, e)
        return V.col_rel_error(X.relu_jvp(a, e), ref)

    return check


def _fd_relu(rng):
    from . import _accuracy as V
    from . import _numeric as X

    a = rng.standard_normal((20, 5))
    a[np.abs(a) < 1e-3] = 0.5  # finite differences need a neighbourhood without the kink
    e = rng.standard_normal(a.shape)
    return V.rel_error(X.relu_jvp(a, e), X.centred(X.relu, a, e))


def _kernel_at_kink(rng):
    r"""The training kernel's gradient (via train_full_batch) at a unit exactly at the kink, vs relu_jvp's.

    Unit 0 has a zero row of :math:`W_1` and :math:`b_{1,0} = 0`, so :math:`a_1 = 0` in
    every column. With :math:`H(0) = 0` its gradients are exactly 0; the kernel's update
    must equal :math:`\gamma/B` times backprop's gradient (which uses relu_jvp).
    """
    from ..network import Parameters, backprop
    from ..preprocess import one_hot
    from ..training import train_full_batch
    from . import _accuracy as V

    Ni, Nh, No, B = 4, 3, 3, 5
    p = Parameters(
        rng.standard_normal((Nh, Ni)),
        rng.standard_normal(Nh),
        rng.standard_normal((No, Nh)),
        rng.standard_normal(No),
    )
    p.W1[0] = 0.0
    p.b1[0] = 0.0
    x = rng.standard_normal((Ni, B))
    labels = rng.integers(0, No, B)
    ref = backprop(p, x, one_hot(labels, No))
    # one full-batch step with lr = B applies the gradient itself: W <- W - (lr / B) nabla_W
    q = train_full_batch(x, labels, iterations=1, lr=float(B), params=p.copy()).params
    got = {name: value - getattr(q, name) for name, value in p.arrays().items()}
    if got["b1"][0] != 0 or np.any(got["W1"][0] != 0) or ref.b1[0] != 0:
        return float("inf")  # a convention other than H(0) = 0 somewhere
    return max(V.rel_error(got[name], getattr(ref, name)) for name in got)


def _subgradient_numeric(rng):
    r"""relu(t) >= s t on random t for random s in [0, 1], and relu_jvp's s = relu_jvp(0, 1) is in [0, 1]."""
    from . import _numeric as X

    tt = np.concatenate([rng.standard_normal(200) * 10, [0.0]])
    for slope in np.concatenate([rng.uniform(0, 1, 20), [0.0, 1.0]]):
        if np.any(X.relu(tt) < slope * tt):
            return float("inf")
    chosen = float(X.relu_jvp(np.array([0.0]), np.array([1.0]))[0])
    return 0.0 if 0.0 <= chosen <= 1.0 else float("inf")


@register(order=11)
def _relu() -> Identity:
    a = sp.Symbol("a", real=True)
    piece = sp.Piecewise((a, a > 0), (0, True))
    step = sp.Piecewise((1, a > 0), (0, True))
    a_pos, a_neg = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)
    where_exists = Chain(
        "where the derivative exists, $a \\ne 0$ (checked for $a > 0$ and for $a < 0$)",
        [
            Step(sp.Derivative(Relu(a), a)),
            Step(sp.Derivative(piece, a), "$\\operatorname{relu}(a) = a$ for $a > 0$, else 0", DEFINITION),
            Step(step, "differentiate each piece"),
            Step(Step0(a), "the Heaviside step", DEFINITION),
        ],
        definitions={Relu(a): sp.Max(a, 0), Step0(a): sp.Heaviside(a, 0)},
        hypotheses={sp.Ne(a, 0): True},  # stated: the cases a > 0, a < 0 cover exactly this
        cases=[{a: a_pos}, {a: a_neg}],
    )
    at_kink = Chain(
        "at the kink $a = 0$, where relu has no derivative: the convention",
        [
            Step(Step0(0)),
            Step(sp.Integer(0), "backproof's $H(0) = 0$, as the course's relup and PyTorch", DEFINITION),
        ],
        definitions={Step0(0): sp.Heaviside(0, 0)},
    )
    return Identity(
        "relu_derivative_is_heaviside_zero_at_kink",
        "ReLU's derivative is the Heaviside step, taken as 0 at the kink",
        [where_exists, at_kink],
        assumptions=["at $a = 0$ ReLU has no derivative: backproof, like the course and PyTorch, uses 0"],
        variants=[
            Variant("a_for_step", "$a$ in place of $H(a)$", a),
            Variant("flipped_step", "$H(-a)$", sp.Heaviside(-a, 0)),
            Variant("one_at_kink", "$H(0) = 1$", sp.Integer(1), at_kink.title),
        ],
        checks=[
            Check("float64 vs mpmath", "float64", _check_relu(np.float64)),
            Check("float32 vs mpmath", "float32", _check_relu(np.float32)),
            Check("finite differences", "fd", _fd_relu),
            Check("training kernel at the kink", "float64", _kernel_at_kink),
        ],
        implements="relu_jvp",
    )


@register(order=12)
def _relu_subgradient() -> Identity:
    t_pos, t_neg = sp.Symbol("t", positive=True), sp.Symbol("t", negative=True)
    chain = Chain(
        "any $t$, any $s \\in [0, 1]$ (checked for $t > 0$, $t < 0$, $t = 0$)",
        [
            Step(s * t),
            Step(
                Relu(t),
                "for $t > 0$: $t - s t = (1 - s) t \\ge 0$; for $t < 0$: $0 - s t \\ge 0$",
                relation="<=",
            ),
        ],
        definitions={Relu(t): sp.Max(t, 0)},
        hypotheses={sp.Le(s, 1): True},  # s <= 1 stated; s >= 0 is s's declared sign
        cases=[{t: t_pos}, {t: t_neg}, {t: 0}],
    )
    return Identity(
        "relu_subgradient_at_zero_is_any_s_in_0_1",
        "Every s in [0, 1] is a subgradient of ReLU at 0: relu(t) ≥ relu(0) + s·t; backproof uses s = 0",
        [chain],
        assumptions=["$0 \\le s \\le 1$"],
        variants=[
            Variant("slope_above_one", "$s = 2$", Relu(t), first=2 * t),
            Variant("negative_slope", "$s = -1/2$", Relu(t), first=-t / 2),
        ],
        checks=[
            Check("relu(t) >= s t, and relu_jvp's s at 0", "float64", _subgradient_numeric),
            Check("training kernel at the kink", "float64", _kernel_at_kink),
        ],
        implements="relu_jvp",
    )
