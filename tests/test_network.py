"""The shallow network: initialisation, forward pass, backprop (fused and textbook)."""

import numpy as np
import pytest

from backproof import InputError, Parameters, backprop, evaluate, forward, init_shallow, one_hot
from backproof.activations import ACTIVATIONS
from backproof.network import default_init, init_network


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


# ---------------------------------------------------------------------------------------- any depth


def _course_init(Ni, Nh, No, seed):
    """main's init_shallow, written out: b1, W1, b2, W2 in float64 with the course's scales."""
    rng = np.random.default_rng(seed)
    s1, s2 = 1.0 / np.sqrt((Ni + 1) / 2.0), 1.0 / np.sqrt(Nh + 1.0)
    b1 = rng.standard_normal(Nh) * s1
    W1 = rng.standard_normal((Nh, Ni)) * s1
    b2 = rng.standard_normal(No) * s2
    W2 = rng.standard_normal((No, Nh)) * s2
    return {"W1": W1, "b1": b1, "W2": W2, "b2": b2}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_shallow_relu_network_gets_the_course_parameters_bit_for_bit(dtype):
    want = _course_init(784, 64, 10, seed=11)
    for p in (init_shallow(seed=11, dtype=dtype), init_network([784, 64, 10], "relu", seed=11, dtype=dtype)):
        assert p.activation == "relu" and p.sizes == (784, 64, 10) and p.dtype == dtype
        for name, value in want.items():
            np.testing.assert_array_equal(getattr(p, name), value.astype(dtype))


def test_parameters_are_built_by_lists_positional_pairs_or_course_names_alike():
    p = init_network([5, 4, 3, 2], "tanh", seed=0, dtype=np.float64)
    by_pairs = Parameters(*[a for w, b in zip(p.W, p.b) for a in (w, b)], activation="tanh")
    by_names = Parameters(**p.arrays(), activation="tanh")
    for q in (by_pairs, by_names):
        assert q.sizes == (5, 4, 3, 2) and q.L == 3 and q.activation == "tanh"
        assert list(q.arrays()) == ["W1", "b1", "W2", "b2", "W3", "b3"]
        assert q.W3 is p.W3 and q.b1 is p.b1
    assert p.shape == p.sizes


def test_course_names_can_be_assigned_and_a_wrong_shape_is_refused():
    p = init_shallow(6, 4, 3, seed=0)
    p.W2 = np.zeros((3, 4), np.float32)
    assert p.W[1].sum() == 0
    with pytest.raises(InputError, match=r"W2 must have shape \(3, 4\)"):
        p.W2 = np.zeros((4, 3))
    with pytest.raises(AttributeError):
        p.W3  # noqa: B018 - the attribute access is the test


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"W": [np.zeros((4, 5))], "b": [np.zeros(3)]}, "inconsistent parameter shapes"),
        ({"W": [np.zeros((4, 5)), np.zeros((3, 5))], "b": [np.zeros(4), np.zeros(3)]}, "inconsistent"),
        ({"W": [np.zeros((4, 5))], "b": [np.zeros(4)], "activation": "softplus"}, "unknown activation"),
    ],
)
def test_inconsistent_layers_or_an_unknown_activation_are_refused(kwargs, match):
    with pytest.raises(InputError, match=match):
        Parameters(**kwargs)


def test_default_init_is_the_course_for_one_relu_layer_he_for_relu_family_glorot_otherwise():
    assert default_init([784, 64, 10], "relu") == "course"
    assert default_init([784, 256, 128, 10], "relu") == "he"
    assert default_init([784, 64, 10], "leaky_relu") == "he"
    assert default_init([784, 64, 10], "tanh") == "glorot"
    assert default_init([784, 256, 128, 10], "sigmoid") == "glorot"


def test_he_and_glorot_draw_weights_with_their_stated_variance_and_zero_biases():
    he = init_network([784, 512, 256, 10], "relu", seed=0, dtype=np.float64)
    glorot = init_network([784, 512, 256, 10], "tanh", seed=0, dtype=np.float64)
    for l, (n_in, n_out) in enumerate([(784, 512), (512, 256), (256, 10)]):
        assert abs(he.W[l].std() / np.sqrt(2 / n_in) - 1) < 0.05
        assert abs(glorot.W[l].std() / np.sqrt(2 / (n_in + n_out)) - 1) < 0.05
        assert not he.b[l].any() and not glorot.b[l].any()


@pytest.mark.parametrize("sizes", [[7], [784, 10], "784-64-10"])
def test_sizes_without_a_hidden_layer_are_refused(sizes):
    with pytest.raises(InputError):
        init_network(sizes)


def test_forward_keeps_every_layer_under_its_course_name():
    p = init_network([6, 5, 4, 3], "sigmoid", seed=0, dtype=np.float64)
    x = np.random.default_rng(0).normal(size=(6, 2))
    fw = forward(p, x)
    assert [a.shape for a in fw.a] == [(5, 2), (4, 2), (3, 2)]
    assert [h.shape for h in fw.h] == [(6, 2), (5, 2), (4, 2)]
    assert fw.a3 is fw.a[2] and fw.h2 is fw.h[2] and fw.h[0] is not None
    np.testing.assert_allclose(fw.h2, 1 / (1 + np.exp(-fw.a2)))


def _numeric_gradients(p, x, d, eps=1e-6):
    from backproof import cross_entropy

    out = {}
    for name, arr in p.arrays().items():
        grad = np.zeros_like(arr)
        for i in np.ndindex(arr.shape):
            old = arr[i]
            arr[i] = old + eps
            up = cross_entropy(forward(p, x).y, d)
            arr[i] = old - eps
            down = cross_entropy(forward(p, x).y, d)
            arr[i] = old
            grad[i] = (up - down) / (2 * eps) * x.shape[1]  # summed, not mean, loss
        out[name] = grad
    return out


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[5, 4, 3], [5, 4, 6, 3], [4, 3, 5, 4, 3]])
@pytest.mark.parametrize("fused", [True, False])
def test_backprop_by_the_recursion_equals_finite_differences_at_any_depth(activation, sizes, fused):
    rng = np.random.default_rng(len(sizes))
    p = init_network(sizes, activation, seed=1, dtype=np.float64)
    for b in p.b:  # nonzero biases, so that they are tested too
        b += rng.normal(scale=0.1, size=b.shape)
    x = rng.normal(size=(sizes[0], 5))
    d = one_hot(rng.integers(0, sizes[-1], 5), sizes[-1], dtype=np.float64)
    nabla = backprop(p, x, d, fused=fused)
    assert nabla.sizes == p.sizes
    for name, numeric in _numeric_gradients(p, x, d).items():
        got = getattr(nabla, name)
        # relative error; below 1e-3 the finite differences' own rounding (~1e-10) dominates
        err = np.abs(got - numeric) / np.maximum(np.abs(got) + np.abs(numeric), 1e-3)
        assert err.max() < 1e-6, name


def test_evaluate_on_no_samples_is_an_error_not_nan():
    p = init_shallow(6, 4, 3, seed=0)
    with pytest.raises(InputError, match="0 samples"):
        evaluate(p, np.zeros((6, 0), np.float32), np.zeros(0, int))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("columns_in_budget", [7, 1, 0.5])
def test_evaluate_works_in_the_widest_chunks_its_memory_budget_allows_and_sums_every_chunk(
    monkeypatch, dtype, columns_in_budget
):
    # a chunk of c samples holds 3 * sum(n_1..n_L) * c numbers of the parameters' dtype; the
    # budget here fits 7 columns (or 1, or less than one, where a chunk is still one sample)
    import backproof.network as net

    p = init_network([12, 9, 7, 4], seed=1).astype(dtype)
    per_column = 3 * (9 + 7 + 4) * np.dtype(dtype).itemsize
    monkeypatch.setattr(net, "_EVAL_BYTES", int(per_column * columns_in_budget))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((12, 30)).astype(dtype)
    labels = rng.integers(0, 4, 30)
    widths = []
    real_forward = net.forward

    def spy(params, xs):
        widths.append(xs.shape[1])
        return real_forward(params, xs)

    monkeypatch.setattr(net, "forward", spy)
    loss, error = evaluate(p, x, labels)
    expected_chunk = max(1, int(columns_in_budget))
    full, rest = divmod(30, expected_chunk)
    assert widths == [expected_chunk] * full + [rest] * (rest > 0)
    # the same figures as one pass over all samples: every chunk is counted, each once
    a_L = real_forward(p, x).a[-1].astype(np.float64)
    m = a_L.max(axis=0)
    per_sample = m + np.log(np.exp(a_L - m).sum(axis=0)) - a_L[labels, np.arange(30)]
    assert loss == pytest.approx(per_sample.mean(), rel=1e-5 if dtype == np.float32 else 1e-12)
    assert error == pytest.approx(100 * np.mean(a_L.argmax(axis=0) != labels))
