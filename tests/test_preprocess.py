"""normalize, one_hot and its inverse."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from backproof import InputError, normalize, one_hot, one_hot_to_labels


def test_normalize_maps_0_to_minus_1_and_255_to_1_in_float32():
    u = np.array([[0, 255], [51, 204]], dtype=np.uint8)
    x = normalize(u)
    assert x.dtype == np.float32
    np.testing.assert_allclose(x, 2 * u.astype(np.float64) / 255.0 - 1, atol=1e-7)
    assert x[0, 0] == -1.0 and x[0, 1] == 1.0


def test_normalize_keeps_the_sample_contiguous_layout():
    rows = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert normalize(rows.T).T.flags["C_CONTIGUOUS"]


def test_normalize_refuses_already_normalised_floats():
    with pytest.raises(InputError, match="uint8"):
        normalize(np.zeros((784, 2), np.float32))


@given(st.lists(st.integers(0, 9), min_size=1, max_size=50))
def test_one_hot_columns_sum_to_one_and_invert(labels):
    d = one_hot(np.array(labels))
    assert d.shape == (10, len(labels))
    np.testing.assert_array_equal(d.sum(axis=0), 1)
    np.testing.assert_array_equal(one_hot_to_labels(d), labels)


def test_one_hot_rejects_labels_outside_0_to_9():
    with pytest.raises(InputError, match=r"0\.\.9"):
        one_hot(np.array([1, 10]))
