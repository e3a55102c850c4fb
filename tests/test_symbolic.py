"""Each identity proved by SymPy step by step, its wrong versions refuted, then checked against NumPy.

One test per identity of the original nine, named after it, with Hypothesis inputs; then
tests over the whole catalogue: every proof holds, every shown statement is what its chain
proves (and a changed statement is caught), every identity has a substantive step, every
wrong variant is refuted by a rational point within the refuter's cap (VARIANT_SECONDS), every
numeric check passes.
Tolerances are ``backproof.verify.TOLERANCE`` (normwise relative error per column against
50-digit mpmath; CS231n elementwise against finite differences).
"""

import dataclasses
import time

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backproof import cross_entropy_grad, one_hot, relu_jvp, softmax, softmax_jvp
from backproof import symbolic as S
from backproof import verify as V
from backproof.symbolic.rules import CITED

TOL = V.TOLERANCE
N10 = S.N_EXPLICIT
logits = st.floats(-1000, 1000, allow_nan=False, width=64)
NAMES = [ident.name for ident in S.identities()]


def assert_proved(name):
    ident = S.identity(name)
    result = ident.prove()
    for title, steps in result.chains.items():
        assert steps and all(steps), f"{name}: chain {title!r} failed at steps {steps}"
    assert all(result.statement), f"{name}: the shown statement is not what the chain proves"
    assert result.proved
    return ident, result


def columns(cols=st.integers(1, 3), elements=logits):
    return arrays(np.float64, st.tuples(st.just(N10), cols), elements=elements)


# --------------------------------------------------------------------------- the whole catalogue


@pytest.mark.parametrize("name", NAMES)
def test_every_identity_is_proved_and_its_statement_is_what_its_chains_prove(name):
    assert_proved(name)


@pytest.mark.parametrize("name", NAMES)
def test_every_wrong_variant_is_refuted_within_ten_seconds_by_a_rational_point(name):
    ident = S.identity(name)
    assert ident.variants, f"{name} has no wrong variant"
    for verdict in ident.refute_variants():
        assert verdict.refuted, f"{name}: variant {verdict.name!r} not refuted"
        assert verdict.method in (S.REFUTATION, S.SHAPES)
        assert verdict.seconds < S.VARIANT_SECONDS


@pytest.mark.parametrize("name", NAMES)
def test_every_numeric_check_is_finite_and_within_tolerance(name):
    ident = S.identity(name)
    assert ident.checks, f"{name} has no numeric check"
    for q, check in enumerate(ident.checks):
        err = check.run(np.random.default_rng([0, q]))
        assert np.isfinite(err) and err <= TOL[check.kind], (name, check.label, err)


def test_every_identity_has_a_substantive_step_and_steps_are_marked():
    for ident in S.identities():
        assert ident.substantive_steps >= 1, ident.name
        for chain in ident.chains:
            kinds = (S.DEFINITION, S.REWRITE, CITED)  # a cited rule is marked as cited, never as derived
            assert all(s.kind in kinds for s in chain.steps), ident.name
    # the count is that of the steps marked as rewrites, and definitions are not counted
    diag = S.identity("softmax_derivative_diagonal").chains[0]
    assert diag.substantive == sum(s.kind == S.REWRITE for s in diag.steps[1:]) < len(diag.steps) - 1


def test_no_substantive_step_is_the_expression_before_it_unchanged():
    """A rewrite that SymPy already made at construction would be counted but certify nothing."""
    for ident in S.identities():
        for chain in ident.chains:
            for before, after in zip(chain.steps, chain.steps[1:]):
                if after.kind == S.REWRITE:
                    assert before.expr != after.expr, (ident.name, chain.title, after.why)


def test_sizes_say_which_chains_are_general_and_which_fixed():
    assert S.identity("network_backprop_equals_sympy_gradient").sizes == ["Ni = 4, Nh = 3, No = 3, N = 2"]
    assert S.identity("softmax_derivative_diagonal").sizes == ["symbolic", "n = 10"]


def _first(f):
    """Change the first displayed equation with ``f`` and keep the others."""

    def change(statement):
        if isinstance(statement, sp.Tuple):
            return sp.Tuple(f(statement.args[0]), *statement.args[1:])
        return f(statement)

    return change


@pytest.mark.parametrize(
    "name, wrong",
    [
        ("softmax_derivative_diagonal", _first(lambda s: sp.Eq(s.lhs, s.rhs + 1, evaluate=False))),
        ("softmax_derivative_off_diagonal", _first(lambda s: sp.Eq(s.lhs, -s.rhs, evaluate=False))),
        ("cross_entropy_gradient_is_minus_d_over_y", _first(lambda s: sp.Eq(s.lhs, -s.rhs, evaluate=False))),
        (  # the inner product's sign flipped
            "softmax_jvp_is_g_times_e_minus_inner_product",
            _first(
                lambda s: sp.Eq(s.lhs, sp.Add(s.rhs.args[0], -s.rhs.args[1], evaluate=False), evaluate=False)
            ),
        ),
        (  # "J = diag(g) + g g^T"
            "softmax_jacobian_is_symmetric",
            _first(lambda s: sp.Eq(s.lhs, sp.Add(s.rhs.args[0], -s.rhs.args[1], evaluate=False))),
        ),
        (  # the componentwise (general n) equation of the fused gradient, sign flipped
            "fused_softmax_cross_entropy_gradient_is_y_minus_d",
            lambda s: sp.Tuple(s.args[0], sp.Eq(s.args[1].lhs, -s.args[1].rhs, evaluate=False)),
        ),
    ],
)
def test_a_changed_displayed_statement_fails_the_check(name, wrong):
    ident = S.identity(name)
    changed = dataclasses.replace(ident, statement=wrong(ident.statement))
    if not ident.generated:
        changed.generated = False
    else:  # a generated statement is compared with the chains' ends directly
        changed.generated = True
    assert not all(changed.statement_checks())
    assert all(ident.statement_checks())


def test_a_shown_equation_without_a_link_fails():
    ident = S.identity("softmax_jacobian_is_symmetric")
    unlinked = dataclasses.replace(ident, links=ident.links[:1])
    assert unlinked.statement_checks() == [True, False, False]  # matrix form, symmetry, general n


def test_the_checker_rejects_a_lost_minus_sign():
    """A chain with a wrong step is not proved, and is refuted at a point, not by a slow simplify."""
    a = sp.Symbol("a", real=True)
    R = sp.Symbol("R", positive=True)
    g = sp.exp(a) / (sp.exp(a) + R)
    wrong = S.Chain("wrong", [S.Step(sp.Derivative(g, a)), S.Step(-g * (1 - g), "sign lost")])
    right = S.Chain("right", [S.Step(sp.Derivative(g, a)), S.Step(g * (1 - g), "correct")])
    assert wrong.check() == [False]
    assert right.check() == [True]
    assert S.refute(sp.Derivative(g, a), -g * (1 - g))[0] == S.REFUTATION
    assert S.refute(sp.Derivative(g, a), g * (1 - g)) is None


def test_refutation_of_a_wrong_network_formula_is_fast_where_simplify_was_not():
    """A missing transpose in backprop's delta_1: refuted at a rational point within the refuter's cap."""
    net = S.tiny_network()
    W2, dlt2, M, x = net["params"]["W2"], net["delta2"], net["M"], net["x"]
    wrong = M.multiply_elementwise(W2 * dlt2) * x.T
    start = time.perf_counter()
    found = S.refute(net["sympy"]["W1"], wrong, choices={m: (0, 1) for m in M})
    assert found is not None and found[0] == S.REFUTATION
    assert time.perf_counter() - start < S.VARIANT_SECONDS


def test_inequality_steps_need_a_reason_the_rules_accept():
    t = sp.Symbol("t", real=True)
    assert S.nonnegative(sp.exp(t))
    assert S.nonnegative(1 - sp.exp(-sp.Symbol("b", nonnegative=True)))
    assert not S.nonnegative(t)
    bad = S.Chain("t <= 0 is false", [S.Step(t), S.Step(sp.Integer(0), "no reason", relation="<=")])
    assert bad.check() == [False]


def test_a_sum_is_at_least_one_of_its_terms_only_for_an_index_in_its_range():
    """Review H2: a_p <= log sum_{k<=u} e^{a_k} is false for p > u; without p <= u it must not pass."""
    p, k, u = (sp.Symbol(x, integer=True, positive=True) for x in "pku")
    a = sp.IndexedBase("a", real=True)
    steps = [
        S.Step(a[p]),
        S.Step(sp.log(sp.exp(a[p], evaluate=False), evaluate=False), "log exp", S.DEFINITION),
        S.Step(sp.log(sp.Sum(sp.exp(a[k]), (k, 1, u))), "one term of the sum", relation="<="),
    ]
    assert S.Chain("no hypothesis", steps).check() == [True, False]
    assert S.Chain("p is in the range", steps, hypotheses={sp.Le(p, u): True}).check() == [True, True]
    assert not S.nonnegative(sp.Sum(1, (k, 1, u - 3)))  # Karr: a sum of negative length is negative


def test_the_registry_numbers_identities_and_refuses_duplicate_names():
    assert [i.number for i in S.identities()] == list(range(1, len(NAMES) + 1))
    assert NAMES[:9] == [
        "softmax_derivative_diagonal",
        "softmax_derivative_off_diagonal",
        "softmax_jacobian_is_symmetric",
        "softmax_jvp_is_g_times_e_minus_inner_product",
        "cross_entropy_gradient_is_minus_d_over_y",
        "fused_softmax_cross_entropy_gradient_is_y_minus_d",
        "softmax_cross_entropy_gradient_for_any_targets",
        "label_smoothing_gradient_is_y_minus_d",
        "softmax_is_shift_invariant",
    ]  # the reading order of the site's chapters: softmax, then ReLU, then the network
    from backproof.symbolic import engine

    built, first = S.identities(), S.identity(NAMES[0])
    factory = S.register(lambda: dataclasses.replace(first, number=0), order=999)
    try:
        with pytest.raises(ValueError, match="registered twice"):
            S.identities()
    finally:
        engine._FACTORIES[:] = [f for f in engine._FACTORIES if f[2] is not factory]
        engine._BUILT[:] = [built]  # the proofs cached on these objects stay valid
    assert S.identities() is built


def test_unknown_identity_names_the_known_ones():
    with pytest.raises(KeyError, match="softmax_derivative_diagonal"):
        S.identity("no_such_identity")


def test_identities_render_for_jupyter():
    ident = S.identity("softmax_derivative_diagonal")
    md = ident._repr_markdown_()
    assert ident.statement_latex()[0] in md and "[rewrite]" in md and "[definition]" in md
    assert ident._repr_latex_().startswith("$$") and ident.statement_latex()[0] in ident._repr_latex_()


def test_every_identity_has_latex_for_the_site():
    for ident in S.identities():
        assert ident.statement_latex() and all(ident.statement_latex())
        for c in ident.chains:
            if c.show_latex:
                assert len(c.latex()) == len(c.steps)


# --------------------------------------------------------------------------- the nine, with Hypothesis


@settings(max_examples=20, deadline=None)
@given(a=columns())
def test_softmax_derivative_diagonal(a):
    """dg_i/da_i = g_i (1 - g_i): the diagonal of J from softmax_jvp."""
    g = softmax(a)
    for c in range(a.shape[1]):
        J = V._jacobian_by_jvp(a[:, c])
        np.testing.assert_allclose(np.diag(J), g[:, c] * (1 - g[:, c]), atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(a=columns())
def test_softmax_derivative_off_diagonal(a):
    """dg_i/da_j = -g_i g_j for i != j."""
    g = softmax(a[:, :1])[:, 0]
    J = V._jacobian_by_jvp(a[:, 0])
    off = ~np.eye(N10, dtype=bool)
    np.testing.assert_allclose(J[off], -np.outer(g, g)[off], atol=1e-12)


@settings(max_examples=20, deadline=None)
@given(a=columns(cols=st.just(1)))
def test_softmax_jacobian_is_symmetric(a):
    """J = diag(g) - g g^T = J^T: the Jacobian that softmax_jvp applies is symmetric."""
    J = V._jacobian_by_jvp(a[:, 0])
    ref = V._mp(V._softmax_refs()["J"], a).reshape(N10, N10)
    assert V.jvp_rel_error(np.repeat(a, N10, axis=1), np.eye(N10), J, ref) <= TOL["float64"]
    np.testing.assert_array_equal(J, J.T)


@settings(max_examples=20, deadline=None)
@given(a=columns(), scale=st.sampled_from([1e-3, 1.0, 1e3]), dtype=st.sampled_from([np.float64, np.float32]))
def test_softmax_jvp_is_g_times_e_minus_inner_product(a, scale, dtype):
    """J^T e = g * e - <g, e> g against SymPy's J^T e, logits up to +-1000, float64 and float32."""
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
    d = one_hot(np.array(labels), dtype=np.float64)
    assert (
        V.col_rel_error(cross_entropy_grad(y, d), V._mp(V._softmax_refs()["grad_y"], y, d)) <= TOL["float64"]
    )


@settings(max_examples=20, deadline=None)
@given(a=columns(), labels=st.lists(st.integers(0, 9), min_size=3, max_size=3))
def test_fused_softmax_cross_entropy_gradient_is_y_minus_d(a, labels):
    """J^T(-d/y) = y - d when sum(d) = 1; the assumption is needed (a counterexample without it)."""
    _, result = assert_proved("fused_softmax_cross_entropy_gradient_is_y_minus_d")
    assert result.necessity is True
    d = one_hot(np.array(labels[: a.shape[1]]), dtype=np.float64)
    y = softmax(a)
    assert V.difference_rel_error(y - d, V._mp(V._softmax_refs()["fused"], a, d), y, d) <= TOL["float64"]


@settings(max_examples=20, deadline=None)
@given(a=arrays(np.float64, (6, 3), elements=st.sampled_from([-2.0, -0.5, 0.0, 0.5, 3.0])))
def test_relu_derivative_is_heaviside_zero_at_kink(a):
    """relu'(a) = H(a) with H(0) = 0; relu_jvp equals SymPy's Heaviside(a, 0) * e, at 0 too."""
    e = np.full(a.shape, 1.5)
    ref = np.vectorize(lambda t: float(sp.Heaviside(sp.Float(t), 0)))(a) * e
    np.testing.assert_array_equal(relu_jvp(a, e), ref)


def test_network_backprop_equals_sympy_gradient():
    """Backprop equals SymPy's gradient (4-3-3, batch 2), and a missing transpose is refuted."""
    ident, _ = assert_proved("network_backprop_equals_sympy_gradient")
    names = {v.name for v in ident.variants}
    assert {"missing_transpose", "a_for_h", "mask_dropped", "divided_by_N"} <= names


def test_the_shallow_networks_deltas_are_shown_as_definitions_and_still_checked():
    from backproof.symbolic.notation import Defines

    ident = S.identity("network_backprop_equals_sympy_gradient")
    shown = ident.equations()
    assert [isinstance(e, Defines) for e in shown] == [True, False, False, True, False, False]
    assert ident.statement_latex()[0].startswith(r"\delta_{2} \coloneqq")
    assert ":=" in str(ident).splitlines()[1]
    # a wrong definition on display is still caught: delta_2 := y + d
    wrong = Defines(shown[0].lhs, sp.Add(*shown[0].rhs.args[:1], -shown[0].rhs.args[1], evaluate=False))
    broken = dataclasses.replace(ident, statement=sp.Tuple(wrong, *shown[1:]))
    assert broken.statement_checks()[0] is False


def test_mean_loss_gradient_is_summed_gradient_over_n():
    """The training step is theta - (gamma/B) grad sum E, checked against the training code itself."""
    ident, _ = assert_proved("mean_loss_gradient_is_summed_gradient_over_n")
    assert any("kernel" in c.label or "train_full_batch" in c.label for c in ident.checks)
    assert "missing_1_over_B" in {v.name for v in ident.variants}


def test_textbook_minus_d_over_y_breaks_where_y_underflows_but_y_minus_d_is_exact():
    """Logits 0 and -1000 for the true class: y underflows to 0, -d/y is -inf, y - d stays exact."""
    a = np.array([[1000.0], [0.0], [-1000.0]])
    d = np.array([[0.0], [0.0], [1.0]])
    y = softmax(a)
    assert y[2, 0] == 0.0
    with np.errstate(all="ignore"):
        textbook = softmax_jvp(a, cross_entropy_grad(y, d))
    assert not np.all(np.isfinite(textbook))
    np.testing.assert_array_equal(y - d, [[1.0], [0.0], [-1.0]])
