"""Every activation at its kink (a = 0), in the reference functions and in the training kernel.

ReLU and leaky ReLU have no derivative at 0; backproof takes the left one there (0 and alpha,
as PyTorch does), and the kernel, which computes the slope from h = sigma(a) in place, must
take the same one. Sigmoid and tanh are smooth: their slope at 0 (1/4 and 1) is checked too, so
that every activation's value at 0 is pinned in the kernel. Written against mutants that
survived the suite (issue 18): the kernel's leaky-ReLU backward with ``>=`` for ``>``.
"""

import numpy as np
import pytest

from backproof.activations import ACTIVATIONS, LEAKY_RELU_ALPHA
from backproof.kernel import Kernel
from backproof.network import forward, init_network
from backproof.preprocess import one_hot
from backproof.softmax import softmax
from backproof.training import _textbook_step

# sigma'(0) by each activation's convention: the left derivative at a kink
SLOPE_AT_ZERO = {"relu": 0.0, "leaky_relu": LEAKY_RELU_ALPHA, "sigmoid": 0.25, "tanh": 1.0}
VALUE_AT_ZERO = {"relu": 0.0, "leaky_relu": 0.0, "sigmoid": 0.5, "tanh": 0.0}
AT_KINK = [0, 3]  # the units of every hidden layer whose pre-activation is exactly 0


def test_the_table_of_slopes_at_zero_is_the_reference_implementations():
    assert list(SLOPE_AT_ZERO) == list(ACTIVATIONS)
    for name, (f, jvp) in ACTIVATIONS.items():
        a = np.array([-0.0, 0.0])
        assert f(a).tolist() == [VALUE_AT_ZERO[name]] * 2, name
        assert jvp(a, np.array([2.0, 3.0])).tolist() == [2 * SLOPE_AT_ZERO[name], 3 * SLOPE_AT_ZERO[name]]


def _network_with_units_at_the_kink(activation, sizes, rng):
    """Parameters whose units AT_KINK of every hidden layer get a_l = 0 exactly, on every sample."""
    p = init_network(sizes, activation, seed=1, dtype=np.float64)
    for l in range(len(sizes) - 1):
        p.b[l] += rng.normal(scale=0.2, size=p.b[l].shape)
        if l < len(sizes) - 2:  # a hidden layer: zero rows of W_l and b_l
            p.W[l][AT_KINK] = 0.0
            p.b[l][AT_KINK] = 0.0
    return p


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[784, 12, 10], [784, 12, 8, 10]])
def test_kernel_takes_the_reference_slope_at_every_activations_kink(blas_path, activation, sizes):
    rng = np.random.default_rng(len(sizes))
    x = np.asfortranarray(rng.uniform(0, 1, (784, 16)))  # a gathered batch's layout
    lbl = rng.integers(0, 10, 16)
    p = _network_with_units_at_the_kink(activation, sizes, rng)
    before, q = p.copy(), p.copy()
    fw = forward(before, x)
    for a in fw.a[:-1]:
        assert np.all(a[AT_KINK] == 0) and np.all(a[[1, 2]] != 0)  # the kink is really reached
    loss, wrong = Kernel(p, 16).step(x, lbl, 0.1)
    ref_loss, ref_wrong = _textbook_step(q, x, lbl, 0.1, fused=False)
    assert np.isclose(loss, ref_loss, rtol=1e-12) and wrong == ref_wrong
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-10, atol=1e-13, err_msg=name)
    # the convention itself, by hand: at the last hidden layer's kink units,
    # delta = sigma'(0) * (W_L^T delta_L) and b moves by -0.1 * (sum of delta over the batch)
    delta_L = softmax(fw.a[-1]) - one_hot(lbl, 10, dtype=np.float64)
    back = (before.W[-1].T @ delta_L)[AT_KINK].sum(axis=1)
    assert np.all(np.abs(back) > 1e-3)  # so that a wrong slope shows
    moved = p.b[-2][AT_KINK] - before.b[-2][AT_KINK]
    np.testing.assert_allclose(moved, -0.1 * SLOPE_AT_ZERO[activation] * back, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("activation", ["relu", "leaky_relu"])
def test_kernel_takes_the_left_slope_where_the_kink_falls_in_a_float32_batch(one_call, activation):
    # float32, the training loops' dtype, and a batch where only some samples sit at the kink
    rng = np.random.default_rng(7)
    x = np.asfortranarray(rng.uniform(0, 1, (784, 12)).astype(np.float32))
    x[:, ::2] = 0  # even columns are blank images: a_1 = b_1 = 0 there
    lbl = rng.integers(0, 10, 12)
    p = init_network([784, 16, 10], activation, seed=3)
    p.b1[:] = 0
    q = p.copy()
    Kernel(p, 12).update(x, lbl, 0.05)
    _textbook_step(q, x, lbl, 0.05, fused=True)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-5, atol=1e-7, err_msg=name)
