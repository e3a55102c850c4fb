r"""The softmax and cross-entropy identities, proved from the definition for symbolic :math:`n`.

The softmax is :math:`g_i = e^{a_i} / \sum_{k=1}^{n} e^{a_k}` with indexed symbols
:math:`a_k` and a symbolic number of classes :math:`n`; derivatives are SymPy's, of that
sum, with the Kronecker delta :math:`\partial a_k / \partial a_i = [k = i]` (1 if :math:`k = i`,
else 0). The only hypothesis is that the indices are classes (:math:`i, j \le n`). Each identity
is proved again explicitly at :math:`n = 10`, and checked against the NumPy code.

Non-goals: softmax over other axes; temperature.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from .chain import DEFINITION, Chain, Step, refute
from .engine import register
from .identity_base import Check, Identity, Link, Variant
from .notation import Diag, EDiv, Had, Inner, nc
from .symbols import softmax_vector

__all__ = ["N_EXPLICIT", "softmax_vector"]

N_EXPLICIT = 10  # the number of classes of the course: also proved at this size

i = sp.Symbol("i", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
p = sp.Symbol("p", integer=True, positive=True)
n = sp.Symbol("n", integer=True, positive=True)
c = sp.Symbol("c", real=True)
eps = sp.Symbol(r"\varepsilon", nonnegative=True)
M = sp.Symbol(r"\max_{j} a_{j}", real=True)
aI = sp.IndexedBase("a", real=True)
bI = sp.IndexedBase("b", nonnegative=True)
gI = sp.IndexedBase("g", positive=True)
eI = sp.IndexedBase("e", real=True)
dI = sp.IndexedBase("d", real=True)
yI = sp.IndexedBase("y", positive=True)
JI = sp.IndexedBase("J")

S = sp.Sum(sp.exp(aI[k]), (k, 1, n))  # the denominator, over all n classes
G = {gI[i]: sp.exp(aI[i]) / S, gI[j]: sp.exp(aI[j]) / S}  # the definition of g
CLASSES = {sp.Le(i, n): True, sp.Le(j, n): True, sp.Le(p, n): True}  # i, j, p are classes
DISTINCT = {sp.KroneckerDelta(i, j): 0, sp.KroneckerDelta(j, i): 0}
J_DEF = {JI[i, j]: sp.Derivative(gI[i], aI[j]), JI[j, i]: sp.Derivative(gI[j], aI[i])}


def _explicit(size: int = N_EXPLICIT):
    a = sp.Matrix(sp.symbols(f"a_1:{size + 1}", real=True))
    e = sp.Matrix(sp.symbols(f"e_1:{size + 1}", real=True))
    d = sp.Matrix(sp.symbols(f"d_1:{size + 1}", real=True))
    return a, e, d, softmax_vector(a)


def _jacobian(g: sp.Matrix, a: sp.Matrix) -> sp.Matrix:
    r"""The Jacobian :math:`\partial g_r / \partial a_q`, unevaluated (the proof differentiates)."""
    return sp.Matrix(len(g), len(a), lambda r, q: sp.Derivative(g[r], a[q]))


def _shown(matrix_form: list, links: list, general: Chain, checked_at: str):
    r"""The displayed statement: the matrix form (tied to a fixed-size chain) and the general chain's ends.

    The matrix form is checked at ``checked_at`` only; the componentwise equation, generated from
    the ends of ``general``, is what holds for symbolic :math:`n`. Both are shown.
    """
    general_eq = sp.Eq(general.first, general.last, evaluate=False)
    statement = sp.Tuple(*matrix_form, general_eq)
    return statement, [*links, Link(general.title, {}, len(matrix_form))]


def _delta_sum(f, index, outer):
    """``sum_k f(k) delta(outer, k)`` over all classes, unevaluated."""
    return sp.Sum(f * sp.KroneckerDelta(outer, index), (index, 1, n))


# --------------------------------------------------------------------------- numeric checks


def _softmax_entries(kind):
    def check(rng, dtype):
        from . import _accuracy as V
        from . import _numeric as X

        errs = []
        size = X.N_EXPLICIT
        for scale in X.SCALES:
            a = X.logits(rng, dtype, scale, cols=2)
            for col in range(a.shape[1]):
                J_np = X.jacobian_by_jvp(a[:, col])
                J_ref = X.mp(X.softmax_refs()["J"], a[:, col : col + 1]).reshape(size, size)
                err = V.jvp_error_matrix(
                    np.repeat(a[:, col : col + 1], size, axis=1), np.eye(size), J_np, J_ref
                )
                off = ~np.eye(size, dtype=bool)
                if kind == "diag":
                    errs.append(float(np.max(np.diag(err))))
                elif kind == "off":
                    errs.append(float(np.max(err[off])))
                else:
                    errs.append(X.worst([float(np.max(err)), float(np.max(np.abs(J_np - J_np.T)))]))
        return X.worst(errs)

    return check


def _fd_entries(kind):
    def check(rng):
        from . import _accuracy as V
        from . import _numeric as X

        a = rng.standard_normal(X.N_EXPLICIT)
        J_fd = np.column_stack([X.centred(X.softmax, a, v) for v in np.eye(X.N_EXPLICIT)])
        J = X.jacobian_by_jvp(a)
        if kind == "diag":
            return V.rel_error(np.diag(J), np.diag(J_fd))
        if kind == "off":
            off = ~np.eye(X.N_EXPLICIT, dtype=bool)
            return V.rel_error(J[off], J_fd[off])
        return V.rel_error(J, J_fd)

    return check


def _checks(reference, fd=None) -> list[Check]:
    out = [
        Check("float64 vs mpmath", "float64", lambda rng: reference(rng, np.float64)),
        Check("float32 vs mpmath", "float32", lambda rng: reference(rng, np.float32)),
    ]
    if fd is not None:
        out.append(Check("finite differences", "fd", fd))
    return out


def _check_jvp(rng, dtype):
    from . import _accuracy as V
    from . import _numeric as X

    errs = []
    for scale in X.SCALES:
        a = X.logits(rng, dtype, scale)
        e = rng.standard_normal(a.shape).astype(dtype)
        errs.append(V.jvp_rel_error(a, e, X.softmax_jvp(a, e), X.mp(X.softmax_refs()["jvp"], a, e)))
    return X.worst(errs)


def _fd_jvp(rng):
    from . import _accuracy as V
    from . import _numeric as X

    a, e = rng.standard_normal((X.N_EXPLICIT, 5)), rng.standard_normal((X.N_EXPLICIT, 5))
    return V.rel_error(X.softmax_jvp(a, e), X.centred(X.softmax, a, e))


def _check_grad_y(rng, dtype):
    from ..preprocess import one_hot
    from . import _accuracy as V
    from . import _numeric as X

    y = rng.uniform(1e-3, 1, (X.N_EXPLICIT, 4)).astype(dtype)
    d = one_hot(rng.integers(0, X.N_EXPLICIT, 4), dtype=dtype)
    return V.col_rel_error(X.cross_entropy_grad(y, d), X.mp(X.softmax_refs()["grad_y"], y, d))


def _fd_grad_y(rng):
    from . import _accuracy as V
    from . import _numeric as X

    y = rng.uniform(0.1, 1, X.N_EXPLICIT)
    d = np.zeros(X.N_EXPLICIT)
    d[3] = 1.0

    def E(v):
        return -np.sum(d * np.log(v))

    numeric = np.array([X.centred(E, y, v) for v in np.eye(X.N_EXPLICIT)])
    return V.rel_error(X.cross_entropy_grad(y, d)[:, 0], numeric)


def _targets(rng, dtype, cols, kind):
    from ..preprocess import one_hot
    from . import _numeric as X

    if kind == "one_hot":
        return one_hot(rng.integers(0, X.N_EXPLICIT, cols), dtype=dtype)
    if kind == "smoothed":
        return (
            0.9 * one_hot(rng.integers(0, X.N_EXPLICIT, cols), dtype=np.float64) + 0.1 / X.N_EXPLICIT
        ).astype(dtype)
    return rng.uniform(0, 2, (X.N_EXPLICIT, cols)).astype(dtype)  # any nonnegative targets


def _check_backprop_delta2(kind):
    r"""backprop's delta_2 (fused, through a 1-unit identity network) against SymPy's J^T(-d/y)."""

    def check(rng, dtype):
        from . import _accuracy as V
        from . import _numeric as X

        errs = []
        for scale in X.SCALES:
            a = X.logits(rng, dtype, scale)
            d = _targets(rng, dtype, a.shape[1], kind)
            y = X.softmax(a)
            ref = X.mp(X.softmax_refs()["general"], a, d)
            got = y * d.sum(axis=0) - d
            errs.append(V.difference_rel_error(got, ref, y * d.sum(axis=0), d))
            if kind != "general":  # what backprop computes, delta_2 = y - d, is the same
                errs.append(V.difference_rel_error(y - d, ref, y, d))
        return X.worst(errs)

    return check


def _fd_fused(kind):
    def check(rng):
        from . import _accuracy as V
        from . import _numeric as X

        a = rng.standard_normal(X.N_EXPLICIT)
        d = _targets(rng, np.float64, 1, kind)[:, 0]

        def E(v):
            y = X.softmax(v)
            return -np.sum(d * np.log(y))

        numeric = np.array([X.centred(E, a, v) for v in np.eye(X.N_EXPLICIT)])
        return V.rel_error(X.softmax(a) * d.sum() - d, numeric)

    return check


def _check_shift(rng, dtype):
    from . import _accuracy as V
    from . import _numeric as X

    errs = []
    for scale in X.SCALES:
        a = X.logits(rng, dtype, scale)
        ref = X.mp(X.softmax_refs()["g"], a)
        shift = rng.uniform(-50, 50, a.shape[1]).astype(dtype)
        errs.append(V.col_rel_error(X.softmax(a), ref))
        errs.append(V.col_rel_error(X.softmax(a + shift), ref))
    return X.worst(errs)


def _check_lse(rng, dtype):
    r"""The log-sum-exp inside the loss against mpmath, and within its bounds."""
    from ..loss import cross_entropy_from_logits
    from . import _accuracy as V
    from . import _numeric as X

    errs = []
    for scale in X.SCALES:
        a = X.logits(rng, dtype, scale, cols=3)
        ref = X.mp(X.softmax_refs()["lse"], a)[0]
        for col in range(a.shape[1]):
            d = np.zeros((X.N_EXPLICIT, 1), dtype)
            d[0] = 1
            # the loss of target class 0 is lse - a_0, so lse = loss + a_0
            lse = cross_entropy_from_logits(a[:, [col]], d) + float(a[0, col])
            top = float(np.max(a[:, col]))
            if not top <= lse * (1 + 1e-6) + 1e-6 or not lse <= top + np.log(X.N_EXPLICIT) + 1e-5:
                return float("inf")  # outside the proved bounds
            errs.append(V.rel_error(lse, ref[col]))
    return X.worst(errs)


# --------------------------------------------------------------------------- 1, 2: the entries


@register(order=1)
def _diag_derivative() -> Identity:
    general = Chain(
        "general $n$",
        [
            Step(sp.Derivative(gI[i], aI[i])),
            Step(sp.Derivative(sp.exp(aI[i]) / S, aI[i]), "definition of $g_i$", DEFINITION),
            Step(
                sp.exp(aI[i]) / S - sp.exp(aI[i]) * _delta_sum(sp.exp(aI[k]), k, i) / S**2,
                "quotient rule; $\\partial a_k / \\partial a_i = [k = i]$",
            ),
            Step(sp.exp(aI[i]) / S - sp.exp(aI[i]) ** 2 / S**2, "the delta keeps $k = i$ (as $i \\le n$)"),
            Step(gI[i] * (1 - gI[i]), "factor, fold the definition of $g_i$"),
        ],
        definitions=G,
        hypotheses=CLASSES,
    )
    a, _, _, g = _explicit()
    J = _jacobian(g, a)
    explicit = Chain(
        "$n = 10$, every $i$",
        [
            Step(sp.Matrix([J[r, r] for r in range(N_EXPLICIT)])),
            Step(sp.Matrix([g[r] * (1 - g[r]) for r in range(N_EXPLICIT)]), "SymPy's Jacobian"),
        ],
        size="n = 10",
        show_latex=False,
    )
    return Identity(
        "softmax_derivative_diagonal",
        "The derivative of a softmax output with respect to its own logit",
        [general, explicit],
        assumptions=["$i \\le n$ (i is a class)"],
        variants=[
            Variant("flipped_sign", "sign flipped", -gI[i] * (1 - gI[i])),
            Variant("dropped_term", "the $-g_i^2$ term dropped", gI[i]),
            Variant("plus_for_minus", "$g_i(1 + g_i)$", gI[i] * (1 + gI[i])),
        ],
        checks=_checks(_softmax_entries("diag"), _fd_entries("diag")),
        implements="softmax_jvp",
    )


@register(order=2)
def _offdiag_derivative() -> Identity:
    general = Chain(
        "general $n$, $i \\ne j$",
        [
            Step(sp.Derivative(gI[i], aI[j])),
            Step(sp.Derivative(sp.exp(aI[i]) / S, aI[j]), "definition of $g_i$", DEFINITION),
            Step(
                sp.exp(aI[i]) * sp.KroneckerDelta(i, j) / S
                - sp.exp(aI[i]) * _delta_sum(sp.exp(aI[k]), k, j) / S**2,
                "quotient rule; $\\partial a_k / \\partial a_j = \\delta_{jk}$",
            ),
            Step(-sp.exp(aI[i]) * sp.exp(aI[j]) / S**2, "$\\delta_{ij} = 0$; the delta keeps $k = j$"),
            Step(-gI[i] * gI[j], "split the fraction, fold the definition of $g$", DEFINITION),
        ],
        definitions=G,
        hypotheses={**CLASSES, **DISTINCT},
    )
    a, _, _, g = _explicit()
    J = _jacobian(g, a)
    pairs = [(r, q) for r in range(N_EXPLICIT) for q in range(N_EXPLICIT) if r != q]
    explicit = Chain(
        "$n = 10$, every $i \\ne j$",
        [
            Step(sp.Matrix([J[r, q] for r, q in pairs])),
            Step(sp.Matrix([-g[r] * g[q] for r, q in pairs]), "SymPy's Jacobian"),
        ],
        size="n = 10",
        show_latex=False,
    )
    return Identity(
        "softmax_derivative_off_diagonal",
        "The derivative of a softmax output with respect to another logit",
        [general, explicit],
        assumptions=["$i \\ne j$", "$i, j \\le n$"],
        variants=[
            Variant("flipped_sign", "sign flipped", gI[i] * gI[j]),
            Variant("diagonal_formula", "the diagonal's $g_i(1 - g_j)$", gI[i] * (1 - gI[j])),
            Variant("dropped_factor", "$g_j$ dropped", -gI[i]),
        ],
        checks=_checks(_softmax_entries("off"), _fd_entries("off")),
        implements="softmax_jvp",
    )


# --------------------------------------------------------------------------- 3: J symmetric


@register(order=3)
def _jacobian_symmetric() -> Identity:
    general = Chain(
        "general $n$, entry $(i, j)$",
        [
            Step(JI[i, j]),
            Step(sp.Derivative(gI[i], aI[j]), "definition of $J$", DEFINITION),
            Step(
                gI[i] * sp.KroneckerDelta(i, j) - gI[i] * gI[j],
                "differentiate the definition of $g_i$ (identities 1 and 2 in one)",
            ),
            Step(
                gI[j] * sp.KroneckerDelta(j, i) - gI[j] * gI[i],
                "$\\delta_{ij} = \\delta_{ji}$; $g_i g_j = g_j g_i$",
                DEFINITION,
            ),
            Step(sp.Derivative(gI[j], aI[i]), "differentiate the definition of $g_j$"),
            Step(JI[j, i], "definition of $J$", DEFINITION),
        ],
        definitions={**J_DEF, **G},
        hypotheses=CLASSES,
        cases=[{j: i}, DISTINCT],  # i = j and i != j cover every entry
    )
    a3, _, _, g3 = _explicit(3)
    J3 = _jacobian(g3, a3)
    small = Chain(
        "$n = 3$, written out",
        [Step(J3), Step(sp.diag(*g3) - g3 * g3.T, "SymPy's Jacobian, collected")],
        size="n = 3",
        show_latex=False,
    )
    small_t = Chain(
        "$n = 3$, transposed",
        [Step(J3.T), Step(J3, "SymPy's Jacobian, transposed")],
        size="n = 3",
        show_latex=False,
    )
    a, _, _, g = _explicit()
    J = _jacobian(g, a)
    explicit = Chain(
        "$n = 10$",
        [Step(J), Step(sp.diag(*g) - g * g.T, "SymPy's Jacobian"), Step(J.T, "transpose")],
        size="n = 10",
        show_latex=False,
    )
    Jm, JT, gv, gT = nc("J", r"J^{\top}", "g", r"g^{\top}")
    meaning = {Jm: J3, JT: J3.T, gv: g3, gT: g3.T}
    statement, links = _shown(
        [
            sp.Eq(Jm, sp.Add(Diag(gv), -gv * gT, evaluate=False), evaluate=False),
            sp.Eq(JT, Jm, evaluate=False),
        ],
        [Link("$n = 3$, written out", meaning, 0), Link("$n = 3$, transposed", meaning, 1)],
        general,
        "n = 3",
    )
    return Identity(
        "softmax_jacobian_is_symmetric",
        "The softmax Jacobian is diag(g) − g gᵀ, a symmetric matrix",
        [general, small, small_t, explicit],
        statement=statement,
        links=links,
        variants=[
            Variant("antisymmetric", "$J_{ij} = -J_{ji}$", -JI[j, i]),
            Variant(
                "flipped_sign",
                "$\\operatorname{diag}(g) + g g^\\top$",
                sp.diag(*g3) + g3 * g3.T,
                "$n = 3$, written out",
            ),
            Variant(
                "inner_for_outer",
                "$(g^\\top g) I$ for $g g^\\top$",
                sp.diag(*g3) - (g3.T * g3)[0] * sp.eye(3),
                "$n = 3$, written out",
            ),
            Variant("dropped_diag", "$\\operatorname{diag}(g)$ dropped", -g3 * g3.T, "$n = 3$, written out"),
        ],
        checks=_checks(_softmax_entries("all"), _fd_entries("all")),
        implements="softmax_jvp",
    )


# --------------------------------------------------------------------------- 4: the JVP


def _batch_jvp(rows=3, cols=2):
    A = sp.Matrix(rows, cols, lambda r, q: sp.Symbol(f"a_{r + 1}{q + 1}", real=True))
    E = sp.Matrix(rows, cols, lambda r, q: sp.Symbol(f"e_{r + 1}{q + 1}", real=True))
    Gm = sp.Matrix.hstack(*[softmax_vector(A[:, q]) for q in range(cols)])
    exact = sp.Matrix.hstack(*[_jacobian(softmax_vector(A[:, q]), A[:, q]).T * E[:, q] for q in range(cols)])
    GE = Gm.multiply_elementwise(E)
    per_column = sp.ones(rows, 1) * (sp.ones(1, rows) * GE)  # <g, e> of each column, broadcast
    per_row = (GE * sp.ones(cols, 1)) * sp.ones(1, cols)  # summed along the wrong axis
    return exact, GE - Gm.multiply_elementwise(per_column), GE - Gm.multiply_elementwise(per_row), Gm, E


@register(order=4)
def _jvp() -> Identity:
    # component i of J^T e, written out (a named symbol such as (J^T e)_i would be shown unchecked)
    general = Chain(
        "general $n$, component $i$ of $J^{\\top} e$",
        [
            Step(sp.Sum(JI[j, i] * eI[j], (j, 1, n))),
            Step(
                sp.Sum((gI[j] * sp.KroneckerDelta(j, i) - gI[j] * gI[i]) * eI[j], (j, 1, n)),
                "identity 3: $J_{ji} = g_j \\delta_{ji} - g_j g_i$",
            ),
            Step(gI[i] * eI[i] - gI[i] * sp.Sum(gI[j] * eI[j], (j, 1, n)), "the delta keeps $j = i$"),
        ],
        definitions={JI[j, i]: sp.Derivative(gI[j], aI[i])},
        hypotheses=CLASSES,
    )
    # the step through identity 3 is checked with g unfolded, so it rests on the definition
    general.definitions.update({gI[j]: sp.exp(aI[j]) / S, gI[i]: sp.exp(aI[i]) / S})
    exact, right, wrong_axis, _, _ = _batch_jvp()
    batch = Chain(
        "$n = 3$, a batch of 2 columns",
        [Step(exact), Step(right, "SymPy's Jacobian of each column, multiplied out")],
        size="n = 3, N = 2",
        show_latex=False,
    )
    a, e, _, g = _explicit()
    J = _jacobian(g, a)
    explicit = Chain(
        "$n = 10$",
        [
            Step(J.T * e),
            Step(g.multiply_elementwise(e) - (g.T * e)[0] * g, "SymPy's Jacobian, multiplied out"),
        ],
        size="n = 10",
        show_latex=False,
    )
    JT, gv, ev = nc(r"J^{\top}", "g", "e")
    statement, links = _shown(
        [sp.Eq(JT * ev, sp.Add(Had(gv, ev), -Inner(gv, ev) * gv, evaluate=False), evaluate=False)],
        [Link("$n = 10$", {JT: J.T, gv: g, ev: e})],
        general,
        "n = 10",
    )
    return Identity(
        "softmax_jvp_is_g_times_e_minus_inner_product",
        "The backward step through the softmax, without building J",
        [general, batch, explicit],
        statement=statement,
        links=links,
        variants=[
            Variant(
                "flipped_sign",
                "$+\\langle g, e\\rangle g$",
                gI[i] * eI[i] + gI[i] * sp.Sum(gI[j] * eI[j], (j, 1, n)),
            ),
            Variant("dropped_term", "$\\langle g, e\\rangle g$ dropped", gI[i] * eI[i]),
            Variant(
                "e_for_g_inside",
                "$\\langle e, e\\rangle$",
                gI[i] * eI[i] - gI[i] * sp.Sum(eI[j] * eI[j], (j, 1, n)),
            ),
            Variant(
                "wrong_axis", "the inner product summed along rows, not columns", wrong_axis, batch.title
            ),
        ],
        checks=_checks(_check_jvp, _fd_jvp),
        implements="softmax_jvp",
    )


# --------------------------------------------------------------------------- 5: the loss


@register(order=5)
def _loss_gradient() -> Identity:
    E = sp.Symbol("E")
    E_def = -sp.Sum(dI[k] * sp.log(yI[k]), (k, 1, n))
    general = Chain(
        "general $n$, component $i$",
        [
            Step(sp.Derivative(E, yI[i])),
            Step(sp.Derivative(E_def, yI[i]), "definition of $E$", DEFINITION),
            Step(-sp.Sum(dI[k] * sp.KroneckerDelta(i, k) / yI[k], (k, 1, n)), "differentiate each term"),
            Step(-dI[i] / yI[i], "the delta keeps $k = i$"),
        ],
        definitions={E: E_def},
        hypotheses=CLASSES,
    )
    ys = sp.Matrix(sp.symbols(f"y_1:{N_EXPLICIT + 1}", positive=True))
    _, _, d, _ = _explicit()
    E10 = -sum(d[r] * sp.log(ys[r]) for r in range(N_EXPLICIT))
    explicit = Chain(
        "$n = 10$",
        [
            Step(sp.Matrix([sp.Derivative(E10, v) for v in ys])),
            Step(sp.Matrix([-d[r] / ys[r] for r in range(N_EXPLICIT)]), "SymPy's gradient"),
        ],
        size="n = 10",
        show_latex=False,
    )
    yv, dv, grad = nc("y", "d", r"\nabla_{y} E")
    statement, links = _shown(
        [sp.Eq(grad, -EDiv(dv, yv), evaluate=False)],
        [Link("$n = 10$", {grad: explicit.first, dv: d, yv: ys})],
        general,
        "n = 10",
    )
    return Identity(
        "cross_entropy_gradient_is_minus_d_over_y",
        "The gradient of the cross-entropy with respect to the prediction",
        [general, explicit],
        statement=statement,
        links=links,
        assumptions=["$y_i > 0$"],
        variants=[
            Variant("flipped_sign", "$d / y$", dI[i] / yI[i]),
            Variant("missing_d", "$-1 / y$", -1 / yI[i]),
            Variant("not_differentiated", "$-d \\log y$", -dI[i] * sp.log(yI[i])),
        ],
        checks=_checks(_check_grad_y, _fd_grad_y),
        implements="cross_entropy_grad",
    )


# --------------------------------------------------------------------------- 6 and more: fused


def _general_component(total_step_why="cancel $g_j$; the delta keeps $j = i$"):
    # component i of J^T (-d / y) with y = g, written out (a named symbol would be shown unchecked)
    comp = sp.Sum(JI[j, i] * (-dI[j] / gI[j]), (j, 1, n))
    steps = [
        Step(comp),
        Step(
            sp.Sum((gI[j] * sp.KroneckerDelta(j, i) - gI[j] * gI[i]) * (-dI[j] / gI[j]), (j, 1, n)),
            "identity 3: $J_{ji} = g_j \\delta_{ji} - g_j g_i$",
        ),
        Step(gI[i] * sp.Sum(dI[j], (j, 1, n)) - dI[i], total_step_why),
    ]
    defs = {
        JI[j, i]: sp.Derivative(gI[j], aI[i]),
        gI[j]: sp.exp(aI[j]) / S,
        gI[i]: sp.exp(aI[i]) / S,
    }
    return comp, steps, defs


@register(order=6)
def _fused() -> Identity:
    _, steps, defs = _general_component()
    total = sp.Sum(dI[j], (j, 1, n))
    general = Chain(
        "general $n$, component $i$ of $J^{\\top} (-d / y)$, with $y = g(a)$",
        [*steps, Step(gI[i] - dI[i], "assumption: the $d_j$ sum to 1")],
        definitions=defs,
        assumptions={total: 1},
        hypotheses=CLASSES,
    )
    a, _, d, g = _explicit()
    J = _jacobian(g, a)
    last = {d[-1]: 1 - sum(d[:-1])}
    explicit = Chain(
        "$n = 10$",
        [
            Step(J.T * (-d).multiply_elementwise(g.applyfunc(lambda v: 1 / v))),
            Step(g - d, "assumption: $d_{10} = 1 - (d_1 + \\dots + d_9)$"),
        ],
        size="n = 10",
        assumptions=last,
        show_latex=False,
    )

    def needed() -> bool:
        """Without the assumption, n = 3 and d = (2, 0, 0) is a counterexample."""
        a3, _, _, g3 = _explicit(3)
        d3 = sp.Matrix([2, 0, 0])
        lhs = _jacobian(g3, a3).T * (-d3).multiply_elementwise(g3.applyfunc(lambda v: 1 / v))
        return refute(lhs, g3 - d3) is not None  # a point where they differ: a proof, unlike simplify failing

    JT, yv, dv = nc(r"J^{\top}", "y", "d")
    statement, links = _shown(
        [sp.Eq(JT * EDiv(-dv, yv), sp.Add(yv, -dv, evaluate=False), evaluate=False)],
        [Link("$n = 10$", {JT: J.T, yv: g, dv: d})],
        general,
        "n = 10",
    )
    return Identity(
        "fused_softmax_cross_entropy_gradient_is_y_minus_d",
        "Softmax and cross-entropy together: the fused gradient y − d",
        [general, explicit],
        statement=statement,
        links=links,
        assumptions=["$y = g(a)$", "the targets sum to 1, $\\sum_i d_i = 1$ (one-hot targets do)"],
        variants=[
            Variant("flipped_sign", "$d - y$", dI[i] - gI[i]),
            Variant("missing_y", "$-d$", -dI[i]),
            Variant("a_for_y", "logits $a$ in place of $y$", a - d, "$n = 10$"),
        ],
        checks=_checks(_check_backprop_delta2("one_hot"), _fd_fused("one_hot")),
        implements="backprop",
        necessity=needed,
    )


@register(order=7)
def _general_targets() -> Identity:
    _, steps, defs = _general_component()
    general = Chain(
        "general $n$, component $i$ of $J^{\\top} (-d / y)$, any targets $d$",
        steps,
        definitions=defs,
        hypotheses=CLASSES,
    )
    a, _, d, g = _explicit(4)
    J = _jacobian(g, a)
    small = Chain(
        "$n = 4$, any $d$",
        [
            Step(J.T * (-d).multiply_elementwise(g.applyfunc(lambda v: 1 / v))),
            Step(g * sum(d) - d, "SymPy's Jacobian, multiplied out"),
        ],
        size="n = 4",
        show_latex=False,
    )
    return Identity(
        "softmax_cross_entropy_gradient_for_any_targets",
        "Softmax and cross-entropy for any targets: y·Σd − d",
        [general, small],
        assumptions=["$y = g(a)$"],
        variants=[
            Variant("assumes_sum_one", "$y - d$ (true only when $\\sum_j d_j = 1$)", gI[i] - dI[i]),
            Variant("flipped_sign", "$d - y \\sum_j d_j$", dI[i] - gI[i] * sp.Sum(dI[j], (j, 1, n))),
            Variant(
                "sum_to_five",
                "$y \\sum_{j \\le 5} d_j - d$ (right only when $n = 5$)",
                gI[i] * sp.Sum(dI[j], (j, 1, 5)) - dI[i],
            ),
            Variant(
                "mean_for_sum",
                "$y \\cdot \\frac{1}{n}\\sum_j d_j - d$",
                gI[i] * sp.Sum(dI[j], (j, 1, n)) / n - dI[i],
            ),
        ],
        checks=_checks(_check_backprop_delta2("general"), _fd_fused("general")),
        implements="backprop",
    )


@register(order=8)
def _label_smoothing() -> Identity:
    q = sp.Symbol("c", integer=True, positive=True)  # the true class
    smooth = (1 - eps) * sp.KroneckerDelta(j, q) + eps / n
    # component i of J^T (-d / y) with y = g, written out; d is the smoothed target
    comp = sp.Sum(sp.Derivative(gI[j], aI[i]) * (-dI[j] / gI[j]), (j, 1, n))
    general = Chain(
        "general $n$, component $i$ of $J^{\\top} (-d / y)$, true class $c$, "
        "$d_j = (1 - \\varepsilon)\\delta_{jc} + \\varepsilon / n$",
        [
            Step(comp),
            Step(
                gI[i] * sp.Sum(smooth, (j, 1, n)) - smooth.subs(j, i),
                "identity 10 (any targets), with the smoothed $d$",
            ),
            Step(
                gI[i] * ((1 - eps) + eps) - smooth.subs(j, i),
                "the delta keeps $j = c$; $n$ terms $\\varepsilon / n$",
            ),
            Step(gI[i] - smooth.subs(j, i), "$(1 - \\varepsilon) + \\varepsilon = 1$", DEFINITION),
            Step(gI[i] - dI[i], "definition of $d_i$", DEFINITION),
        ],
        definitions={
            gI[j]: sp.exp(aI[j]) / S,
            gI[i]: sp.exp(aI[i]) / S,
            dI[j]: smooth,
            dI[i]: smooth.subs(j, i),
        },
        hypotheses={**CLASSES, sp.Le(q, n): True},
    )
    return Identity(
        "label_smoothing_gradient_is_y_minus_d",
        "Label smoothing keeps the fused gradient y − d (its targets sum to 1)",
        [general],
        assumptions=[
            "$y = g(a)$",
            "$d_j = (1 - \\varepsilon)\\delta_{jc} + \\varepsilon / n$",
            "$c \\le n$",
            "$0 \\le \\varepsilon \\le 1$",
        ],
        variants=[
            Variant(
                "smoothing_ignored", "$y - \\delta_c$ (the one-hot target)", gI[i] - sp.KroneckerDelta(i, q)
            ),
            Variant(
                "over_n_minus_1",
                "$\\varepsilon / (n - 1)$ in place of $\\varepsilon / n$",
                gI[i] - (1 - eps) * sp.KroneckerDelta(i, q) - eps / (n - 1),
            ),
        ],
        checks=_checks(_check_backprop_delta2("smoothed"), _fd_fused("smoothed")),
        implements="backprop",
    )


# --------------------------------------------------------------------------- shift, log-sum-exp


@register(order=9)
def _shift_invariance() -> Identity:
    shifted = sp.exp(aI[i] + c) / sp.Sum(sp.exp(aI[k] + c), (k, 1, n))
    general = Chain(
        "general $n$, any shift $c$",
        [
            Step(shifted),
            Step(
                sp.Mul(
                    sp.Mul(sp.exp(c), sp.exp(aI[i]), evaluate=False),
                    sp.Pow(sp.Mul(sp.exp(c), S, evaluate=False), -1, evaluate=False),
                    evaluate=False,
                ),
                "$\\exp(x + c) = \\exp(c) \\exp(x)$; $\\exp(c)$ does not depend on $k$",
            ),
            Step(sp.exp(aI[i]) / S, "cancel $\\exp(c)$"),
            Step(gI[i], "definition of $g_i$", DEFINITION),
        ],
        definitions=G,
        hypotheses=CLASSES,
    )
    return Identity(
        "softmax_is_shift_invariant",
        "Adding the same c to every logit leaves the softmax unchanged (why softmax subtracts the max)",
        [general],
        variants=[
            Variant("not_cancelled", "$\\exp(c) g_i$", sp.exp(c) * gI[i]),
            Variant("additive", "$g_i + c$", gI[i] + c),
        ],
        checks=_checks(_check_shift),
        implements="softmax",
    )


@register(order=10)
def _log_sum_exp_bounds() -> Identity:
    lse = sp.log(S)
    lower = Chain(
        "general $n$, lower bound, for every class $p$; "
        "taking $p$ with the largest $a_p$ gives $\\max_j a_j \\le$ LSE",
        [
            Step(aI[p]),
            Step(sp.log(sp.exp(aI[p], evaluate=False), evaluate=False), "$\\log \\exp(x) = x$", DEFINITION),
            Step(
                lse,
                "$\\exp(a_p)$ is one of the positive terms of the sum; $\\log$ is increasing",
                relation="<=",
            ),
        ],
        hypotheses=CLASSES,
    )
    upper = Chain(
        "general $n$, upper bound, for any $M \\ge$ every $a_k$ ($b_k = M - a_k \\ge 0$), "
        "in particular $M = \\max_j a_j$",
        [
            Step(lse),
            Step(
                sp.log(sp.exp(M) * sp.Sum(sp.exp(aI[k] - M), (k, 1, n))),
                "take $\\exp(\\max_j a_j)$ out of the sum",
            ),
            Step(M + sp.log(sp.Sum(sp.exp(aI[k] - M), (k, 1, n))), "the log of a product"),
            Step(
                M + sp.log(sp.Sum(1, (k, 1, n))),
                "each $\\exp(a_k - \\max_j a_j) \\le 1$; $\\log$ is increasing",
                relation="<=",
            ),
            Step(M + sp.log(n), "$n$ terms equal to 1", DEFINITION),
        ],
        definitions={aI[k]: M - bI[k]},
        hypotheses={bI[p]: 0, **CLASSES},  # p is the index of the largest logit
    )
    return Identity(
        "log_sum_exp_is_between_max_and_max_plus_log_n",
        "max_j a_j ≤ log Σ_j exp(a_j) ≤ max_j a_j + log n: the log-sum-exp the loss uses",
        [lower, upper],
        assumptions=["$p \\le n$", "$a_k \\le \\max_j a_j$ for every $k$"],
        variants=[
            Variant("no_log_n", "$\\log\\sum_j \\exp(a_j) \\le \\max_j a_j$", M, upper.title),
            Variant(
                "half_log_n",
                "$\\log\\sum_j \\exp(a_j) \\le \\max_j a_j + \\frac12 \\log n$",
                M + sp.log(n) / 2,
                upper.title,
            ),
            Variant(
                "plus_half",
                "$\\log\\sum_j \\exp(a_j) \\le \\max_j a_j + \\frac12$",
                M + sp.Rational(1, 2),
                upper.title,
            ),
            Variant(
                "log_10",
                "$\\log\\sum_j \\exp(a_j) \\le \\max_j a_j + \\log 10$ (true up to 10 classes)",
                M + sp.log(10),
                upper.title,
            ),
            Variant("reversed", "$\\log\\sum_j \\exp(a_j) \\le a_p$", aI[p], first=lse),
        ],
        checks=_checks(_check_lse),
        implements="cross_entropy_from_logits",
    )
