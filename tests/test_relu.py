"""relu and relu_jvp: values, the convention at 0, finite differences away from the kink."""

import numpy as np

from backproof import relu, relu_jvp


def test_relu_is_max_with_zero():
    np.testing.assert_array_equal(relu(np.array([-2.0, 0.0, 3.0])), [0.0, 0.0, 3.0])


def test_relu_jvp_is_zero_at_the_kink_by_convention():
    np.testing.assert_array_equal(
        relu_jvp(np.array([-1.0, 0.0, 2.0]), np.array([5.0, 5.0, 5.0])), [0.0, 0.0, 5.0]
    )


def test_relu_jvp_matches_finite_differences_away_from_the_kink():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(20, 6))
    a[np.abs(a) < 1e-3] = 0.5  # keep away from 0, where relu has no derivative
    e = rng.normal(size=a.shape)
    eps = 1e-6
    numeric = (relu(a + eps * e) - relu(a - eps * e)) / (2 * eps)
    err = np.abs(relu_jvp(a, e) - numeric) / np.maximum(np.abs(relu_jvp(a, e)) + np.abs(numeric), 1e-8)
    assert err.max() < 1e-6


def test_relu_jvp_does_not_turn_inf_directions_into_nan_where_inactive():
    out = relu_jvp(np.array([-1.0, 1.0]), np.array([np.inf, 1.0]))
    np.testing.assert_array_equal(out, [0.0, 1.0])
