"""The layer identities: proved by SymPy for symbolic sizes, their wrong variants refuted, checked in NumPy.

One test per identity, named after it, asserts that every step of every chain was shown equal
to the next, that the displayed equation is the one at the chain's two ends, and that the sizes
are symbolic (the chain's expressions contain the size symbols, not numbers). Each wrong variant
is refuted by exact evaluation at a random rational point within the refuter's cap, while the true statement
holds at the same point. The numeric checks compare backproof's NumPy code with SymPy's reference
at 50 digits (tolerances of ``backproof.verify.TOLERANCE``) over three seeds.
"""

import numpy as np
import pytest
import sympy as sp

from backproof.symbolic import REFUTATION, VARIANT_SECONDS
from backproof.symbolic import _layer_numeric as LV
from backproof.symbolic import layer_identities as LP
from backproof.verify import TOLERANCE

ALL = LP.layer_identities()
NAMES = [ident.name for ident in ALL]
VARIANTS = [(ident.name, v.name) for ident in ALL for v in ident.variants]
SEEDS = (0, 1, 2)


def assert_proved(name):
    ident = LP.layer_identity(name)
    rec = ident.prove()
    for title, steps in rec.chains.items():
        assert steps and all(steps), f"{name}: chain {title!r} failed at steps {steps}"
    assert rec.statement and all(rec.statement), (
        f"{name}: a displayed equation is not the one its chain proves"
    )
    assert rec.proved
    assert ident.substantive_steps >= 1
    return ident


def test_linear_layer_gradients_delta_x_transpose():
    """dE/dW = delta x^T, dE/db = delta 1, dE/dx = W^T delta for symbolic m, n, N (no size substituted)."""
    ident = assert_proved("linear_layer_gradients_delta_x_transpose")
    assert {LP.m, LP.n, LP.N} <= size_symbols_of(ident.claims)
    assert ident.sizes == ["symbolic", "m, n, N <= 3"]  # the second: the chain rule's instances only
    shown = ident.statement_latex()
    assert shown == [
        r"\frac{\partial E}{\partial W} = \delta x^{T}",
        r"\frac{\partial E}{\partial b} = \delta \mathbb{1}",
        r"\frac{\partial E}{\partial x} = W^{T} \delta",
    ]


def test_activation_gradient_is_sigma_prime_times_e():
    """dE/da = sigma'(a) * e for symbolic m, N and an undefined sigma."""
    ident = assert_proved("activation_gradient_is_sigma_prime_times_e")
    assert {LP.m, LP.N} <= size_symbols_of(ident.claims)
    assert ident.sizes == ["symbolic", "m, N <= 3"]
    assert ident.statement_latex() == [r"\frac{\partial E}{\partial a} = \sigma'\left(a\right) \odot e"]


@pytest.mark.parametrize(
    "name",
    [
        "leaky_relu_derivative_is_one_or_alpha",
        "sigmoid_derivative_is_s_times_one_minus_s",
        "tanh_derivative_is_one_minus_tanh_squared",
    ],
)
def test_activation_derivative_from_its_definition(name):
    """lrelu' = 1 or alpha (alpha at the kink), sigmoid' = s(1 - s), tanh' = 1 - tanh^2, from definitions."""
    assert_proved(name)


def test_leaky_relu_kink_convention_is_alpha_as_the_code():
    """The convention the proof states at a = 0 is the one leaky_relu_jvp uses."""
    from backproof.activations import LEAKY_RELU_ALPHA, leaky_relu_jvp

    kink = LP.layer_identity("leaky_relu_derivative_is_one_or_alpha").chains[-1]
    assert kink.steps[-1].expr == LP.alpha
    assert leaky_relu_jvp(np.zeros(3), np.ones(3)).tolist() == [LEAKY_RELU_ALPHA] * 3


def test_backprop_recursion_for_any_depth():
    """Induction on l: base P(L), delta_L := y - d; step P(l) => P(l-1); the gradients given P(l)."""
    ident = assert_proved("backprop_recursion_for_any_depth")
    assert ident.sizes == ["symbolic", "m, n, N <= 3", "n_{l-1}, n_l, N <= 3"]
    assert len(ident.base) == 1 and len(ident.step) == 1 and len(ident.consequences) == 2
    assert {LP.L, LP.N} <= size_symbols_of(ident.base) and LP.l not in size_symbols_of(ident.base)
    assert {LP.l, LP.N} <= size_symbols_of(ident.step)
    assert all(ident.induction_checks().values()), ident.induction_checks()
    shown = ident.statement_latex()
    assert shown[0] == r"\frac{\partial E}{\partial a_{L}} = \delta_{L} \quad (\delta_L := y - d)"
    assert shown[1].startswith(r"P(l) \;\Rightarrow\; \frac{\partial E}{\partial a_{l - 1}} = \delta_{l - 1}")


def size_symbols_of(claims):
    return set().union(*(step.expr.free_symbols for c in claims for step in c.chain.steps))


def test_base_case_needs_targets_that_sum_to_one():
    """Without the assumption that each column of d sums to 1, the base case's last rewrite fails."""
    chain = LP.recursion_theorem().base[0].chain
    steps = chain.steps
    i = next(k for k, st in enumerate(steps) if "assumption" in st.why)
    assert LP.equal_general(steps[i - 1].expr, steps[i].expr, chain.definitions, chain.assumptions)
    assert not LP.equal_general(steps[i - 1].expr, steps[i].expr, chain.definitions)
    assert LP.recursion_theorem().prove().necessity is True


@pytest.mark.parametrize(("identity", "variant"), VARIANTS)
def test_wrong_variant_is_refuted_at_a_rational_point(identity, variant):
    """Each wrong variant differs from SymPy's derivative at a random rational point; the claim agrees."""
    v = next(x for x in LP.layer_identity(identity).variants if x.name == variant)
    verdict = v.refute(seed=0)
    assert verdict.point["claim_holds_there"], verdict
    assert verdict.refuted and verdict.method == REFUTATION, verdict
    assert verdict.seconds < VARIANT_SECONDS


def test_every_layer_identity_is_in_the_catalogue_with_three_variants_or_more():
    from backproof import symbolic as S

    names = [ident.name for ident in S.identities()]
    assert all(name in names for name in NAMES)
    assert all(len(ident.variants) >= 3 for ident in ALL)


def test_a_changed_displayed_statement_no_longer_matches_its_chain():
    """The shown equation is checked against its chain: a changed sign or sigma for sigma' is caught."""
    claim_W = LP.linear_layer_lemma().claims[0]
    assert claim_W.matches_chain()
    wrong_W = LP.Claim(-claim_W.rhs, claim_W.chain, claim_W.lhs_entry)
    assert wrong_W.latex() != claim_W.latex() and not wrong_W.matches_chain()
    claim_a = LP.activation_lemma().claims[0]
    a, e = (sp.MatrixSymbol(v, LP.m, LP.N) for v in ("a", "e"))
    wrong_a = LP.Claim(sp.HadamardProduct(LP.elementwise(LP.sigma, a), e), claim_a.chain, claim_a.lhs_entry)
    assert claim_a.matches_chain() and not wrong_a.matches_chain()
    # the shown left side is made from the chain's first step: another left side needs another start
    step = LP.recursion_theorem().step[0]
    a_l = LP.LayerMatrix("a", LP.n_l, LP.N, LP.l)
    relabelled = LP.Claim(step.rhs, step.chain, sp.Derivative(LP.E, a_l[LP.r, LP.s]), premise="P(l)")
    assert relabelled.latex() != step.latex() and not relabelled.matches_chain()


def test_the_checker_rejects_a_wrong_contraction():
    """A chain whose step sums over the wrong index is not proved: the symbolic check can fail."""
    chain = LP.linear_layer_lemma().claims[0].chain
    delta, x = sp.MatrixSymbol(r"\delta", LP.m, LP.N), sp.MatrixSymbol("x", LP.n, LP.N)
    q = LP.q
    wrong = sp.Sum(delta[LP.s, q] * x[LP.r, q], (q, 0, LP.N - 1))  # the entry (s, r): the transposed gradient
    bad = LP.IndexedChain(
        "wrong",
        [*chain.steps[:3], LP.rewrite(wrong, "wrong"), chain.steps[-1]],
        definitions=chain.definitions,
    )
    assert bad.check() == [True, True, False, False]


def test_the_step_rejects_sigma_prime_of_the_wrong_layer():
    chain = LP.recursion_theorem().step[0].chain
    steps = list(chain.steps)
    k = next(i for i, st in enumerate(steps) if st.why.startswith("activation lemma"))
    wrong = steps[k].expr.xreplace({LP.r: LP.s, LP.s: LP.r})  # sigma'(a_sr) * sum_p W_ps delta_pr
    window = [steps[k - 1], LP.rewrite(wrong, "wrong"), steps[k + 1]]  # the steps around it: proved before
    assert LP.IndexedChain("wrong", window, definitions=chain.definitions).check() == [False, False]


def test_chain_rule_instances_hold_at_every_size_up_to_3_and_a_wrong_rule_fails():
    """The cited chain rule, checked by SymPy for an undefined E of all entries, at every size from 1
    to 3 in each dimension, for each instance the proofs use; a rule with a stray 1/2 fails."""
    from backproof.symbolic import chain_rule as C

    for kind, dims in (("linear", "m, n, N"), ("activation", "m, N"), ("step", "n_{l-1}, n_l, N")):
        chain = LP.chain_rule_chain(kind)
        assert chain.size == f"{dims} <= 3" and chain.check() == [True]
    assert C._linear(2, 1, 3) and not C._linear(2, 1, 3, scale=sp.Rational(1, 2))
    x, y = sp.symbols("x y", real=True)
    u = [x * y, x + y]
    assert C.chain_rule_holds(u, [x, y], lambda D, w: D[0] * sp.diff(u[0], w) + D[1] * sp.diff(u[1], w))
    assert not C.chain_rule_holds(u, [x, y], lambda D, w: D[0] * sp.diff(u[0], w))  # a term lost
    assert not C.chain_rule_holds(u, [x, y], lambda D, w: D[1] * sp.diff(u[0], w) + D[0] * sp.diff(u[1], w))


def test_a_cited_step_must_be_the_rule_applied_and_nothing_else():
    """The chain-rule step of dE/dW: a stray 1/2, the wrong range or an extra rewrite is refused."""
    from backproof.symbolic.indexed import applies_its_rules
    from backproof.symbolic.rules import CHAIN_RULE, cite

    chain = LP.linear_layer_lemma().claims[0].chain
    before, step = chain.steps[0], chain.steps[1]
    assert applies_its_rules(before, step)
    (lhs, rhs), half = step.uses[0], sp.Rational(1, 2)
    stray = sp.Sum(half * rhs.function, *rhs.limits)
    assert not applies_its_rules(before, cite(stray, "", [CHAIN_RULE], [(lhs, stray)]))
    short = sp.Sum(rhs.function, (rhs.limits[0][0], 0, rhs.limits[0][2] - 1), rhs.limits[1])
    assert not applies_its_rules(before, cite(short, "", [CHAIN_RULE], [(lhs, short)]))
    assert not applies_its_rules(before, cite(half * rhs, "", [CHAIN_RULE], [(lhs, rhs)]))
    assert not applies_its_rules(before, cite(rhs, "", [], [(lhs, rhs)]))  # no rule named


def test_the_induction_is_checked_by_substitution_and_a_wrong_predicate_fails():
    """P(l) is an expression in l; the base case is P(L) and the step concludes P(l - 1), by substitution."""
    import dataclasses

    thm = LP.recursion_theorem()
    checks = thm.induction_checks()
    assert all(checks.values()) and len(checks) == 6
    Pl = LP.P(LP.l)
    assert Pl.xreplace({LP.l: LP.L}).lhs == thm.base[0].chain.steps[0].expr
    assert Pl.xreplace({LP.l: LP.l - 1}).rhs == thm.step[0].chain.steps[-1].expr

    def doubled(k):
        eq = LP.P(k)
        return sp.Eq(eq.lhs, 2 * eq.rhs, evaluate=False)

    wrong = dataclasses.replace(thm, predicate=doubled).induction_checks()
    assert not wrong["base case is P(l) at l = L"] and not wrong["step concludes P(l) at l - 1"]
    assert not wrong["step assumes P(l), nothing else"]
    frozen = dataclasses.replace(thm, predicate=lambda k: LP.P(LP.L)).induction_checks()  # no l in it
    assert not frozen["P(l) mentions l"] and not frozen["step concludes P(l) at l - 1"]
    assert frozen["base case is P(l) at l = L"]


def test_the_recursion_cites_four_rules_and_says_so():
    from backproof import verify as V
    from backproof.symbolic.rules import (
        CHAIN_RULE,
        INDUCTION_HYPOTHESIS,
        INDUCTION_PRINCIPLE,
        NETWORK_STRUCTURE,
        cited_rules,
    )

    thm = LP.recursion_theorem()
    assert cited_rules(thm) == [INDUCTION_PRINCIPLE, CHAIN_RULE, NETWORK_STRUCTURE, INDUCTION_HYPOTHESIS]
    assert cited_rules(LP.linear_layer_lemma()) == [CHAIN_RULE]
    assert cited_rules(LP.activation_lemma()) == [CHAIN_RULE]
    assert cited_rules(LP.activation_derivatives()[1]) == []
    assert CHAIN_RULE.status.startswith("checked for sizes") and INDUCTION_PRINCIPLE.status == "cited"
    rules = V._rules_of(thm)
    assert [r["name"] for r in rules] == [rule.name for rule in cited_rules(thm)]
    assert all(set(r) == {"name", "statement", "status"} for r in rules)


def test_every_layer_identity_has_latex_for_the_site():
    for ident in ALL:
        assert ident.statement_latex() and all(ident.statement_latex())
        for chain in ident.chains:
            assert len(chain.latex()) == len(chain.steps) and all(chain.latex())


@pytest.mark.parametrize(
    "name",
    [
        "activation_gradient_is_sigma_prime_times_e",
        "leaky_relu_derivative_is_one_or_alpha",
        "sigmoid_derivative_is_s_times_one_minus_s",
        "tanh_derivative_is_one_minus_tanh_squared",
    ],
)
def test_activation_jvps_match_sympy_at_50_digits_over_three_seeds(name):
    """float64 and float32 against SymPy's derivative of the definition (mpmath, 50 digits), and finite
    differences, for logits up to 1000 (test_symbolic runs every identity's checks once, at one seed)."""
    for seed in SEEDS:
        for kind in ("float64", "float32", "fd"):
            assert LV.run_check(name, kind, np.random.default_rng(seed)) <= TOLERANCE[kind], (seed, kind)


def test_numeric_check_catches_a_transposed_gradient(monkeypatch):
    """A backprop returning delta_l h^T transposed would fail the cross-check: the check can fail."""
    real = LV.backprop

    def broken(p, x, d):
        g = real(p, x, d)
        g.W[1] = g.W[1].T.copy()  # W2 is square (2 x 2): the shape survives, the values do not
        return g

    monkeypatch.setattr(LV, "backprop", broken)
    assert LV.network_cross_check("tanh", np.random.default_rng(0), points=1) > 1e-3


def test_training_step_check_catches_a_step_without_the_one_over_b(monkeypatch):
    """A kernel stepping by gamma * grad instead of (gamma / B) * grad fails the theorem's kernel check."""
    import backproof.training as training

    real = training.train_minibatch

    def without_mean(x, labels, **kw):
        old = kw["params"].copy()
        result = real(x, labels, **kw)
        B = x.shape[1]
        for w, w0 in zip(result.params.W, old.W):
            w[...] = w0 + B * (w - w0)  # the step B times too large: gamma * sum of gradients
        return result

    rng = np.random.default_rng(0)
    assert LV.run_check("backprop_recursion_for_any_depth", "kernel-float64", rng) <= TOLERANCE["float64"]
    monkeypatch.setattr(training, "train_minibatch", without_mean)
    assert LV.run_check("backprop_recursion_for_any_depth", "kernel-float64", rng) > 0.1


def test_the_step_derives_w_transpose_delta_and_a_wrong_sign_fails():
    """The inductive step derives (W_l^T delta_l)_pq from a_l = W_l h + b_l 1^T and P(l), by SymPy:
    a step claiming -(W_l^T delta_l) is rejected (it was a substitution before the review)."""
    chain = LP.recursion_theorem().step[0].chain
    steps = list(chain.steps)
    k = next(i for i, st in enumerate(steps) if "differentiate $a_l" in st.why)
    good = LP.IndexedChain("right", steps[k - 1 : k + 1], definitions=chain.definitions)
    bad = LP.IndexedChain(
        "negated", [steps[k - 1], LP.rewrite(-steps[k].expr, "wrong")], definitions=chain.definitions
    )
    assert good.check() == [True] and bad.check() == [False]
    assert chain.steps[k].kind == "rewrite"


def _imports_of(path, package, modules):
    """The modules of ``modules`` a source file imports, at top level or inside a function.

    ``from . import x`` imports the submodule ``x`` when there is one (its package is
    imported in any case, as for every submodule), else the package.
    """
    import ast

    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            parts = package.split(".")
            base = parts[: len(parts) - node.level + 1] if node.level else []
            target = ".".join(base + (node.module.split(".") if node.module else []))
            subs = {f"{target}.{a.name}" for a in node.names} & modules
            found |= subs or {target}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "import_module":
            found |= {a.value for a in node.args if isinstance(a, ast.Constant)}
    return found & modules


def _symbolic_import_graph():
    import pathlib

    import backproof

    root = pathlib.Path(backproof.__file__).parent
    files = {"backproof.verify": root / "verify.py"}
    for f in (root / "symbolic").glob("*.py"):
        files["backproof.symbolic" + ("" if f.stem == "__init__" else f".{f.stem}")] = f
    graph = {}
    for mod, f in files.items():
        package = mod if f.stem == "__init__" else mod.rpartition(".")[0]
        graph[mod] = _imports_of(f, package, set(files)) - {mod}
    return graph


def _cycle(graph):
    """One import circle of ``graph`` as a list of modules, or ``None``."""
    state, path = {}, []

    def visit(v):
        state[v] = "open"
        path.append(v)
        for w in sorted(graph[v]):
            if state.get(w) == "open":
                return [*path[path.index(w) :], w]
            if w not in state and (found := visit(w)):
                return found
        state[v] = "done"
        path.pop()
        return None

    for v in sorted(graph):
        if v not in state and (found := visit(v)):
            return found
    return None


def test_symbolic_side_has_no_import_circle():
    """verify.py, the identity modules and the numeric checks import one another one way only."""
    graph = _symbolic_import_graph()
    assert "backproof.symbolic.layer_lemmas" in graph and graph["backproof.verify"]
    assert _cycle(graph) is None, f"import circle: {' -> '.join(_cycle(graph))}"


def test_the_circle_finder_finds_a_circle():
    """The finder is not blind: verify importing symbolic and an identity importing verify is a circle."""
    graph = _symbolic_import_graph()
    graph["backproof.symbolic.relu_identities"].add("backproof.verify")
    assert _cycle(graph) is not None


def test_explicit_networks_made_in_another_process_equal_those_made_here(monkeypatch):
    import multiprocessing
    import warnings
    from concurrent.futures import ProcessPoolExecutor

    monkeypatch.setattr(LV, "_BUILT", {})
    monkeypatch.setattr(LV, "_PREBUILT", {})
    with warnings.catch_warnings():  # as verify's pool: fork beside pytest's threads, which hold no lock
        warnings.simplefilter("ignore", DeprecationWarning)
        pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork"))
        LV.prebuild(["relu"], pool.submit)
    with pool:
        assert set(LV._PREBUILT) == {"relu"}
        made_there = LV.explicit_network("relu")
    assert LV._PREBUILT == {}  # taken
    here = LV.network_gradients("relu")
    assert list(made_there["grads"]) == list(here["grads"])
    for name, grad in here["grads"].items():
        assert made_there["grads"][name] == grad  # the same SymPy expressions, entry by entry
    assert LV.explicit_network("relu") is made_there  # made once
    LV.prebuild(["relu"], pool.submit)  # already made: nothing is submitted (the pool is closed)
    assert LV._PREBUILT == {}


def test_an_explicit_network_whose_worker_failed_is_made_here(monkeypatch):
    from concurrent.futures import Future

    monkeypatch.setattr(LV, "_BUILT", {})
    monkeypatch.setattr(LV, "_PREBUILT", {})

    def broken(fn, name):
        future: Future = Future()
        future.set_exception(RuntimeError("worker died"))
        return future

    LV.prebuild(["relu"], broken)
    net = LV.explicit_network("relu")
    assert net["grads"]["W1"] == LV.network_gradients("relu")["grads"]["W1"]
