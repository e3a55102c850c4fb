r"""backproof.check.derivations: learners' derivations (tests/derivations/) checked step by step.

Every derivation of the fixtures is listed below with what the checker must say: its status,
the course result it targets, and for a wrong one the step (where it is written) and the slip.
A false step reported as following is a failure of its own kind (SOUNDNESS in the message).
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from backproof.check.derivations import check_derivations

HERE = Path(__file__).parent / "derivations"

# file -> [(where, status, target, (where of the first wrong step, slip) or None)]
EXPECTED = {
    "correct_quotient_rule.md": [
        ("line 7", "follows", "softmax-diagonal", None),
        ("line 17", "follows", "softmax-off-diagonal", None),
        ("line 22", "follows", "jacobian-symmetric", None),
    ],
    "correct_exp_ten.md": [("line 10", "follows", "softmax-jacobian", None)],
    "correct_sigma.tex": [
        ("line 7", "follows", "softmax-diagonal", None),
        ("line 13", "follows", "softmax-off-diagonal", None),
    ],
    "correct_indicator.md": [
        ("line 3", "follows", "softmax-jacobian", None),
        ("line 7", "follows", "softmax-jacobian", None),
        ("line 11", "follows", "softmax-backward", None),
    ],
    "correct_vectors.md": [
        ("line 3", "follows", "softmax-backward", None),
        ("line 8", "follows", "cross-entropy-gradient", None),
        ("line 10", "follows", "cross-entropy-gradient", None),
        ("line 14", "follows", None, None),
    ],
    "correct_unicode.md": [
        ("line 3", "follows", "softmax-diagonal", None),
        ("line 5", "follows", "softmax-off-diagonal", None),
    ],
    "learner_notebook.ipynb": [
        ("cell 3, line 3", "follows", "softmax-diagonal", None),
        ("cell 5, line 3", "follows", "softmax-jacobian", None),
        ("cell 6, line 3", "incomplete", None, None),
        ("cell 7, line 3", "wrong", "softmax-backward", ("cell 7, line 9", "sum-of-difference")),
        ("cell 8, line 3", "follows", "cross-entropy-gradient", None),
        ("cell 8, line 5", "incomplete", None, None),
        ("cell 8, line 7", "incomplete", None, None),
    ],
    "wrong_softmax.md": [
        ("line 7", "wrong", "softmax-diagonal", ("line 7", "quotient-square")),
        ("line 14", "wrong", "softmax-off-diagonal", ("line 14", "sign-lost")),
        ("line 18", "wrong", "softmax-diagonal", ("line 18", "sum-of-difference")),
        ("line 24", "wrong", "softmax-diagonal", ("line 24", "index-clash")),
        ("line 28", "wrong", "softmax-off-diagonal", ("line 28", "delta-dropped")),
        ("line 32", "wrong", "softmax-diagonal", ("line 32", "wrong-index")),
        ("line 36", "wrong", "softmax-diagonal", ("line 36", "exp-power-rule")),
        ("line 40", "wrong", "softmax-off-diagonal", ("line 40", "exp-product")),
        ("line 44", "wrong", "softmax-diagonal", ("line 44", "square-of-sum")),
        ("line 48", "wrong", "softmax-diagonal", ("line 48", "sign-lost")),
    ],
    "wrong_gradients.md": [
        ("line 5", "wrong", "cross-entropy-gradient", ("line 5", "sum-kept")),
        ("line 9", "wrong", "cross-entropy-gradient", ("line 9", "factor-dropped")),
        ("line 13", "wrong", "softmax-backward", ("line 13", "inner-product-dropped")),
        ("line 17", "needs a condition", "softmax-off-diagonal", None),
    ],
    "wrong_layer.md": [("line 5", "wrong", None, ("line 5", "transposed"))],
    "update.md": [
        ("line 7", "follows", "output-gradient", None),
        ("line 11", "follows", "output-weight-gradient", None),
        ("line 15", "follows", "shallow-update", None),
        ("line 19", "wrong", None, ("line 19", "sign-lost")),
    ],
}
# the notation each file is written in (at least five for correct derivations)
NOTATIONS = {
    "correct_quotient_rule.md": "g_i, e^{…}, \\frac{\\partial}{\\partial}, aligned",
    "correct_exp_ten.md": "y_i defined by a line, \\exp, sums 1..10, \\[ \\], δ_ij",
    "correct_sigma.tex": "σ(a)_i, \\mathrm{e}, sums 0..n−1, align*, eqnarray, \\cdot, \\times",
    "correct_indicator.md": "p = softmax(a), S defined inline, [i = j], 1_{i=j}, ∂_{a_j}",
    "correct_vectors.md": "vectors: Jᵀe, ⊙, ⟨g, e⟩, diag(g) − g gᵀ, ∇_y E, −d/y",
    "correct_unicode.md": "Unicode ∂ Σ − ·, ∂g_i/∂a_j inline, a bare x between fractions",
    "learner_notebook.ipynb": "softmax(a)_i and g(a)_i, cases, displays continued across cells",
    "update.md": "index form of the output layer, W_{kj}, γ, a condition Σ_m d_m = 1 beside the line",
}


@pytest.fixture(scope="module")
def reports():
    return {name: check_derivations(HERE / name) for name in EXPECTED}, None


def _cases():
    for name, rows in EXPECTED.items():
        for n, row in enumerate(rows):
            yield pytest.param(name, n, row, id=f"{name}:{row[0]}")


@pytest.mark.parametrize(("name", "n", "row"), list(_cases()))
def test_each_derivation_gets_its_status_target_and_first_wrong_step(reports, name, n, row):
    got = reports[0][name]
    assert len(got) == len(EXPECTED[name]), [r.where for r in got]
    r = got[n]
    where, status, target, wrong = row
    assert r.where == where
    if status == "follows" or wrong is None:
        assert r.status == status, r.format()
    else:
        step = r.first_wrong
        assert step is not None, (
            "SOUNDNESS: a derivation with a false step has no step that does not follow\n" + r.format()
        )
        assert step.after.where == wrong[0], r.format()
        assert step.slip == wrong[1], r.format()
        assert step.diagnosis
        assert step.counterexample and "n" in step.counterexample
        assert step.values is not None and step.values[0] != step.values[1]
    assert r.target == target, r.format()


def test_a_false_step_is_never_reported_as_following(reports):
    r"""Independently of the proof and of the refuter: each step reported as following is evaluated by SymPy.

    At n = 3 (or the size the learner wrote), every index and value drawn at random, both sides
    expanded by SymPy's own ``doit`` and compared to 30 digits.
    """
    rng = random.Random(1)
    checked = 0
    for name, got in reports[0].items():
        for r in got:
            for s in r.steps:
                if s.status != "follows":
                    continue
                x, y = _at_random_point(s.exprs, s.conditions, rng)
                assert abs(x - y) <= 1e-20 * (1 + abs(x) + abs(y)), (
                    f"SOUNDNESS: a false step was reported as following ({name}, {s.after.where}): "
                    f"{s.before.text} = {s.after.text}"
                )
                checked += 1
    assert checked >= 40


def _at_random_point(exprs, conditions, rng):
    import sympy as sp

    n = sp.Symbol("n", integer=True, positive=True)
    labels = {x.base.label for e in exprs for x in e.atoms(sp.Indexed)}
    # every free index is a class: 0..n-1 where the learner's sums start at 0
    lo = min(
        [int(s.limits[0][1]) for e in exprs for s in e.atoms(sp.Sum) if s.limits[0][1].is_Integer] or [1]
    )
    symbols = sorted({x for e in exprs for x in e.free_symbols if isinstance(x, sp.Symbol)} - labels, key=str)
    while True:
        fixed = {x: sp.Integer(3) if x == n else sp.Integer(rng.randint(lo, lo + 2)) for x in symbols}
        named = {str(k): v for k, v in fixed.items()}
        if all(_holds(c, named) for c in conditions):
            break
    expanded = [e.xreplace(fixed).doit() for e in exprs]
    values = {
        x: sp.Rational(rng.randint(-20, 20), rng.randint(1, 9)) for e in expanded for x in e.atoms(sp.Indexed)
    }
    if "Σ_k d_k = 1" in conditions:  # the learner's targets sum to 1 over the n = 3 classes
        d = sp.IndexedBase("d", real=True)
        for k in (1, 2):
            values[d[k]] = sp.Rational(rng.randint(-20, 20), rng.randint(1, 9))
        values[d[3]] = 1 - values[d[1]] - values[d[2]]
    return [complex(sp.N(e.xreplace(values), 30)) for e in expanded]


def _holds(condition: str, values: dict) -> bool:
    if condition.startswith("Σ"):
        return True  # met by the values drawn
    i, rel, j = condition.split()
    if i not in values or j not in values:
        return True
    return (values[i] == values[j]) == (rel == "=")


def test_not_read_lines_say_why_and_are_never_called_wrong(reports):
    got = {r.where: r for r in reports[0]["learner_notebook.ipynb"]}
    reasons = {w: why for r in got.values() for (w, _, why) in r.not_read}
    assert "not checked entry by entry" in reasons["cell 6, line 3"]
    assert "second derivative" in reasons["cell 8, line 5"]
    assert "\\int" in reasons["cell 8, line 7"]
    for r in got.values():
        if r.not_read:
            assert r.status != "wrong"
    # the step across the matrix written out with dots is still checked: J = diag(g) - g g^T
    assert [s.status for s in got["cell 6, line 3"].steps] == ["follows"]


def test_counts_of_the_fixtures_meet_the_issue():
    total = sum(len(v) for v in EXPECTED.values())
    correct = [r for v in EXPECTED.values() for r in v if r[1] == "follows"]
    slips = {r[3][1] for v in EXPECTED.values() for r in v if r[3]}
    assert total >= 25 and len(correct) >= 10
    assert len({k for k in NOTATIONS if k.startswith("correct") or k.endswith(".ipynb")}) >= 5
    assert len(slips) >= 12, sorted(slips)


def test_report_text_and_json_show_both_lines_the_counterexample_and_the_diagnosis(reports):
    r = reports[0]["wrong_softmax.md"][0]
    text = r.format()
    assert "\\frac{e^{a_i}\\sum_k e^{a_k} - e^{a_i}e^{a_i}}{\\sum_k e^{a_k}}" in text
    assert "counterexample: n = " in text and "squared" in text
    d = json.loads(json.dumps(r.to_dict(), ensure_ascii=False))
    assert d["status"] == "wrong" and d["slip"] == "quotient-square" and d["first_wrong_step"] == "line 7"
    assert d["target"] == "softmax-diagonal"


def test_a_step_that_needs_an_unstated_condition_says_which():
    (r,) = check_derivations(r"$$\frac{\partial g_i}{\partial a_j} = -g_i g_j$$")
    assert r.status == "needs a condition"
    assert r.steps[0].needs == ["j ≠ i"]
    assert r.steps[0].counterexample["i"] == r.steps[0].counterexample["j"]
    (r,) = check_derivations(r"$$\frac{\partial g_i}{\partial a_j} = -g_i g_j \quad \text{for } j \neq i$$")
    assert r.status == "follows"


def test_a_marker_names_the_target_and_another_result_reached_is_said():
    text = (
        "<!-- backproof: target softmax-backward -->\n"
        "$$\\frac{\\partial g_i}{\\partial a_i} = g_i - g_i^2 = g_i(1-g_i)$$"
    )
    (r,) = check_derivations(text)
    assert r.target == "softmax-backward" and r.target_how == "named by the marker"
    assert r.status == "reached another result" and r.reached == "softmax-diagonal"
    assert "not the course's result" in r.format()


# False steps written as a learner might (one step each): none may be reported as following.
FALSE_STEPS = [
    r"$$g_i(1-g_i) = g_i - g_i$$",
    r"$$\sum_{k=1}^{n} 1 = n - 1$$",
    r"$$\sum_{k=0}^{n-1} e_k = \sum_{k=1}^{n} e_k$$",
    r"$$\frac{\partial}{\partial a_i}\sum_i e^{a_i} = \sum_i e^{a_i}$$",
    r"$$\left(\sum_k e^{a_k}\right)^2 = \sum_k e^{2 a_k}$$",
    r"$$\frac{g_i - g_j}{g_i - g_j} = 1$$",
    r"$$\sum_k \delta_{ki} g_k = g_k$$",
    r"$$\sum_k g_k e_k = g_i e_i$$",
    r"$$\frac{\partial g_i}{\partial a_j} = g_i(1-g_j)$$",
    r"$$-\frac{d_i}{y_i} = \frac{d_i}{y_i}$$",
    r"$$\sum_{k=1}^{10} g_k = \sum_{k=1}^{n} g_k$$",
    r"$$\delta_{ij} = 1$$",
    r"$$\frac{\partial g_i}{\partial a_i} = -g_i g_i$$",
    r"$$\sum_k \frac{\partial g_k}{\partial a_i} e_k = g_i e_i$$",
]


@pytest.mark.parametrize("text", FALSE_STEPS)
def test_false_steps_are_not_reported_as_following(text):
    (r,) = check_derivations(text)
    (step,) = r.steps
    assert step.status != "follows", f"SOUNDNESS: a false step was reported as following: {text}"
    assert r.status != "follows", (
        f"SOUNDNESS: a derivation with a false step was reported as following: {text}"
    )


def test_committed_example_is_what_make_example_writes(tmp_path):
    import importlib.util
    import shutil

    import nbformat

    from backproof.check import example_notebook

    spec = importlib.util.spec_from_file_location("make_example", HERE / "make_example.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shutil.copy(example_notebook(), tmp_path / "my_assignment.ipynb")
    module.main(tmp_path)
    sources = [
        [c.source.strip() for c in nbformat.read(str(p), as_version=4).cells]
        for p in (example_notebook(derivations=True), tmp_path / "my_work.ipynb")
    ]
    assert sources[0] == sources[1]


def test_cli_check_reports_derivations_beside_functions_in_text_and_json(tmp_path, capsys):
    from backproof.check import example_notebook
    from backproof.cli import main

    out = tmp_path / "report.json"
    code = main(
        [
            "check",
            str(example_notebook(derivations=True)),
            "--only",
            "softmaxp,derivations",
            "--json",
            str(out),
        ]
    )
    text = capsys.readouterr().out
    assert code == 1  # softmaxp passes, the off-diagonal derivation does not
    assert "✓ pass       softmaxp" in text
    assert "derivations (3 found in the Markdown cells):" in text
    assert "✗ wrong: derivation at cell 6, line 16" in text and "squared" in text
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [f["name"] for f in report["functions"]] == ["softmaxp"]
    assert [d["status"] for d in report["derivations"]] == ["follows", "wrong", "follows"]
    assert report["derivations"][1]["slip"] == "quotient-square"
    assert report["derivations"][1]["first_wrong_step"] == "cell 6, line 16"


def test_cli_only_a_result_checks_that_derivation_and_no_function(capsys):
    from backproof.check import check_file, example_notebook

    report = check_file(example_notebook(derivations=True), only=["softmax-diagonal"])
    assert report.functions == [] and [d.target for d in report.derivations] == ["softmax-diagonal"]
    assert report.exit_code == 0
    with pytest.raises(ValueError, match="softmax-diagonal"):
        check_file(example_notebook(derivations=True), only=["softmax-diagonl"])


def test_a_markdown_or_tex_file_is_checked_for_derivations_alone(tmp_path):
    from backproof.check import check_file

    tex = tmp_path / "q2.tex"
    tex.write_text("\\[ \\frac{\\partial \\sigma(a)_i}{\\partial a_i} = \\sigma(a)_i(1 - \\sigma(a)_i) \\]\n")
    report = check_file(tex)
    assert report.functions == [] and report.ok and report.exit_code == 0
    assert [d.target for d in report.derivations] == ["softmax-diagonal"]
    md = tmp_path / "q3.md"
    md.write_text("$$\\frac{\\partial E}{\\partial y_i} = -\\frac{1}{y_i}$$\n")
    report = check_file(md)
    assert not report.ok and report.exit_code == 1
    ascii_text = report.format(ascii=True)
    ascii_text.encode("ascii")
    assert "?" not in ascii_text and "dE/dy" not in ascii_text and "\\partial E" in ascii_text


@pytest.mark.parametrize("text", [t for t in FALSE_STEPS if "g_i - g_j}{g_i - g_j" not in t])
def test_the_core_alone_accepts_none_of_the_false_steps(text):
    r"""Without the refuter: the trusted core, given the two normal forms, must not say "follows".

    (Left out: (g_i − g_j)/(g_i − g_j) = 1, which SymPy reads as 1 = 1 when the line is built; the
    denominator the learner wrote is kept beside it and checked by the step checker instead.)
    """
    from backproof.check.derivations import _decide as D
    from backproof.check.derivations.check import scalar_pair
    from backproof.check.derivations.extract import find_derivations, read_source
    from backproof.check.derivations.read import Env, read_line

    env = Env()
    (der,) = find_derivations(read_source(text))
    b, a = (read_line(it.text, env) for it in der.items)
    B, A, _ = scalar_pair(b, a, env)
    follows, reason = D.proves(D.normal(env.expand(B)), D.normal(env.expand(A)), [])
    assert follows is not True, f"SOUNDNESS: the core accepts a false step ({reason}): {text}"
