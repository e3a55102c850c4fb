"""Cross-entropy, its gradient -d/y, and the misclassification rate."""

import numpy as np

from backproof import (
    cross_entropy,
    cross_entropy_from_logits,
    cross_entropy_grad,
    misclassification,
    one_hot,
    softmax,
)


def test_cross_entropy_is_the_mean_over_samples_of_minus_log_y_true():
    y = np.array([[0.5, 0.1], [0.5, 0.9]])
    d = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert np.isclose(cross_entropy(y, d), -(np.log(0.5) + np.log(0.9)) / 2)


def test_cross_entropy_ignores_zero_probabilities_where_the_target_is_zero():
    assert cross_entropy(np.array([[1.0], [0.0]]), np.array([[1.0], [0.0]])) == 0.0


def test_cross_entropy_from_logits_equals_cross_entropy_of_softmax():
    rng = np.random.default_rng(3)
    a = rng.normal(size=(10, 7)) * 3
    d = one_hot(rng.integers(0, 10, 7), dtype=np.float64)
    assert np.isclose(cross_entropy_from_logits(a, d), cross_entropy(softmax(a), d), rtol=1e-12)


def test_cross_entropy_from_logits_stays_finite_where_y_underflows():
    a = np.array([[0.0], [2000.0]])
    assert cross_entropy_from_logits(a, np.array([[1.0], [0.0]])) == 2000.0


def test_cross_entropy_grad_is_minus_d_over_y_and_matches_finite_differences():
    rng = np.random.default_rng(4)
    y = rng.uniform(0.1, 1, size=(10, 3))
    d = one_hot(np.array([1, 4, 9]), dtype=np.float64)
    np.testing.assert_allclose(cross_entropy_grad(y, d), -d / y)
    e = rng.normal(size=y.shape)
    eps = 1e-6
    numeric = (cross_entropy(y + eps * e, d) - cross_entropy(y - eps * e, d)) / (2 * eps) * 3
    assert np.isclose((cross_entropy_grad(y, d) * e).sum(), numeric, rtol=1e-7)


def test_misclassification_is_a_percentage():
    y = np.array([[0.9, 0.2, 0.3, 0.6], [0.1, 0.8, 0.7, 0.4]])
    assert misclassification(y, np.array([0, 1, 0, 1])) == 50.0


def test_fused_backprop_refuses_targets_whose_columns_do_not_sum_to_one():
    """y - d is the gradient only when sum(d) = 1; otherwise a clear error, and fused=False works."""
    import pytest

    from backproof import InputError, backprop, init_shallow

    p = init_shallow(4, 3, 3, seed=0, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((4, 2))
    d = np.array([[2.0, 0.0], [0.0, 1.0], [0.0, 0.0]])
    with pytest.raises(InputError, match="column 0 of d sums to 2"):
        backprop(p, x, d)
    backprop(p, x, d, fused=False)  # the general form y * sum(d) - d, through softmax_jvp
    smoothed = 0.9 * d / d.sum(axis=0) + 0.1 / 3
    backprop(p, x, smoothed.astype(np.float32).astype(np.float64))  # label smoothing: columns sum to 1
