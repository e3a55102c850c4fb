"""backproof check: correct learner code passes, each realistic mistake fails with its diagnosis."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

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
    Variant("softmax_wrong_axis", "softmax", "np.sum(e, axis=0, keepdims=True)", "np.sum(e, axis=1, keepdims=True)",
            "softmax.definition", None, "wrong_axis"),
    Variant("softmax_no_max_subtraction", "softmax", "np.exp(a - M)", "np.exp(a)", "softmax.stable", None,
            "no_max_subtraction"),
    Variant("softmax_global_max", "softmax", "np.max(a, axis=0, keepdims=True)", "np.max(a)", "softmax.stable",
            None, "global_max"),
    Variant("softmaxp_missing_term", "softmaxp", "return g * e - np.sum(g * e, axis=0) * g", "return g * e",
            "softmaxp.jvp", JVP, "dropped_term"),
    Variant("softmaxp_flipped_sign", "softmaxp", "return g * e - np.sum(g * e, axis=0) * g",
            "return np.sum(g * e, axis=0) * g - g * e", "softmaxp.jvp", JVP, "wrong_sign"),
    Variant("softmaxp_inner_over_matrix", "softmaxp", "np.sum(g * e, axis=0) * g", "np.sum(g * e) * g",
            "softmaxp.jvp", JVP, "inner_whole_matrix"),
    Variant("relup_kink", "relup", "return e * (a > 0)", "return e * (a >= 0)", "relup.heaviside", RELU, "kink_one"),
    Variant("update_missing_1_over_N", "update_shallow", "gamma / N", "gamma", "update_shallow.step", MEAN,
            "missing_1_over_N"),
    Variant("update_N_from_pixels", "update_shallow", "N = x.shape[1]", "N = x.shape[0]", "update_shallow.step",
            MEAN, "divides_by_pixels"),
    Variant("update_with_plus", "update_shallow", "- gamma / N", "+ gamma / N", "update_shallow.step", FUSED,
            "ascent"),
    Variant("update_softmaxp_on_y", "update_shallow", "softmaxp(a2, e)", "softmaxp(y, e)", "update_shallow.step",
            JVP, "softmaxp_on_y"),
    Variant("update_transposed_weight", "update_shallow", "delta1.dot(x.T)", "x.dot(delta1.T).T.T",
            "update_shallow.step", NET, "transposed_W1"),
    Variant("update_no_relup", "update_shallow", "relup(a1, W2.T.dot(delta2))", "W2.T.dot(delta2)",
            "update_shallow.step", NET, "no_relup"),
    Variant("backprop_one_step_short", "backprop_shallow", "for t in range(T):\n        net = update",
            "for t in range(T - 1):\n        net = update", "backprop_shallow.train", NET, "one_step_short"),
    Variant("label2onehot_sized_by_max", "label2onehot", "np.zeros((10, lbl.shape[0]))",
            "np.zeros((lbl.max() + 1, lbl.shape[0]))", "label2onehot.one_hot", None, "sized_by_max"),
    Variant("onehot2label_wrong_axis", "onehot2label", "np.argmax(d, axis=0)", "np.argmax(d, axis=1)",
            "onehot2label.argmax", None, "wrong_axis"),
    Variant("init_flat_bias", "init_shallow", "np.random.randn(Nh, 1)", "np.random.randn(Nh)", "init_shallow.shapes",
            None, "flat_bias", also=(("np.random.randn(No, 1)", "np.random.randn(No)"),)),
    Variant("init_unscaled", "init_shallow", "/ np.sqrt((Ni + 1.0) / 2.0)", "", "init_shallow.scale", None,
            "unscaled", also=(("/ np.sqrt(Nh + 1.0)", ""),)),
    Variant("normalize_over_255", "normalize_MNIST_images", "(2 * x.astype(np.float32) / 255 - 1)",
            "(x.astype(np.float32) / 255)", "normalize_MNIST_images.normalize", None, "over_255"),
    Variant("normalize_uint8_overflow", "normalize_MNIST_images",
            "return (2 * x.astype(np.float32) / 255 - 1).astype(np.float32)", "return 2 * x / 255 - 1",
            "normalize_MNIST_images.normalize", None, "uint8_overflow"),
    Variant("forward_no_relu", "forwardprop_shallow", "h = relu(a1)\n    a2 = W2.dot(h) + b2\n    return",
            "h = a1\n    a2 = W2.dot(h) + b2\n    return", "forwardprop_shallow.forward", None, "no_relu"),
    Variant("loss_not_averaged", "eval_loss", "-np.sum(d * np.log(y)) / y.size", "-np.sum(d * np.log(y))",
            "eval_loss.loss", None, "sum"),
    Variant("perfs_fraction", "eval_perfs", "100 * np.mean", "np.mean", "eval_perfs.perfs", None, "fraction"),
]


@pytest.fixture(scope="module")
def solution_report():
    return check_file(SOLUTION)


def test_correct_solution_passes_every_function(solution_report):
    assert [f.status for f in solution_report.functions] == ["pass"] * len(COURSE_FUNCTIONS)
    assert solution_report.exit_code == 0


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
