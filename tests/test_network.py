"""The shallow network: initialisation, forward pass, backprop (fused and textbook)."""

import numpy as np
import pytest

from backproof import InputError, backprop, forward, init_shallow, one_hot


def test_init_shallow_uses_the_course_scales_and_is_reproducible():
    p = init_shallow(784, 64, 10, seed=7, dtype=np.float64)
    q = init_shallow(784, 64, 10, seed=7, dtype=np.float64)
    np.testing.assert_array_equal(p.W1, q.W1)
    assert abs(p.W1.std() * np.sqrt(785 / 2) - 1) < 0.01
    assert abs(p.W2.std() * np.sqrt(65) - 1) < 0.1
    assert p.W1.shape == (64, 784) and p.b1.shape == (64,) and p.W2.shape == (10, 64)
    assert init_shallow(seed=8).W1[0, 0] != p.W1[0, 0]


def test_forward_outputs_probability_columns():
    p = init_shallow(6, 4, 3, seed=0, dtype=np.float64)
    fw = forward(p, np.random.default_rng(0).normal(size=(6, 5)))
    assert fw.y.shape == (3, 5)
    np.testing.assert_allclose(fw.y.sum(axis=0), 1)


def test_forward_explains_a_transposed_batch():
    p = init_shallow(784, 8, 10)
    with pytest.raises(InputError, match="transposed"):
        forward(p, np.zeros((5, 784), np.float32))


def _numeric_gradient(p, x, d, name, eps=1e-6):
    from backproof import cross_entropy

    arr = getattr(p, name)
    grad = np.zeros_like(arr)
    for i in np.ndindex(arr.shape):
        old = arr[i]
        arr[i] = old + eps
        up = cross_entropy(forward(p, x).y, d)
        arr[i] = old - eps
        down = cross_entropy(forward(p, x).y, d)
        arr[i] = old
        grad[i] = (up - down) / (2 * eps) * x.shape[1]  # summed, not mean, loss
    return grad


@pytest.mark.parametrize("fused", [True, False])
def test_backprop_equals_finite_differences_of_the_summed_loss(fused):
    rng = np.random.default_rng(5)
    p = init_shallow(5, 4, 3, seed=1, dtype=np.float64)
    x = rng.normal(size=(5, 6))
    d = one_hot(rng.integers(0, 3, 6), 3, dtype=np.float64)
    nabla = backprop(p, x, d, fused=fused)
    for name in ("W1", "b1", "W2", "b2"):
        numeric = _numeric_gradient(p, x, d, name)
        got = getattr(nabla, name)
        err = np.abs(got - numeric) / np.maximum(np.abs(got) + np.abs(numeric), 1e-8)
        assert err.max() < 1e-6, name


def test_fused_and_textbook_backprop_agree():
    rng = np.random.default_rng(6)
    p = init_shallow(784, 64, 10, seed=2, dtype=np.float64)
    x = rng.uniform(-1, 1, size=(784, 50))
    d = one_hot(rng.integers(0, 10, 50), dtype=np.float64)
    a, b = backprop(p, x, d, fused=True), backprop(p, x, d, fused=False)
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(getattr(a, name), getattr(b, name), rtol=1e-10, atol=1e-12)
