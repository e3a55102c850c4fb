"""softmax and softmax_jvp, including the course's finite-difference check."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backproof import InputError, softmax, softmax_jvp


def rel_error(a, n):
    """CS231n: |a - n| / max(|a| + |n|, 1e-8), the largest over entries."""
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)))


@settings(deadline=None)
@given(arrays(np.float64, st.tuples(st.integers(1, 12), st.integers(1, 6)), elements=st.floats(-1000, 1000)))
def test_softmax_columns_are_probabilities_even_for_logits_of_1000(a):
    g = softmax(a)
    assert np.all(np.isfinite(g)) and np.all(g >= 0)
    np.testing.assert_allclose(g.sum(axis=0), 1.0, rtol=1e-12)


def test_softmax_of_plus_minus_1000_is_exact():
    g = softmax(np.array([[1000.0, -1000.0], [0.0, -1000.0]]))
    np.testing.assert_allclose(g, [[1.0, 0.5], [0.0, 0.5]])


def test_softmax_is_invariant_to_adding_a_constant_to_a_column():
    a = np.random.default_rng(0).normal(size=(10, 4))
    np.testing.assert_allclose(softmax(a), softmax(a + 37.0), rtol=1e-12)


def test_softmax_jvp_matches_centred_finite_differences_below_1e_6():
    """The course's check: (g(a + eps e) - g(a - eps e)) / (2 eps) against softmax_jvp, float64."""
    rng = np.random.default_rng(1)
    a, e = rng.normal(size=(10, 5)), rng.normal(size=(10, 5))
    eps = 1e-6
    numeric = (softmax(a + eps * e) - softmax(a - eps * e)) / (2 * eps)
    assert rel_error(softmax_jvp(a, e), numeric) < 1e-6


def test_softmax_jvp_keeps_float32():
    a = np.ones((10, 3), np.float32)
    assert softmax_jvp(a, a).dtype == np.float32


def test_softmax_jvp_refuses_mismatched_shapes():
    with pytest.raises(InputError, match="same shape"):
        softmax_jvp(np.zeros((10, 2)), np.zeros((10, 3)))


def test_softmax_refuses_nan():
    with pytest.raises(InputError, match="NaN"):
        softmax(np.array([0.0, np.nan]))
