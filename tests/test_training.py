"""The two training loops on a small set of real digits (the offline sample)."""

import json

import numpy as np
import pytest

from backproof import (
    InputError,
    TrainingDivergedError,
    evaluate,
    init_shallow,
    normalize,
    train_full_batch,
    train_minibatch,
)
from backproof.activations import ACTIVATIONS
from backproof.kernel import Kernel
from backproof.network import init_network
from backproof.training import _textbook_step


@pytest.fixture(scope="module")
def small(sample):
    x, lbl, xt, lblt = sample
    return normalize(x[:, :1000]), lbl[:1000], normalize(xt), lblt


def test_full_batch_lowers_loss_and_error_on_real_digits(small):
    x, lbl, xt, lblt = small
    r = train_full_batch(x, lbl, iterations=30, lr=0.05, seed=0, test=(xt, lblt))
    assert r.final["train_loss"] < r.initial["train_loss"] - 0.5
    assert r.final["test_error"] < 60
    assert len(r.history.train_loss) == 31 and r.history.step[-1] == 30


def test_minibatch_lowers_loss_and_error_on_real_digits(small):
    x, lbl, xt, lblt = small
    r = train_minibatch(x, lbl, epochs=10, batch_size=50, seed=0, test=(xt, lblt))
    assert r.final["train_error"] < 10 and r.final["test_error"] < 20
    assert r.history.epoch == [float(e) for e in range(11)]


def test_same_seed_gives_the_same_trajectory_and_another_seed_does_not(small):
    x, lbl, *_ = small
    a = train_minibatch(x, lbl, epochs=1, batch_size=100, seed=3)
    b = train_minibatch(x, lbl, epochs=1, batch_size=100, seed=3)
    c = train_minibatch(x, lbl, epochs=1, batch_size=100, seed=4)
    assert a.history.train_loss == b.history.train_loss
    np.testing.assert_array_equal(a.params.W1, b.params.W1)
    assert a.history.train_loss != c.history.train_loss


def test_recorded_initial_metrics_are_those_of_the_initial_parameters(small):
    x, lbl, xt, lblt = small
    r = train_full_batch(x, lbl, iterations=3, seed=9, test=(xt, lblt))
    p0 = init_shallow(784, 64, 10, seed=9)
    assert np.isclose(r.initial["train_loss"], evaluate(p0, x, lbl)[0], rtol=1e-5)
    assert np.isclose(r.initial["test_loss"], evaluate(p0, xt, lblt)[0], rtol=1e-5)
    assert np.isclose(r.final["test_loss"], evaluate(r.params, xt, lblt)[0], rtol=1e-6)


@pytest.mark.parametrize("train", [train_full_batch, train_minibatch])
def test_fast_kernel_follows_the_textbook_chain_within_float32_tolerance(small, train):
    x, lbl, *_ = small
    # 12 full-batch iterations: beyond them, on these 1,000 digits, float32 rounding differences
    # between any two orders of summation grow chaotically (1e-8 at 12, 3e-4 at 20)
    kw = {"iterations": 12} if train is train_full_batch else {"epochs": 2}
    fast = train(x, lbl, seed=1, fused=True, **kw)
    slow = train(x, lbl, seed=1, fused=False, **kw)
    np.testing.assert_allclose(fast.history.train_loss, slow.history.train_loss, rtol=1e-4)
    np.testing.assert_allclose(fast.params.W1, slow.params.W1, atol=1e-5)


def test_kernel_step_equals_one_textbook_step_in_float64():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (784, 40))
    lbl = rng.integers(0, 10, 40)
    p, q = init_shallow(seed=0, dtype=np.float64), init_shallow(seed=0, dtype=np.float64)
    la, wa = Kernel(p, 40).step(x, lbl, 0.1)
    lb, wb = _textbook_step(q, x, lbl, 0.1, fused=False)
    assert np.isclose(la, lb, rtol=1e-12) and wa == wb
    for name in ("W1", "b1", "W2", "b2"):
        np.testing.assert_allclose(getattr(p, name), getattr(q, name), rtol=1e-10, atol=1e-13)


def test_a_huge_learning_rate_stops_with_the_step_and_rate(small):
    x, lbl, *_ = small
    with pytest.raises(TrainingDivergedError, match=r"learning rate 1e\+30"):
        train_full_batch(x, lbl, iterations=50, lr=1e30)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"batch_size": 0}, "batch_size"),
        ({"lr": -0.1}, "lr"),
        ({"epochs": -1}, "epochs"),
        ({"batch_size": 10**6}, "larger than the training set"),
        ({"hidden": 0}, "hidden"),
    ],
)
def test_invalid_settings_are_refused_before_any_work(small, kwargs, match):
    x, lbl, *_ = small
    with pytest.raises(InputError, match=match):
        train_minibatch(x, lbl, **kwargs)


def test_raw_uint8_or_transposed_images_are_refused_with_the_fix(sample):
    x, lbl, *_ = sample
    with pytest.raises(InputError, match="normalize"):
        train_full_batch(x, lbl, iterations=1)
    with pytest.raises(InputError, match="transposed"):
        train_full_batch(normalize(x).T, lbl, iterations=1, test=(normalize(x).T, lbl))


# ---------------------------------------------------------------------------------------- any depth


def _main_kernel_step(P, x, labels, scale):
    """main's shallow Kernel.step, written out with fresh arrays (the formulas, not the buffers)."""
    cols = np.arange(x.shape[1])
    a1 = P.W1 @ x
    a1 += P.b1[:, None]
    h = np.maximum(a1, 0)
    a2 = P.W2 @ h
    a2 += P.b2[:, None]
    m = np.max(a2, axis=0)
    y = np.exp(a2 - m)
    s = np.sum(y, axis=0)
    y /= s
    y[labels, cols] -= 1
    y *= y.dtype.type(scale)
    nW2, nb2 = y @ h.T, y.sum(axis=1)
    delta1 = (P.W2.T @ y) * (a1 > 0)
    nW1, nb1 = delta1 @ x.T, delta1.sum(axis=1)
    P.W1 -= nW1
    P.b1 -= nb1
    P.W2 -= nW2
    P.b2 -= nb2


def test_the_shallow_minibatch_trajectory_is_mains_for_the_same_seed(small):
    x, lbl, *_ = small
    r = train_minibatch(x, lbl, epochs=2, batch_size=64, lr=0.1, seed=5)
    # main's loop: one generator draws the course's parameters, then one permutation per epoch
    rng = np.random.default_rng(5)
    P = init_shallow(784, 64, 10, rng)
    rows = np.ascontiguousarray(x.T)
    for _ in range(2):
        perm = rng.permutation(rows.shape[0])
        for k in range(0, rows.shape[0], 64):
            idx = perm[k : k + 64]
            _main_kernel_step(P, rows[idx].T, lbl[idx].astype(np.intp), 0.1 / idx.shape[0])
    for name, value in P.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-5, atol=1e-6)
    assert r.config["sizes"] == [784, 64, 10] and r.config["activation"] == "relu"
    assert r.config["init"] == "course" and r.config["hidden"] == 64


def test_the_shallow_full_batch_trajectory_is_mains_for_the_same_seed(small):
    x, lbl, *_ = small
    r = train_full_batch(x, lbl, iterations=5, lr=0.05, seed=2)
    P = init_shallow(784, 64, 10, np.random.default_rng(2))
    for _ in range(5):
        _main_kernel_step(P, x, lbl.astype(np.intp), 0.05 / x.shape[1])
    for name, value in P.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("sizes", [[784, 16, 10], [784, 32, 16, 10], [784, 20, 16, 12, 10]])
def test_kernel_step_equals_the_reference_recursion_at_any_depth(activation, sizes):
    rng = np.random.default_rng(len(sizes))
    x = rng.uniform(-1, 1, (784, 30))
    lbl = rng.integers(0, 10, 30)
    p = init_network(sizes, activation, seed=0, dtype=np.float64)
    for b in p.b:
        b += rng.normal(scale=0.1, size=b.shape)
    q = p.copy()
    kernel = Kernel(p, 30)
    for _ in range(3):
        la, wa = kernel.step(x, lbl, 0.1)
        lb, wb = _textbook_step(q, x, lbl, 0.1, fused=False)
        assert np.isclose(la, lb, rtol=1e-12) and wa == wb
    assert kernel.update(x, lbl, 0.1)
    _textbook_step(q, x, lbl, 0.1, fused=True)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-9, atol=1e-12)


def test_a_deeper_network_learns_the_sample_digits(small):
    x, lbl, xt, lblt = small
    r = train_minibatch(
        x,
        lbl,
        layers=[784, 64, 32, 10],
        activation="tanh",
        epochs=5,
        batch_size=32,
        lr=0.05,
        seed=0,
        test=(xt, lblt),
    )
    assert r.initial["train_error"] > 80 and r.final["train_error"] < 25 and r.final["test_error"] < 30
    assert r.config["sizes"] == [784, 64, 32, 10] and r.config["activation"] == "tanh"
    assert r.config["init"] == "glorot" and "hidden" not in r.config
    assert r.params.sizes == (784, 64, 32, 10)


def test_the_linear_schedule_decays_the_rate_by_one_minus_t_over_T(small):
    x, lbl, *_ = small
    r = train_full_batch(x, lbl, iterations=4, lr=0.2, lr_schedule="linear", seed=1)
    P = init_shallow(784, 64, 10, np.random.default_rng(1))
    for t in range(4):
        _main_kernel_step(P, x, lbl.astype(np.intp), 0.2 * (1 - t / 4) / x.shape[1])
    for name, value in P.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-5, atol=1e-6)
    assert r.config["lr_schedule"] == "linear"
    with pytest.raises(InputError, match="constant, linear"):
        train_minibatch(x, lbl, lr_schedule="cosine")


def test_a_non_finite_test_loss_stops_the_run_even_when_training_looks_finite(small, monkeypatch):
    import backproof.training as training

    x, lbl, xt, lblt = small
    xt, lblt = xt[:, :500], lblt[:500]  # a test set told apart from the training set by its size
    real = training._metrics
    calls = []

    def metrics(params, rows, labels):  # the test set's loss becomes infinite after the first record
        calls.append(rows.shape[0])
        out = real(params, rows, labels)
        return (np.inf, out[1]) if rows.shape[0] == xt.shape[1] and len(calls) > 2 else out

    monkeypatch.setattr(training, "_metrics", metrics)
    with pytest.raises(TrainingDivergedError, match="test-set loss became inf"):
        train_minibatch(x, lbl, epochs=2, batch_size=100, test=(xt, lblt))


def test_huge_learning_rates_never_end_with_a_non_finite_record(small):
    x, lbl, xt, lblt = small
    for lr in (1e5, 1e6):
        try:
            r = train_minibatch(x, lbl, epochs=1, batch_size=100, lr=lr, test=(xt, lblt))
        except TrainingDivergedError:
            continue
        json.dumps(r.to_dict(), allow_nan=False)


def test_to_dict_is_strict_json_with_numpy_numbers_in_the_settings(small):
    x, lbl, *_ = small
    r = train_minibatch(x, lbl, epochs=1, batch_size=np.int64(500), lr=np.float32(0.1), seed=np.int64(3))
    text = json.dumps(r.to_dict(), allow_nan=False)
    assert json.loads(text)["config"]["seed"] == 3


def test_a_network_too_large_for_memory_is_refused_before_any_allocation(small):
    x, lbl, *_ = small
    with pytest.raises(InputError, match=r"GiB of memory .*fewer hidden units"):
        train_minibatch(x, lbl, hidden=100_000_000)
    with pytest.raises(InputError, match="GiB"):
        train_full_batch(x, lbl, layers=[784, 200_000, 200_000, 10])


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"layers": [784, 10]}, "at least one hidden layer"),
        ({"layers": [100, 64, 10]}, "784"),
        ({"layers": [784, 64, 5]}, r"labels must lie in 0\.\.4"),
        ({"layers": [784, 0, 10]}, "layers"),
        ({"activation": "softplus"}, "unknown activation"),
        ({"init": "zeros"}, "unknown init"),
    ],
)
def test_bad_architectures_are_refused_before_any_work(small, kwargs, match):
    x, lbl, *_ = small
    with pytest.raises(InputError, match=match):
        train_minibatch(x, lbl, **kwargs)


def test_an_empty_test_set_is_refused_not_reported_as_nan(small):
    x, lbl, xt, _ = small
    with pytest.raises(InputError, match="test set is empty"):
        train_full_batch(x, lbl, iterations=1, test=(xt[:, :0], np.zeros(0, np.uint8)))


def test_given_params_may_have_any_number_of_outputs_above_every_label(small):
    x, lbl, *_ = small
    keep = lbl < 3
    p = init_network([784, 8, 3], "relu", seed=0)
    r = train_full_batch(x[:, keep], lbl[keep], iterations=2, params=p)
    assert r.params.sizes == (784, 8, 3)
    with pytest.raises(InputError, match=r"labels must lie in 0\.\.2, got values from 0 to 9"):
        train_full_batch(x, lbl, iterations=1, params=p)


@pytest.mark.parametrize("layout", [None, "CCC", "FFF", "FCF"])
def test_kernel_gives_the_textbook_step_in_every_memory_layout_on_both_blas_paths(one_call, layout):
    rng = np.random.default_rng(3)
    x = np.asfortranarray(rng.uniform(-1, 1, (784, 24)))  # a gathered batch's layout
    lbl = rng.integers(0, 10, 24)
    p = init_network([784, 32, 16, 10], "relu", seed=1, dtype=np.float64)
    q = p.copy()
    kernel = Kernel(p, 24, layout)
    for _ in range(2):
        la, wa = kernel.step(x, lbl, 0.05)
        lb, wb = _textbook_step(q, x, lbl, 0.05, fused=False)
        assert np.isclose(la, lb, rtol=1e-12) and wa == wb
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-9, atol=1e-12)
    wanted = kernel.layout
    assert [w.flags[f"{o}_CONTIGUOUS"] for w, o in zip(p.W, wanted)] == [True] * 3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("sizes", "batch", "cuts"),
    [([784, 64, 10], 100, ["inner", None]), ([784, 512, 256, 10], 64, ["rows", "inner", None])],
)
def test_kernel_gives_the_textbook_step_with_its_products_shared_between_threads(
    blas_path, dtype, sizes, batch, cuts
):
    rng = np.random.default_rng(9)
    x = np.asfortranarray(rng.uniform(0, 1, (784, batch)).astype(dtype))
    lbl = rng.integers(0, 10, batch)
    p = init_network(sizes, "relu", seed=2, dtype=dtype)
    q = p.copy()
    kernel = Kernel(p, batch)
    assert [c[0] for c in kernel.split[1:]] == cuts
    for _ in range(3):
        la, wa = kernel.step(x, lbl, 0.1 / batch)
        lb, wb = _textbook_step(q, x, lbl, 0.1 / batch, fused=False)
        assert np.isclose(la, lb, rtol=1e-5 if dtype == np.float32 else 1e-12) and wa == wb
    for calls in (kernel._fwd[1:], kernel._upd[1:]):
        blocks = [getattr(call, "blocks", 1) for call in calls]
        assert blocks == [2 if (cut and blas_path == "split") else 1 for cut in cuts]
    tol = 1e-5 if dtype == np.float32 else 1e-11
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=tol, atol=tol)


def test_kernel_split_shares_by_inputs_or_units_and_leaves_large_batches_to_blas():
    from backproof.kernel import kernel_split

    assert kernel_split([784, 64, 10], 100) == [("inner", "cols"), (None, None)]
    assert kernel_split([784, 512, 256, 10], 64) == [
        ("rows", "rows"), ("inner", "cols"), (None, None)
    ]  # fmt: skip
    assert kernel_split([784, 64, 10], 60000) == [(None, None), (None, None)]


def test_kernel_stores_weights_and_buffers_on_128_byte_boundaries():
    p = init_network([784, 64, 10], seed=0)
    kernel = Kernel(p, 100)
    x = np.asfortranarray(np.zeros((784, 100), np.float32))
    kernel.update(x, np.zeros(100, np.intp), 0.01)
    arrays = [*p.W, *kernel.h[1:], *kernel.delta[1:], *kernel.tmp[1:]]
    assert all(a.ctypes.data % 128 == 0 for a in arrays)


def test_kernel_layout_stores_a_layer_no_wider_than_the_batch_in_fortran_order():
    from backproof.kernel import kernel_layout

    assert kernel_layout([784, 64, 10], 100) == "FF"
    assert kernel_layout([784, 512, 256, 10], 64) == "CCF"
    assert Kernel(init_network([784, 64, 10], seed=0), 100).layout == "FF"


def test_kernel_refuses_a_layout_that_is_not_one_letter_c_or_f_per_layer():
    with pytest.raises(InputError, match="2 letters C or F"):
        Kernel(init_network([784, 64, 10], seed=0), 10, "CCC")


def test_kernel_updates_parameter_arrays_put_in_place_of_the_old_ones():
    rng = np.random.default_rng(4)
    x = np.asfortranarray(rng.uniform(-1, 1, (784, 8)).astype(np.float32))
    lbl = rng.integers(0, 10, 8)
    p = init_network([784, 16, 10], seed=0)
    kernel = Kernel(p, 8)
    kernel.update(x, lbl, 0.1)
    old = p.W2
    p.W2 = np.zeros((10, 16), np.float32)  # bound calls must follow the new array
    p.b1 = p.b1.copy()
    q = p.copy()
    kernel.update(x, lbl, 0.1)
    _textbook_step(q, x, lbl, 0.1, fused=True)
    assert p.W2 is not old and np.any(p.W2 != 0)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-5, atol=1e-6)


def test_kernel_refuses_read_only_parameters_with_the_fix_instead_of_writing_through_them():
    p = init_network([784, 8, 10], seed=0)
    p.b1 = np.zeros(8, np.float32)
    p.b1.flags.writeable = False
    x = np.asfortranarray(np.zeros((784, 4), np.float32))
    with pytest.raises(InputError, match=r"params.b1 is read-only.*params.copy\(\)"):
        Kernel(p, 4).update(x, np.zeros(4, np.intp), 0.1)


def test_kernel_relu_of_minus_infinity_is_zero_as_the_reference_says():
    rng = np.random.default_rng(6)
    x = np.asfortranarray(rng.uniform(-1, 1, (784, 6)))
    lbl = rng.integers(0, 10, 6)
    p = init_network([784, 8, 10], "relu", seed=0, dtype=np.float64)
    p.b1[0] = -np.inf  # a switched-off unit
    q = p.copy()
    la, wa = Kernel(p, 6).step(x, lbl, 0.1)
    lb, wb = _textbook_step(q, x, lbl, 0.1, fused=False)
    assert np.isfinite(la) and np.isclose(la, lb, rtol=1e-12) and wa == wb


def test_kernel_keeps_its_calls_for_a_new_view_of_the_same_memory_and_rebinds_for_other_memory():
    rng = np.random.default_rng(10)
    p = init_network([784, 16, 10], seed=0)
    q = p.copy()
    kernel = Kernel(p, 8)
    xb = rng.uniform(0, 1, (8, 784)).astype(np.float32)
    lbl = rng.integers(0, 10, 8)
    kernel.update(xb.T, lbl, 0.1)
    first = kernel._fwd[1]
    kernel.update(xb.T, lbl, 0.1)  # a fresh view object, the same memory
    assert kernel._fwd[1] is first
    other = xb[::-1].copy()
    kernel.update(other.T, lbl, 0.1)  # other memory: new calls, reading the new x
    assert kernel._fwd[1] is not first
    for batch in (xb, xb, other):
        _textbook_step(q, np.asfortranarray(batch.T), lbl, 0.1, fused=True)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.uint16, np.int32, np.intp])
def test_kernel_subtracts_at_the_label_whatever_the_labels_integer_type(dtype):
    rng = np.random.default_rng(12)
    x = np.asfortranarray(rng.uniform(0, 1, (784, 100)).astype(np.float32))
    lbl = rng.integers(0, 10, 100)
    p = init_network([784, 16, 10], seed=0)
    q = p.copy()
    Kernel(p, 100).update(x, lbl.astype(dtype), 0.01)  # uint8 label * 100 must not wrap
    _textbook_step(q, x, lbl, 0.01, fused=True)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_kernel_update_reports_a_step_whose_logits_are_not_finite(bad):
    rng = np.random.default_rng(13)
    x = np.asfortranarray(rng.uniform(0, 1, (784, 8)).astype(np.float32))
    lbl = rng.integers(0, 10, 8)
    p = init_network([784, 16, 10], seed=0)
    kernel = Kernel(p, 8)
    assert kernel.update(x, lbl, 0.01) is True
    # one column's logits all -inf, or one logit NaN or +inf: that column of delta_L is NaN
    p.b2 = np.full(10, bad, np.float32) if bad == -np.inf else p.b2
    if bad != -np.inf:
        x[0, 3] = bad
        p.W1[:, 0] = 1.0
    with np.errstate(invalid="ignore", over="ignore"):  # the training loops ignore them too
        assert kernel.update(x, lbl, 0.01) is False


def test_kernel_rebinds_for_a_view_with_the_same_start_but_other_strides():
    rng = np.random.default_rng(14)
    buf = rng.uniform(0, 1, (16, 784)).astype(np.float32)
    lbl = rng.integers(0, 10, 8)
    p = init_network([784, 16, 10], seed=0)
    q = p.copy()
    kernel = Kernel(p, 8)
    first, other = buf[:8].T, buf[::2].T  # same first element, rows 0..7 or every other row
    kernel.update(first, lbl, 0.1)
    kernel.update(other, lbl, 0.1)
    for batch in (first, other):
        _textbook_step(q, np.asfortranarray(batch), lbl, 0.1, fused=True)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(p, name), value, rtol=1e-5, atol=1e-6)


# ------------------------------------------------ wiring of the loops: on_record and BLAS's threads


def _synthetic(n, seed=0):
    """``n`` synthetic float32 images (784, n) and labels: runs that need no data set."""
    rng = np.random.default_rng(seed)
    return rng.uniform(-1, 1, (784, n)).astype(np.float32), rng.integers(0, 10, n)


LOOPS = [(train_full_batch, {"iterations": 4}), (train_minibatch, {"epochs": 2, "batch_size": 20})]


@pytest.mark.parametrize(("train", "kw"), LOOPS)
def test_on_record_is_told_each_record_as_the_history_keeps_it(train, kw):
    x, lbl = _synthetic(60)
    xt, lblt = _synthetic(15, seed=1)
    told = []
    r = train(x, lbl, seed=0, test=(xt, lblt), on_record=told.append, **kw)
    h = r.history
    assert len(told) == len(h.step) >= 3
    assert [t["step"] for t in told] == h.step and [t["epoch"] for t in told] == h.epoch
    assert [t["train_loss"] for t in told] == h.train_loss and [t["test_error"] for t in told] == h.test_error


@pytest.fixture
def two_settable_threads(monkeypatch):
    """A BLAS whose two threads can be set (recorded, not set): the loops then look at the load."""
    from backproof import _threads

    chosen = []
    monkeypatch.setattr(_threads._blas, "threads", lambda: 2)
    monkeypatch.setattr(_threads._blas, "can_set_threads", lambda: True)
    monkeypatch.setattr(_threads._blas, "set_threads", chosen.append)
    monkeypatch.setattr(_threads, "cores", lambda: 2)
    return chosen


@pytest.mark.parametrize(("train", "kw"), LOOPS)
def test_the_loops_choose_threads_from_the_load_when_fused_and_keep_them_otherwise(
    two_settable_threads, train, kw
):
    # small products: OpenBLAS runs them on one thread whatever its count, so the fused kernel's
    # results do not depend on the threads (Kernel.keeps_results) and the loop may adapt them;
    # the textbook chain's NumPy products are not known to, so that loop never looks
    x, lbl = _synthetic(60)
    x = x[:20]
    fused = train(x, lbl, params=init_network([20, 8, 10], seed=0), fused=True, **kw)
    assert len(fused.threads) >= 1 and all(len(look) == 3 and look[2] in (1, 2) for look in fused.threads)
    textbook = train(x, lbl, params=init_network([20, 8, 10], seed=0), fused=False, **kw)
    assert textbook.threads == []


def test_a_last_batch_whose_product_blas_may_thread_keeps_the_minibatch_loops_threads(two_settable_threads):
    # 41 samples in batches of 20 leave a last batch of 1. Its 600 x 600 product is too small to
    # cut into blocks but large enough for OpenBLAS to thread, so its last bits could depend on
    # the thread count: the loop must keep its threads, although the full batches alone would not
    from backproof import _blas

    rng = np.random.default_rng(0)
    x, lbl = rng.uniform(-1, 1, (600, 41)).astype(np.float32), rng.integers(0, 10, 41)
    p = init_network([600, 600, 10], seed=0)
    assert not Kernel(p.copy(), 1).keeps_results(x[:, :1])
    r = train_minibatch(x, lbl, params=p, epochs=1, batch_size=20, seed=0)
    assert r.threads == []
    if _blas.split_blocks() > 1:  # with blocks to cut them into, the batches of 20 alone would adapt
        assert Kernel(p.copy(), 20).keeps_results(x[:, :20])
