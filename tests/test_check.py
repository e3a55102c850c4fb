"""backproof check: correct learner code passes, each realistic mistake fails with its diagnosis."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from backproof.check import check_file
from backproof.check._specs import COURSE_FUNCTIONS

CASES = Path(__file__).parent / "check_cases"
SOLUTION = CASES / "course_solution.py"

JVP = "softmax_jvp_is_g_times_e_minus_inner_product"
RELU = "relu_derivative_is_heaviside_zero_at_kink"
NET = "network_backprop_equals_sympy_gradient"
MEAN = "mean_loss_gradient_is_summed_gradient_over_n"
FUSED = "fused_softmax_cross_entropy_gradient_is_y_minus_d"


@dataclass(frozen=True)
class Variant:
    """A learner's mistake: ``old`` replaced by ``new`` in the correct solution (every occurrence)."""

    name: str
    function: str
    old: str
    new: str
    check: str  # the property that must fail
    identity: str | None  # the identity that must be named (None: a stated property)
    mistake: str  # the diagnosis that must be given
    also: tuple[tuple[str, str], ...] = ()  # further replacements of the same mistake

    def write(self, folder: Path) -> Path:
        text = SOLUTION.read_text()
        for old, new in ((self.old, self.new), *self.also):
            assert old in text, old
            text = text.replace(old, new)
        path = folder / f"{self.name}.py"
        path.write_text(text)
        return path


VARIANTS = [
    Variant(
        "softmax_wrong_axis",
        "softmax",
        "np.sum(e, axis=0, keepdims=True)",
        "np.sum(e, axis=1, keepdims=True)",
        "softmax.definition",
        None,
        "wrong_axis",
    ),
    Variant(
        "softmax_no_max_subtraction",
        "softmax",
        "np.exp(a - M)",
        "np.exp(a)",
        "softmax.stable",
        None,
        "no_max_subtraction",
    ),
    Variant(
        "softmax_global_max",
        "softmax",
        "np.max(a, axis=0, keepdims=True)",
        "np.max(a)",
        "softmax.stable",
        None,
        "global_max",
    ),
    Variant(
        "softmaxp_missing_term",
        "softmaxp",
        "return g * e - np.sum(g * e, axis=0) * g",
        "return g * e",
        "softmaxp.jvp",
        JVP,
        "dropped_term",
    ),
    Variant(
        "softmaxp_flipped_sign",
        "softmaxp",
        "return g * e - np.sum(g * e, axis=0) * g",
        "return np.sum(g * e, axis=0) * g - g * e",
        "softmaxp.jvp",
        JVP,
        "wrong_sign",
    ),
    Variant(
        "softmaxp_inner_over_matrix",
        "softmaxp",
        "np.sum(g * e, axis=0) * g",
        "np.sum(g * e) * g",
        "softmaxp.jvp",
        JVP,
        "inner_whole_matrix",
    ),
    Variant(
        "relup_kink",
        "relup",
        "return e * (a > 0)",
        "return e * (a >= 0)",
        "relup.heaviside",
        RELU,
        "kink_one",
    ),
    Variant(
        "update_missing_1_over_N",
        "update_shallow",
        "gamma / N",
        "gamma",
        "update_shallow.step",
        MEAN,
        "missing_1_over_N",
    ),
    Variant(
        "update_N_from_pixels",
        "update_shallow",
        "N = x.shape[1]",
        "N = x.shape[0]",
        "update_shallow.step",
        MEAN,
        "divides_by_pixels",
    ),
    Variant(
        "update_with_plus",
        "update_shallow",
        "- gamma / N",
        "+ gamma / N",
        "update_shallow.step",
        FUSED,
        "ascent",
    ),
    Variant(
        "update_softmaxp_on_y",
        "update_shallow",
        "softmaxp(a2, e)",
        "softmaxp(y, e)",
        "update_shallow.step",
        JVP,
        "softmaxp_on_y",
    ),
    Variant(
        "update_transposed_weight",
        "update_shallow",
        "delta1.dot(x.T)",
        "x.dot(delta1.T).T.T",
        "update_shallow.step",
        NET,
        "transposed_W1",
    ),
    Variant(
        "update_no_relup",
        "update_shallow",
        "relup(a1, W2.T.dot(delta2))",
        "W2.T.dot(delta2)",
        "update_shallow.step",
        NET,
        "no_relup",
    ),
    Variant(
        "backprop_one_step_short",
        "backprop_shallow",
        "for t in range(T):\n        net = update",
        "for t in range(T - 1):\n        net = update",
        "backprop_shallow.train",
        NET,
        "one_step_short",
    ),
    Variant(
        "onehot2label_wrong_axis",
        "onehot2label",
        "np.argmax(d, axis=0)",
        "np.argmax(d, axis=1)",
        "onehot2label.argmax",
        None,
        "wrong_axis",
    ),
    Variant(
        "init_flat_bias",
        "init_shallow",
        "np.random.randn(Nh, 1)",
        "np.random.randn(Nh)",
        "init_shallow.shapes",
        None,
        "flat_bias",
        also=(("np.random.randn(No, 1)", "np.random.randn(No)"),),
    ),
    Variant(
        "init_unscaled",
        "init_shallow",
        "/ np.sqrt((Ni + 1.0) / 2.0)",
        "",
        "init_shallow.scale",
        None,
        "unscaled",
        also=(("/ np.sqrt(Nh + 1.0)", ""),),
    ),
    Variant(
        "normalize_over_255",
        "normalize_MNIST_images",
        "(2 * x.astype(np.float32) / 255 - 1)",
        "(x.astype(np.float32) / 255)",
        "normalize_MNIST_images.normalize",
        None,
        "over_255",
    ),
    Variant(
        "normalize_uint8_overflow",
        "normalize_MNIST_images",
        "return (2 * x.astype(np.float32) / 255 - 1).astype(np.float32)",
        "return 2 * x / 255 - 1",
        "normalize_MNIST_images.normalize",
        None,
        "uint8_overflow",
    ),
    Variant(
        "forward_no_relu",
        "forwardprop_shallow",
        "h = relu(a1)\n    a2 = W2.dot(h) + b2\n    return",
        "h = a1\n    a2 = W2.dot(h) + b2\n    return",
        "forwardprop_shallow.forward",
        None,
        "no_relu",
    ),
    Variant(
        "loss_not_averaged",
        "eval_loss",
        "-np.sum(d * np.log(y)) / y.size",
        "-np.sum(d * np.log(y))",
        "eval_loss.loss",
        None,
        "sum",
    ),
    Variant("perfs_fraction", "eval_perfs", "100 * np.mean", "np.mean", "eval_perfs.perfs", None, "fraction"),
    Variant(
        "softmaxp_expects_y",
        "softmaxp",
        "g = softmax(a)\n    return",
        "g = a\n    return",
        "softmaxp.jvp",
        JVP,
        "takes_probabilities",
    ),
    Variant(
        "update_relup_arguments_swapped",
        "update_shallow",
        "relup(a1, W2.T.dot(delta2))",
        "relup(W2.T.dot(delta2), a1)",
        "update_shallow.step",
        RELU,
        "relup_swapped",
    ),
    Variant(
        "update_bias_gradient_averaged",
        "update_shallow",
        "delta2.sum(axis=1, keepdims=True)",
        "delta2.mean(axis=1, keepdims=True)",
        "update_shallow.step",
        MEAN,
        "bias_mean",
        also=(("delta1.sum(axis=1, keepdims=True)", "delta1.mean(axis=1, keepdims=True)"),),
    ),
    Variant(
        "init_uniform",
        "init_shallow",
        "np.random.randn",
        "np.random.rand",
        "init_shallow.scale",
        None,
        "uniform",
    ),
    Variant(
        "forward_returns_logits",
        "forwardprop_shallow",
        "a2 = W2.dot(h) + b2\n    return softmax(a2)",
        "a2 = W2.dot(h) + b2\n    return a2",
        "forwardprop_shallow.forward",
        None,
        "returns_logits",
    ),
    Variant(
        "backprop_result_not_assigned",
        "backprop_shallow",
        "net = update_shallow(x, d, net, gamma)",
        "new = update_shallow(x, d, net, gamma)",
        "backprop_shallow.train",
        NET,
        "returns_input",
    ),
    Variant(
        "minibatch_divides_by_all_samples",
        "backprop_minibatch_shallow",
        "net = update_shallow(x[:, batch], d[:, batch], net, gamma)",
        "net = update_shallow(x[:, batch], d[:, batch], net, gamma * len(batch) / N)",
        "backprop_minibatch_shallow.epochs",
        MEAN,
        "divides_by_all",
    ),
]


@pytest.fixture(scope="module")
def solution_report():
    return check_file(SOLUTION)


def test_correct_solution_passes_every_function(solution_report):
    assert [f.status for f in solution_report.functions] == ["pass"] * len(COURSE_FUNCTIONS)
    assert solution_report.exit_code == 0


def test_correct_solution_written_differently_passes_with_notes_only():
    report = check_file(CASES / "other_correct_solution.py")
    assert [f.status for f in report.functions] == ["pass"] * len(COURSE_FUNCTIONS), report.format()
    assert "10 times the course's" in report["eval_loss"].notes[0]
    assert "np.random.seed" in report["init_shallow"].notes[0]
    assert not report["update_shallow"].notes  # the fused y - d: no note about -d/y


def test_textbook_chain_passes_with_a_note_about_minus_d_over_y(solution_report):
    notes = " ".join(solution_report["update_shallow"].notes)
    assert "−d/y" in notes and "y − d" in notes


@pytest.mark.parametrize("variant", VARIANTS, ids=lambda v: v.name)
def test_mistake_fails_on_its_function_with_identity_and_diagnosis(variant, tmp_path):
    report = check_file(variant.write(tmp_path), only=[variant.function])
    result = report[variant.function]
    assert result.status in ("fail", "crashed"), report.format()
    failed = {f.check: f for f in result.findings if not f.passed}
    assert variant.check in failed, report.format()
    finding = failed[variant.check]
    assert finding.identity == variant.identity, report.format()
    assert finding.mistake == variant.mistake, report.format()
    assert finding.counterexample and finding.link
    assert report.exit_code == 1


def test_at_least_fifteen_distinct_mistakes_are_covered():
    assert len({v.mistake for v in VARIANTS}) >= 15


def test_notebook_solution_passes_with_training_cells_skipped():
    report = check_file(CASES / "course_solution.ipynb")
    assert [f.status for f in report.functions] == ["pass"] * len(COURSE_FUNCTIONS), report.format()
    # its update_shallow uses relup(h, ...) with h = relu(a1): equal to relup(a1, ...), so not a mistake
    assert any("MNISTtools" in n for n in report.notes)


@pytest.fixture(scope="module")
def hazards_report():
    return check_file(CASES / "hazards.py", time_limit=1.0)


@pytest.mark.parametrize(
    ("function", "status", "words"),
    [
        ("relu", "timed out", "did not return within 1 s"),
        ("relup", "crashed", "sys.exit('stop here')"),
        ("eval_loss", "crashed", "NameError: name 'Ntrain' is not defined (line 29, in eval_loss)"),
        ("init_shallow", "crashed", "MemoryError"),
        ("onehot2label", "crashed", "exited (status 3)"),
    ],
)
def test_misbehaving_function_is_reported_for_itself(hazards_report, function, status, words):
    result = hazards_report[function]
    assert result.status == status
    assert words in result.findings[0].problem


def test_functions_after_a_misbehaving_one_are_still_checked(hazards_report):
    assert hazards_report["normalize_MNIST_images"].status == "pass"
    assert hazards_report.exit_code == 1


def test_checker_never_writes_into_the_learners_folder(tmp_path, monkeypatch):
    # relu lives in a module of the learner's folder, imported by the file checked
    (tmp_path / "mytools.py").write_text(
        "import numpy as np\n\n\ndef relu(a):\n    return np.maximum(a, 0)\n"
    )
    (tmp_path / "mine.py").write_text("from mytools import relu\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    monkeypatch.chdir(tmp_path)  # learners run it from their folder: Hypothesis must not cache there
    report = check_file("mine.py", only=["relu"])
    assert report["relu"].status == "pass"
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


@pytest.fixture(scope="module")
def slip_report():
    return check_file(CASES / "naming_slip.py")


def test_two_parameter_softmax_is_reported_as_a_softmaxp_naming_slip(slip_report):
    assert slip_report["softmaxp"].status == "not found"
    note = slip_report["softmaxp"].notes[0]
    assert "softmax(a, e)" in note and "naming slip" in note and "passes the softmaxp checks" in note
    assert slip_report["softmax"].status == "crashed"
    assert any("defined 2 times" in n for n in slip_report["softmax"].notes)


def test_close_name_is_suggested_with_map_and_map_checks_it(slip_report):
    assert "--map relup=relu_prime" in slip_report["relup"].notes[0]
    assert "relu" not in " ".join(slip_report["relu"].notes)
    mapped = check_file(CASES / "naming_slip.py", mapping={"relup": "relu_prime"}, only=["relup"])
    assert mapped["relup"].status == "pass" and mapped["relup"].defined_as == "relu_prime"


def test_report_is_reproducible(tmp_path):
    path = VARIANTS[3].write(tmp_path)  # softmaxp without the <g, e> g term
    first, second = (check_file(path, only=["softmaxp"]).to_dict() for _ in range(2))
    for r in (first, second):
        r.pop("seconds")
        for f in r["functions"]:
            f.pop("seconds")
    assert first == second


def test_cli_check_writes_json_for_graders_and_exits_1(tmp_path, capsys):
    from backproof.cli import main

    out = tmp_path / "report.json"
    status = main(
        ["check", str(VARIANTS[7].write(tmp_path)), "--only", "update_shallow,relu", "--json", str(out)]
    )
    assert status == 1
    text = capsys.readouterr().out
    assert "diagnosis: steps by γ ∇ instead of (γ/N) ∇" in text
    data = json.loads(out.read_text())
    update = {f["name"]: f for f in data["functions"]}["update_shallow"]
    assert update["status"] == "fail" and update["score"] == 0.0
    assert update["identity"] == MEAN and update["mistake"] == "missing_1_over_N"
    assert update["counterexample"]["x"]
    assert {f["name"]: f for f in data["functions"]}["relu"]["score"] == 1.0


def test_cli_check_exits_0_when_all_pass(capsys):
    from backproof.cli import main

    assert main(["check", str(SOLUTION), "--only", "softmax,softmaxp"]) == 0
    assert "2 pass" in capsys.readouterr().out


@pytest.mark.parametrize("content", ["{not json", None])
def test_cli_check_exits_2_on_an_unreadable_file(tmp_path, capsys, content):
    from backproof.cli import main

    path = tmp_path / "broken.ipynb"
    if content is not None:
        path.write_text(content)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("backproof: error:") and "broken.ipynb" in err and "Traceback" not in err


def test_cli_check_rejects_a_map_to_an_unknown_course_function(capsys):
    from backproof.cli import main

    assert main(["check", str(SOLUTION), "--map", "sofmax=my_softmax"]) == 2
    assert "not a course function: sofmax" in capsys.readouterr().err


def test_run_all_executes_every_cell_in_order(tmp_path):
    path = tmp_path / "nb.py"
    path.write_text(
        SOLUTION.read_text().split('if __name__ == "__main__":')[0]
        + "\nfor _ in range(1):  # a loop: only --run-all executes it\n    softmax = relu\n"
    )
    assert check_file(path, only=["softmax"])["softmax"].status == "pass"
    assert check_file(path, only=["softmax"], run_all=True)["softmax"].status == "fail"


def _all_identities_named():
    from backproof.check._specs import IDENTITY_PAGES, specs_cache

    names = set(IDENTITY_PAGES)
    for spec in specs_cache():
        for prop in spec.props:
            names.update(n for n in [prop.identity, *(m.identity for m in prop.mistakes)] if n)
    return names


def test_every_identity_the_checker_names_exists_in_backproof_symbolic():
    from backproof.symbolic import identity

    for name in _all_identities_named():
        assert identity(name).name == name


def _section_id(title: str) -> str:
    """The id Sphinx gives a section (docutils' make_id): lower case, other runs one hyphen."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


def test_every_link_points_at_a_page_and_anchor_of_the_site():
    from backproof.check._specs import IDENTITY_PAGES, TEXTBOOK_PAGE, identity_link, specs_cache

    docs = Path(__file__).parent.parent / "docs"
    links = {TEXTBOOK_PAGE, *map(identity_link, IDENTITY_PAGES)} | {
        p.link for s in specs_cache() for p in s.props
    }
    for link in links:
        page, _, anchor = link.partition("#")
        source = docs / page.replace(".html", ".md")
        assert source.is_file(), link
        if anchor:  # a section title, or a label "(identity_name)=" rendered as id="identity-name"
            lines = source.read_text().splitlines()
            ids = {_section_id(line.lstrip("#")) for line in lines if line.startswith("#")}
            ids |= {
                line[1:-2].replace("_", "-") for line in lines if line.startswith("(") and line.endswith(")=")
            }
            assert anchor in ids, link


def test_no_mistake_in_the_catalogue_is_secretly_correct():
    from backproof.check._checker import _run_mistake, compare
    from backproof.check._specs import specs_cache

    for spec in specs_cache():
        for prop in spec.props:
            if prop.behaviour is not None:
                continue  # checked by behaviour (schedules, not formulas): see test_check_classroom.py
            inputs = prop.probes
            assert inputs, f"{spec.name}.{prop.key} has no probe inputs"
            for m in prop.mistakes:
                outs = [(i, _run_mistake(m, i)) for i in inputs]
                differs = [
                    isinstance(o, Exception)
                    or (
                        not prop.close(o, prop.expected(i))
                        if prop.close
                        else not compare(o, prop.expected(i), prop.base(i) if prop.base else None)[0]
                        or (prop.extra is not None and prop.extra(o, i) is not None)
                    )
                    for i, o in outs
                ]
                assert any(differs), f"{spec.name}: {m.key} equals the correct result on every probe"


@pytest.fixture(scope="module")
def example_report():
    from backproof.check import example_notebook

    return check_file(example_notebook())


def test_shipped_example_notebook_shows_the_two_mistakes_the_site_describes(example_report):
    report = example_report
    assert report.exit_code == 1
    stable = [f for f in report["softmax"].findings if not f.passed]
    assert [f.mistake for f in stable] == ["no_max_subtraction"]
    assert report["update_shallow"].findings[0].mistake == "missing_1_over_N"
    assert {f.name: f.verdict for f in report.functions if f.status != "pass"} == {
        "softmax": "wrong",
        "update_shallow": "wrong",
        "backprop_shallow": "depends on update_shallow",
        "backprop_minibatch_shallow": "depends on update_shallow",
    }


def test_cli_check_exits_2_on_a_py_file_with_a_syntax_error(tmp_path, capsys):
    from backproof.cli import main

    path = tmp_path / "mine.py"
    path.write_text("import numpy as np\n\ndef softmax(a)\n    return a\n")
    assert main(["check", str(path)]) == 2
    assert "syntax error at line 3" in capsys.readouterr().err


def test_notebook_cell_with_a_syntax_error_is_skipped_and_the_others_checked(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import numpy as np\ndef relu(a):\n    return np.maximum(a, 0)"),
        nbformat.v4.new_code_cell("def softmax(a)\n    return a"),
    ]
    path = tmp_path / "nb.ipynb"
    nbformat.write(nb, path)
    report = check_file(path, only=["relu", "softmax"])
    assert report["relu"].status == "pass" and report["softmax"].status == "not found"
    assert any("cell 2 has a syntax error at line 1" in n for n in report.notes)


def test_committed_notebooks_are_what_make_notebooks_writes_from_the_py_solution(tmp_path):
    import importlib.util

    import nbformat

    from backproof.check import example_notebook

    spec = importlib.util.spec_from_file_location("make_notebooks", CASES / "make_notebooks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path, tmp_path)
    for committed, fresh in (
        (CASES / "course_solution.ipynb", tmp_path / "course_solution.ipynb"),
        (example_notebook(), tmp_path / "my_assignment.ipynb"),
    ):
        # stripped: ruff format (the lint step) drops the last newline of each cell
        sources = [
            [c.source.strip() for c in nbformat.read(str(p), as_version=4).cells] for p in (committed, fresh)
        ]
        assert sources[0] == sources[1], committed


def test_a_caller_failing_only_through_a_broken_callee_depends_on_it_and_is_not_counted(tmp_path):
    path = VARIANTS[3].write(tmp_path)  # softmaxp without the <g, e> g term, used by update_shallow
    report = check_file(path, only=["softmaxp", "update_shallow"])
    assert report["softmaxp"].verdict == "wrong"
    assert report["update_shallow"].status == "depends"
    assert report["update_shallow"].verdict == "depends on softmaxp"
    assert report["update_shallow"].score == 1.0 and report.exit_code == 1
    text = report.format()
    assert text.index("softmaxp is wrong") < text.index("✗ fail       softmaxp")  # leads with the root cause
    assert "update_shallow fails only through it" in text
    assert text.count("smallest input found") == 1


def test_a_failure_its_own_mistake_explains_does_not_point_at_a_failing_callee(example_report):
    # the example's update_shallow misses the 1/N and calls its softmax, which overflows at ±1000
    assert example_report["update_shallow"].findings[0].mistake == "missing_1_over_N"
    assert example_report["update_shallow"].status == "fail"
    notes = example_report["update_shallow"].notes
    assert any("still wrong: the mistake above is its own" in n for n in notes)


def test_stability_counterexample_has_logits_of_plus_or_minus_1000(example_report):
    (finding,) = [f for f in example_report["softmax"].findings if not f.passed]
    assert finding.check == "softmax.stable"
    assert abs(np.asarray(finding.counterexample_values["a"])).max() >= 999


def test_a_property_broken_by_the_same_mistake_again_is_one_line_not_a_second_report(example_report):
    text = example_report.format()
    section = text.split("✗ fail       update_shallow")[1].split("backprop_shallow")[0]
    assert section.count("diagnosis: steps by") == 1
    assert section.count("smallest input found") == 1
    assert "copies of one sample" in section and "by the same mistake as above" in section


def test_proof_links_say_they_are_site_pages_and_where_the_site_is(example_report):
    text = example_report.format()
    assert "proof:     site page backprop.html#mean-loss-gradient-is-summed-gradient-over-n" in text
    assert "docs/_build/html" in text and "--site URL" in text
    with_site = example_report.format(site="https://example.org/backproof/")
    assert "proof:     https://example.org/backproof/softmax.html" in with_site
    assert "site page" not in with_site and "docs/_build/html" not in with_site


def test_wrong_axis_softmax_is_reported_once_under_its_definition(tmp_path):
    variant = Variant(
        "softmax_max_and_sum_along_axis_1",
        "softmax",
        "np.sum(e, axis=0, keepdims=True)",
        "np.sum(e, axis=1, keepdims=True)",
        "softmax.definition",
        None,
        "wrong_axis",
        also=(("np.max(a, axis=0, keepdims=True)", "np.max(a, axis=1, keepdims=True)"),),
    )
    report = check_file(variant.write(tmp_path), only=["softmax"])
    failed = [f for f in report["softmax"].findings if not f.passed]
    assert [(f.check, f.mistake) for f in failed] == [("softmax.definition", "wrong_axis")], report.format()
    assert "stable for logits" not in report.format().split("note:")[0]
    assert any("not checked yet: stable for logits of ±1000" in n for n in report["softmax"].notes)


def _report_with_every_symbol():
    from backproof.check._report import Finding, FunctionResult, Report

    finding = Finding(
        "softmaxp.jvp",
        "softmaxp(a, e) = g ⊙ e − ⟨g, e⟩ g, net − (γ/N) ∇E, (1/N) Σ ∇E_n, logits of ±1000",
        None,
        False,
        "softmax.html",
        counterexample={"a": "[[1., 2.]]ᵀ  (shape (2, 1), shown transposed)"},
        diagnosis="δ2 = y − d",
    )
    return Report(
        "mine.py",
        [
            FunctionResult("softmaxp", "fail", findings=[finding]),
            FunctionResult("relu", "pass"),
            FunctionResult("relup", "not found"),
        ],
    )


def test_ascii_report_spells_symbols_out_with_one_aligned_status_word():
    text = _report_with_every_symbol().format(ascii=True)
    text.encode("ascii")  # raises if any character is not ASCII
    assert "?" not in text
    assert "g * e - <g, e> g, net - (gamma/N) grad E, (1/N) sum grad E_n, logits of +/-1000" in text
    assert "[[1., 2.]].T  (shape (2, 1)" in text and "delta2 = y - d" in text
    status = [
        line
        for line in text.splitlines()
        if line and not line.startswith((" ", "backproof", "note", "Start here"))
    ]
    assert status[:3] == ["FAIL       softmaxp", "ok         relu", "NOT FOUND  relup"]
    unicode = _report_with_every_symbol().format()
    assert "✗ fail       softmaxp" in unicode and "⟨g, e⟩" in unicode


def test_every_non_ascii_character_the_checker_writes_has_an_ascii_spelling():
    from backproof.check import _report

    package = Path(_report.__file__).parent
    chars = {c for p in package.glob("*.py") for c in p.read_text(encoding="utf-8") if ord(c) > 127}
    assert chars  # the check package does write symbols
    for c in chars:
        spelled = _report.to_ascii(c)
        assert spelled.isascii() and "?" not in spelled, c


def test_cli_check_on_an_ascii_terminal_prints_readable_ascii():
    import os
    import subprocess
    import sys

    from backproof.check import example_notebook

    env = {**os.environ, "LC_ALL": "C", "PYTHONIOENCODING": "ascii"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(__file__).parent.parent / "src"), env.get("PYTHONPATH", "")]
    )
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "backproof",
            "check",
            str(example_notebook()),
            "--only",
            "softmax,update_shallow",
        ],
        capture_output=True,
        env=env,
        timeout=300,
    )
    assert run.returncode == 1, run.stderr.decode(errors="replace")
    text = run.stdout.decode("ascii")  # raises if any byte is not ASCII
    assert "?" not in text
    assert "FAIL       softmax\n" in text and "FAIL       update_shallow\n" in text
    assert "logits of +/-1000" in text and "(gamma/N) grad" in text and "].T  (shape" in text
