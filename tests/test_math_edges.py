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
    """One sample's loss of 1e8 beside 4,999 of about 1.31: a float32 sum loses the small ones."""
    n = 5000
    a = np.full((10, n), -1e30, np.float32)  # classes 2..9 out of the race
    a[0], a[1] = 0.0, -1.0  # every label is 1: E_n = log(1 + 1/e) + 1 ...
    a[1, 0] = -1e8  # ... but E_0 = 1e8 exactly
    d = np.zeros_like(a)
    d[1] = 1
    one = cross_entropy_from_logits(a[:, 1:2], d[:, 1:2])  # the float32 loss of one other sample
    assert cross_entropy_from_logits(a, d) == pytest.approx((1e8 + (n - 1) * one) / n, rel=1e-12)


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


def test_predict_and_evaluate_read_the_last_layers_logits_at_any_depth():
    rng = np.random.default_rng(5)
    sizes = [4, 6, 5, 3]
    p = Parameters(
        W=[rng.standard_normal((sizes[l + 1], sizes[l])) for l in range(3)],
        b=[rng.standard_normal(sizes[l + 1]) for l in range(3)],
    )
    x, labels = rng.standard_normal((4, 9)), rng.integers(0, 3, 9)
    h = x
    for l in range(3):
        a = p.W[l] @ h + p.b[l][:, None]
        h = np.maximum(a, 0)
    np.testing.assert_array_equal(predict(p, x), np.argmax(a, axis=0))
    loss, err = evaluate(p, x, labels)
    lse = np.log(np.exp(a).sum(axis=0))
    assert loss == pytest.approx(np.mean(lse - a[labels, np.arange(9)]), rel=1e-12)
    assert err == pytest.approx(100 * np.mean(np.argmax(a, axis=0) != labels), rel=1e-12)


def test_backprop_gives_gradients_of_the_networks_activation():
    p = Parameters(*tiny().W[:1], *tiny().b[:1], np.ones((3, 4)), np.zeros(3), activation="tanh")
    nabla = backprop(p, np.ones((4, 2)), np.eye(3)[:, :2])
    assert nabla.activation == "tanh" and nabla.sizes == p.sizes


def test_float32_targets_smoothed_over_3000_classes_sum_to_one_in_float64():
    """A float32 sum of 3,000 entries of 1/3000 is off by 3e-5, beyond the tolerance; theirs is not."""
    from backproof.loss import require_targets_sum_to_one

    require_targets_sum_to_one(np.full((3000, 2), 1 / 3000, np.float32))


def test_evaluate_on_no_samples_says_so_and_asks_for_a_non_empty_set():
    with pytest.raises(
        InputError, match=r"^cannot evaluate on 0 samples: x has no columns; pass a non-empty set$"
    ):
        evaluate(tiny(), np.zeros((4, 0)), np.zeros(0, np.intp))


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


def test_softmax_jvp_of_one_column_given_as_a_vector_is_a_vector():
    a, e = np.array([1.0, 2.0, 0.5]), np.array([0.3, -1.0, 2.0])
    out = softmax_jvp(a, e)
    assert out.shape == (3,)
    np.testing.assert_allclose(out, softmax_jvp(a[:, None], e[:, None])[:, 0], rtol=0, atol=0)


def test_backprop_names_targets_with_the_wrong_number_of_rows():
    with pytest.raises(InputError, match=r"^d must have 3 rows"):
        backprop(tiny(), np.ones((4, 2)), np.ones((4, 2)) / 4)


def test_labels_of_the_wrong_shape_are_named_in_the_error():
    with pytest.raises(InputError, match=r"^labels must be 1-D"):
        misclassification(np.ones((3, 2)), np.zeros((2, 1), int))


def test_zero_over_zero_in_minus_d_over_y_is_nan_without_a_warning():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = cross_entropy_grad(np.array([[0.0], [1.0]]), np.array([[0.0], [1.0]]))
    assert np.isnan(g[0, 0]) and g[1, 0] == -1.0


def test_textbook_training_shifts_each_column_of_logits_by_its_own_maximum():
    """Logits near 1000 in one column and near 0 in the other: both losses are finite."""
    from backproof import train_full_batch

    eye = np.eye(3)
    p = Parameters(eye.copy(), np.zeros(3), eye.copy(), np.zeros(3))
    x = np.array([[1000.0, 0.0], [1000.0, 0.0], [1000.0, 0.0]])
    result = train_full_batch(x, np.array([0, 1]), iterations=1, lr=1e-12, params=p, fused=False)
    assert np.all(np.isfinite(result.params.W1))
