"""The four hidden activations: values, kink conventions, derivatives, stability at ±1000, the table."""

import warnings

import numpy as np
import pytest

from backproof import InputError
from backproof.activations import (
    ACTIVATIONS,
    LEAKY_RELU_ALPHA,
    activation,
    leaky_relu,
    leaky_relu_jvp,
    sigmoid,
    sigmoid_jvp,
    tanh,
    tanh_jvp,
)
from backproof.relu import relu, relu_jvp


def test_the_table_names_the_four_activations_each_with_its_own_derivative():
    assert list(ACTIVATIONS) == ["relu", "leaky_relu", "sigmoid", "tanh"]
    assert ACTIVATIONS["relu"] == (relu, relu_jvp)
    assert ACTIVATIONS["leaky_relu"] == (leaky_relu, leaky_relu_jvp)
    assert ACTIVATIONS["sigmoid"] == (sigmoid, sigmoid_jvp)
    assert ACTIVATIONS["tanh"] == (tanh, tanh_jvp)


def test_an_unknown_name_lists_the_known_ones():
    with pytest.raises(InputError, match="relu, leaky_relu, sigmoid, tanh"):
        activation("softplus")


def test_values_follow_the_definitions():
    a = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_allclose(leaky_relu(a), [-2 * LEAKY_RELU_ALPHA, 0, 3])
    np.testing.assert_allclose(leaky_relu(a, alpha=0.2), [-0.4, 0, 3])
    np.testing.assert_allclose(sigmoid(a), 1 / (1 + np.exp(-a)), rtol=1e-15)
    np.testing.assert_allclose(tanh(a), np.tanh(a))


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_integer_input_gives_float64_values(name):
    f, jvp = ACTIVATIONS[name]
    a = np.array([-3, 0, 2])
    assert f(a).dtype == np.float64 and jvp(a, np.ones(3)).dtype == np.float64
    np.testing.assert_allclose(f(a), f(a.astype(np.float64)), rtol=1e-15)
    np.testing.assert_allclose(jvp(a, np.ones(3)), jvp(a.astype(np.float64), np.ones(3)), rtol=1e-15)
    if name == "leaky_relu":
        np.testing.assert_allclose(f(a), [-3 * LEAKY_RELU_ALPHA, 0, 2])  # not int(alpha) * a = 0


def test_leaky_relu_takes_alpha_as_its_derivative_at_the_kink():
    e = np.array([5.0, 5.0, 5.0])
    np.testing.assert_allclose(
        leaky_relu_jvp(np.array([-1.0, 0.0, 2.0]), e), [5 * LEAKY_RELU_ALPHA] * 2 + [5]
    )
    np.testing.assert_allclose(leaky_relu_jvp(np.array([0.0]), np.array([1.0]), alpha=0.3), [0.3])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_jvp_matches_finite_differences_away_from_kinks(name):
    f, jvp = ACTIVATIONS[name]
    rng = np.random.default_rng(3)
    a = rng.normal(scale=2, size=(20, 6))
    a[np.abs(a) < 1e-3] = 0.5  # finite differences need a neighbourhood without a kink
    e = rng.normal(size=a.shape)
    eps = 1e-6
    numeric = (f(a + eps * e) - f(a - eps * e)) / (2 * eps)
    got = jvp(a, e)
    err = np.abs(got - numeric) / np.maximum(np.abs(got) + np.abs(numeric), 1e-4)
    assert err.max() < 1e-6


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_of_plus_minus_1000_give_no_warning_and_no_nan(name, dtype):
    f, jvp = ACTIVATIONS[name]
    a = np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            values, slopes = f(a), jvp(a, np.ones_like(a))
    assert np.all(np.isfinite(values)) and np.all(np.isfinite(slopes))
    assert values.dtype == dtype


def test_sigmoid_and_tanh_saturate_exactly_at_plus_minus_1000():
    np.testing.assert_array_equal(sigmoid(np.array([-1000.0, 1000.0])), [0.0, 1.0])
    np.testing.assert_array_equal(tanh(np.array([-1000.0, 1000.0])), [-1.0, 1.0])
    np.testing.assert_array_equal(sigmoid_jvp(np.array([-1000.0, 1000.0]), np.ones(2)), [0.0, 0.0])
    np.testing.assert_array_equal(tanh_jvp(np.array([-1000.0, 1000.0]), np.ones(2)), [0.0, 0.0])


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_jvp_refuses_mismatched_shapes_and_nan(name):
    _, jvp = ACTIVATIONS[name]
    with pytest.raises(InputError, match=r"^a and e must have the same shape, got \(3,\) and \(4,\)$"):
        jvp(np.zeros(3), np.zeros(4))
    which = "ReLU" if name == "relu" else "the activation"
    with pytest.raises(InputError, match=rf"^a contains NaN, where {which}'s derivative is undefined$"):
        jvp(np.array([np.nan]), np.ones(1))


@pytest.mark.parametrize(
    ("name", "exact"),
    [("sigmoid", lambda a: np.exp(-a) / (1 + np.exp(-a)) ** 2), ("tanh", lambda a: 1 / np.cosh(a) ** 2)],
)
def test_float32_derivatives_keep_their_relative_accuracy_where_the_activation_saturates(name, exact):
    _, jvp = ACTIVATIONS[name]
    a = np.array([-20.0, -12.0, -8.0, 8.0, 12.0, 20.0])
    got = jvp(a.astype(np.float32), np.ones(6, np.float32))
    np.testing.assert_allclose(got, exact(a), rtol=1e-5)  # 1 - s or 1 - t*t would be off by 1e-1 .. 1
