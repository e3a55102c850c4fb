"""Edges of the math functions that the identities' numeric checks do not reach.

Written against the mutants that survived ``tox -e mutation`` (issue 9): error messages name
the argument at fault, each column is treated on its own (no global max or argmax), the
number of classes comes from the arrays, and float32 sums accumulate in float64.
"""

import warnings

import numpy as np
import pytest

from backproof import (
    InputError,
    Parameters,
    backprop,
    cross_entropy,
    cross_entropy_from_logits,
    cross_entropy_grad,
    evaluate,
    forward,
    misclassification,
    predict,
    relu,
    relu_jvp,
    softmax,
    softmax_jvp,
)

CUBE = np.zeros((2, 2, 2))


def tiny(seed=0, No=3):
    rng = np.random.default_rng(seed)
    return Parameters(
        rng.standard_normal((4, 4)),
        rng.standard_normal(4),
        rng.standard_normal((No, 4)),
        rng.standard_normal(No),
    )


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: softmax(CUBE), "a"),
        (lambda: softmax_jvp(CUBE, np.ones((2, 2))), "a"),
        (lambda: softmax_jvp(np.ones((2, 2)), CUBE), "e"),
        (lambda: cross_entropy(CUBE, np.ones((2, 2))), "y"),
        (lambda: cross_entropy(np.ones((2, 2)), CUBE), "d"),
        (lambda: cross_entropy_grad(CUBE, np.ones((2, 2))), "y"),
        (lambda: cross_entropy_grad(np.ones((2, 2)), CUBE), "d"),
        (lambda: cross_entropy_from_logits(CUBE, np.ones((2, 2))), "a"),
        (lambda: cross_entropy_from_logits(np.ones((2, 2)), CUBE), "d"),
        (lambda: misclassification(CUBE, np.zeros(2, int)), "y"),
        (lambda: forward(tiny(), CUBE), "x"),
        (lambda: backprop(tiny(), CUBE, np.ones((3, 2))), "x"),
        (lambda: backprop(tiny(), np.ones((4, 2)), CUBE), "d"),
    ],
)
def test_a_bad_array_is_named_in_the_error(call, name):
    with pytest.raises(InputError, match=rf"^{name} must be 2-D"):
        call()


@pytest.mark.parametrize(
    "call, names",
    [
        (lambda: softmax_jvp(np.ones((2, 2)), np.ones((3, 2))), "a and e"),
        (lambda: relu_jvp(np.ones((2, 2)), np.ones((3, 2))), "a and e"),
        (lambda: cross_entropy(np.ones((2, 2)), np.ones((3, 2))), "y and d"),
        (lambda: cross_entropy_grad(np.ones((2, 2)), np.ones((3, 2))), "y and d"),
        (lambda: cross_entropy_from_logits(np.ones((2, 2)), np.ones((3, 2))), "a and d"),
    ],
)
def test_arrays_of_different_shapes_are_named_in_the_error(call, names):
    with pytest.raises(InputError, match=rf"^{names} must have the same shape"):
        call()


def test_count_mismatches_are_stated_with_both_numbers():
    with pytest.raises(InputError, match=r"^3 labels for 2 columns of y$"):
        misclassification(np.ones((3, 2)), np.array([0, 1, 2]))
    with pytest.raises(InputError, match=r"^x has 2 samples but d has 3$"):
        backprop(tiny(), np.ones((4, 2)), np.eye(3))
    with pytest.raises(InputError, match=r"^x has 2 samples but labels has 3$"):
        evaluate(tiny(), np.ones((4, 2)), np.array([0, 1, 2]))


def test_relu_jvp_refuses_nan_and_names_a():
    with pytest.raises(InputError, match=r"^a contains NaN"):
        relu_jvp(np.array([[np.nan]]), np.array([[1.0]]))


def test_misclassification_takes_the_classes_from_the_rows_of_y():
    y = np.array([[0.1, 0.7], [0.2, 0.2], [0.7, 0.1]])  # 3 classes, 2 samples: argmax per column
    assert misclassification(y, np.array([2, 0])) == 0.0
    assert misclassification(y, np.array([2, 1])) == 50.0
    assert misclassification(y, np.array([0, 1])) == 100.0
    with pytest.raises(InputError, match=r"0\.\.2"):
        misclassification(y, np.array([3, 0]))  # a fourth class does not exist here


def test_each_column_of_the_logit_loss_is_shifted_by_its_own_maximum():
    """Columns whose logits differ by 2000: a global maximum would underflow one of them."""
    a = np.array([[-2000.0, 0.0], [-2001.0, 1.0]])
    d = np.array([[1.0, 0.0], [0.0, 1.0]])
    per_column = [np.log1p(np.exp(-1.0)), np.log1p(np.exp(-1.0))]
    assert cross_entropy_from_logits(a, d) == pytest.approx(np.mean(per_column), rel=1e-12)


def test_the_float32_logit_loss_is_accumulated_in_float64():
    rng = np.random.default_rng(0)
    a = (rng.standard_normal((10, 200_000)) * 3).astype(np.float32)
    d = np.zeros_like(a)
    d[rng.integers(0, 10, a.shape[1]), np.arange(a.shape[1])] = 1
    a64 = a.astype(np.float64)
    m = a64.max(axis=0)
    exact = np.mean(m + np.log(np.exp(a64 - m).sum(axis=0)) - (d * a64).sum(axis=0))
    assert cross_entropy_from_logits(a, d) == pytest.approx(exact, rel=1e-6)


def test_minus_d_over_y_at_y_zero_is_infinite_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = cross_entropy_grad(np.array([[0.0], [1.0]]), np.array([[1.0], [0.0]]))
    assert g[0, 0] == -np.inf and g[1, 0] == 0.0


def test_predict_is_the_argmax_of_each_column_of_y():
    p, x = tiny(1), np.random.default_rng(2).standard_normal((4, 7))
    np.testing.assert_array_equal(predict(p, x), np.argmax(forward(p, x).y, axis=0))
    assert predict(p, x).shape == (7,)


def test_evaluate_uses_the_number_of_outputs_of_the_network():
    p, x = tiny(3, No=3), np.random.default_rng(4).standard_normal((4, 5))
    labels = np.array([0, 1, 2, 1, 0])
    loss, err = evaluate(p, x, labels)
    fw = forward(p, x)
    d = np.eye(3)[:, labels]
    assert loss == pytest.approx(cross_entropy(fw.y, d), rel=1e-9)
    assert err == misclassification(fw.y, labels)


def test_relu_keeps_the_dtype_and_zeroes_only_negatives():
    a = np.array([[-1.5, 0.0, 2.0]], dtype=np.float32)
    out = relu(a)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0.0, 0.0, 2.0]])
    assert relu(np.array([-1, 3])).dtype == np.float64


def test_targets_summing_to_one_within_the_tolerance_are_accepted_and_beyond_it_refused():
    from backproof.loss import TARGET_SUM_TOLERANCE, require_targets_sum_to_one

    require_targets_sum_to_one(np.array([[1.0 + TARGET_SUM_TOLERANCE, 0.5], [0.0, 0.5]]))
    require_targets_sum_to_one(np.zeros((3, 0)))  # no samples: nothing to check
    with pytest.raises(InputError, match=r"column 0 of d sums to 2 \(1 such columns\)"):
        require_targets_sum_to_one(np.array([[2.0]]))
    with pytest.raises(InputError, match=r"pass fused=False for the general form y \* sum\(d\) - d$"):
        require_targets_sum_to_one(np.array([[1.0 + 2 * TARGET_SUM_TOLERANCE]]))


def test_training_with_fused_false_follows_the_textbook_chain_even_where_it_fails():
    """Logits 2000 apart: y underflows to 0, -d/y is NaN, and the textbook run diverges; fused does not."""
    from backproof import TrainingDivergedError, train_full_batch

    eye = np.eye(3)
    p = Parameters(eye.copy(), np.zeros(3), eye.copy(), np.zeros(3))
    x = np.array([[0.0, 2000.0], [0.0, 0.0], [0.0, 0.0]])
    labels = np.array([1, 1])  # the second sample's true class has y = e^-2000 = 0
    train_full_batch(x, labels, iterations=1, lr=1e-12, params=p, fused=True)
    with pytest.raises(TrainingDivergedError):
        train_full_batch(x, labels, iterations=1, lr=1e-12, params=p, fused=False)
