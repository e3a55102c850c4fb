"""Each identity proved by SymPy step by step, then checked against the NumPy code.

One test per identity, named after it. Each asserts that every step of every proof
chain was shown equal to the next, and compares the NumPy function with the SymPy
expression (mpmath at 50 digits) on inputs drawn by Hypothesis, in float64 and float32:
tolerances are those of ``backproof.verify.TOLERANCE`` (1e-9 and 1e-4, normwise relative
error per column), finite differences below 1e-7 (CS231n elementwise relative error).
"""

import numpy as np
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backproof import cross_entropy_grad, one_hot, relu_jvp, softmax, softmax_jvp
from backproof import symbolic as S
from backproof import verify as V

TOL = V.TOLERANCE
N10 = S.N_EXPLICIT
logits = st.floats(-1000, 1000, allow_nan=False, width=64)


def assert_proved(name):
    ident = S.identity(name)
    result = ident.prove()
    for title, steps in result.chains.items():
        assert steps and all(steps), f"{name}: chain {title!r} failed at steps {steps}"
    assert result.proved
    return ident, result


def assert_numeric(name):
    assert V.numeric_check(name, np.float64) <= TOL["float64"]
    assert V.numeric_check(name, np.float32) <= TOL["float32"]
    assert V.fd_check(name) <= TOL["fd"]


def columns(cols=st.integers(1, 3), elements=logits):
    return arrays(np.float64, st.tuples(st.just(N10), cols), elements=elements)


@settings(max_examples=20, deadline=None)
@given(a=columns())
def test_softmax_derivative_diagonal(a):
    """dg_i/da_i = g_i (1 - g_i): proved for general n and n = 10; the diagonal of J from softmax_jvp."""
    assert_proved("softmax_derivative_diagonal")
    assert_numeric("softmax_derivative_diagonal")
    g = softmax(a)
    for c in range(a.shape[1]):
        J = V._jacobian_by_jvp(a[:, c])
        np.testing.assert_allclose(np.diag(J), g[:, c] * (1 - g[:, c]), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(a=columns())
def test_softmax_derivative_off_diagonal(a):
    """dg_i/da_j = -g_i g_j for i != j."""
    assert_proved("softmax_derivative_off_diagonal")
    assert_numeric("softmax_derivative_off_diagonal")
    g = softmax(a[:, :1])[:, 0]
    J = V._jacobian_by_jvp(a[:, 0])
    off = ~np.eye(N10, dtype=bool)
    np.testing.assert_allclose(J[off], -np.outer(g, g)[off], atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(a=columns(cols=st.just(1)))
def test_softmax_jacobian_is_symmetric(a):
    """J = diag(g) - g g^T = J^T: the Jacobian that softmax_jvp applies is symmetric."""
    assert_proved("softmax_jacobian_is_symmetric")
    assert_numeric("softmax_jacobian_is_symmetric")
    J = V._jacobian_by_jvp(a[:, 0])
    ref = V._mp(V._softmax_refs()["J"], a).reshape(N10, N10)
    assert V.jvp_rel_error(np.repeat(a, N10, axis=1), np.eye(N10), J, ref) <= TOL["float64"]
    np.testing.assert_array_equal(J, J.T)


@settings(max_examples=20, deadline=None)
@given(a=columns(), scale=st.sampled_from([1e-3, 1.0, 1e3]), dtype=st.sampled_from([np.float64, np.float32]))
def test_softmax_jvp_is_g_times_e_minus_inner_product(a, scale, dtype):
    """J^T e = g * e - <g, e> g, against SymPy's J^T e, for logits up to +-1000, in float64 and float32.

    The error is taken relative to the terms the formula subtracts (verify.jvp_rel_error):
    for a nearly one-hot g they cancel, and no float32 code can do better than that scale.
    """
    assert_proved("softmax_jvp_is_g_times_e_minus_inner_product")
    e = np.random.default_rng(int(abs(a[0, 0]))).standard_normal(a.shape) * scale
    a, e = a.astype(dtype), e.astype(dtype)
    ref = V._mp(V._softmax_refs()["jvp"], a, e)
    tol = TOL["float64"] if dtype is np.float64 else TOL["float32"]
    assert V.jvp_rel_error(a, e, softmax_jvp(a, e), ref) <= tol


@settings(max_examples=20, deadline=None)
@given(
    y=arrays(np.float64, (N10, 2), elements=st.floats(1e-6, 1.0)), labels=st.tuples(*[st.integers(0, 9)] * 2)
)
def test_cross_entropy_gradient_is_minus_d_over_y(y, labels):
    """grad_y E = -d / y for E = -sum d log y."""
    assert_proved("cross_entropy_gradient_is_minus_d_over_y")
    assert_numeric("cross_entropy_gradient_is_minus_d_over_y")
    d = one_hot(np.array(labels), dtype=np.float64)
    assert (
        V.col_rel_error(cross_entropy_grad(y, d), V._mp(V._softmax_refs()["grad_y"], y, d)) <= TOL["float64"]
    )


@settings(max_examples=20, deadline=None)
@given(a=columns(), labels=st.lists(st.integers(0, 9), min_size=3, max_size=3))
def test_fused_softmax_cross_entropy_gradient_is_y_minus_d(a, labels):
    """J^T(-d/y) = y - d when sum(d) = 1: SymPy's chain equals the fused y - d backproof uses."""
    _, result = assert_proved("fused_softmax_cross_entropy_gradient_is_y_minus_d")
    assert result.necessity is True  # without sum(d) = 1 the identity fails (a counterexample)
    assert_numeric("fused_softmax_cross_entropy_gradient_is_y_minus_d")
    d = one_hot(np.array(labels[: a.shape[1]]), dtype=np.float64)
    y = softmax(a)
    assert V.difference_rel_error(y - d, V._mp(V._softmax_refs()["fused"], a, d), y, d) <= TOL["float64"]


def test_fused_identity_needs_targets_that_sum_to_one():
    """With d = (2, 0, 0), J^T(-d/y) is not y - d: the assumption cannot be dropped."""
    a3, _, _, g3 = S._explicit(3)
    d3 = sp.Matrix([2, 0, 0])
    lhs = g3.jacobian(a3).T * (-d3).multiply_elementwise(g3.applyfunc(lambda v: 1 / v))
    assert not S.equal(lhs, g3 - d3)
    assert S.equal(lhs, g3 * 2 - d3)  # what it is instead: y * sum(d) - d


@settings(max_examples=20, deadline=None)
@given(a=arrays(np.float64, (6, 3), elements=st.sampled_from([-2.0, -0.5, 0.0, 0.5, 3.0])))
def test_relu_derivative_is_heaviside_zero_at_kink(a):
    """relu'(a) = H(a) with H(0) = 0; relu_jvp equals SymPy's Heaviside(a, 0) * e, at 0 too."""
    assert_proved("relu_derivative_is_heaviside_zero_at_kink")
    assert_numeric("relu_derivative_is_heaviside_zero_at_kink")
    e = np.full(a.shape, 1.5)
    ref = np.vectorize(lambda t: float(sp.Heaviside(sp.Float(t), 0)))(a) * e
    np.testing.assert_array_equal(relu_jvp(a, e), ref)


def test_network_backprop_equals_sympy_gradient():
    """For 4 inputs, 3 hidden, 3 classes, batch 2: backprop's formulas equal SymPy's dE/dW1, b1, W2, b2."""
    assert_proved("network_backprop_equals_sympy_gradient")
    assert_numeric("network_backprop_equals_sympy_gradient")


def test_mean_loss_gradient_is_summed_gradient_over_n():
    """d(mean E)/dtheta = (sum of dE_n/dtheta) / N: the course's gamma / N."""
    assert_proved("mean_loss_gradient_is_summed_gradient_over_n")
    assert_numeric("mean_loss_gradient_is_summed_gradient_over_n")


def test_the_checker_rejects_a_lost_minus_sign():
    """A chain with a wrong step is not proved: the check can fail."""
    a_i, R = S.a_i, S.R
    g = sp.exp(a_i) / (sp.exp(a_i) + R)
    wrong = S.Chain("wrong", [S.Step(sp.Derivative(g, a_i)), S.Step(-g * (1 - g), "sign lost")])
    right = S.Chain("right", [S.Step(sp.Derivative(g, a_i)), S.Step(g * (1 - g), "correct")])
    assert wrong.check() == [False]
    assert right.check() == [True]


def test_textbook_minus_d_over_y_breaks_where_y_underflows_but_y_minus_d_is_exact():
    """Logits 0 and -1000 for the true class: y underflows to 0, -d/y is -inf, y - d stays exact."""
    a = np.array([[1000.0], [0.0], [-1000.0]])  # true class 2 has y = e^-2000 -> 0 in float64
    d = np.array([[0.0], [0.0], [1.0]])
    y = softmax(a)
    assert y[2, 0] == 0.0
    with np.errstate(all="ignore"):
        textbook = softmax_jvp(a, cross_entropy_grad(y, d))
    assert not np.all(np.isfinite(textbook))
    np.testing.assert_array_equal(y - d, [[1.0], [0.0], [-1.0]])


def test_every_identity_has_latex_for_the_site():
    for ident in S.identities():
        assert ident.statement_latex() and all(ident.statement_latex())
        shown = [c for c in ident.chains if c.show_latex]
        # the network's chains are 27 large expressions: the site shows its recursion (the statement)
        assert shown or ident.name == "network_backprop_equals_sympy_gradient", ident.name
        assert all(len(c.latex()) == len(c.steps) for c in shown)
