"""The training kernel's parts against the reference: in-place activations, one step, the loops.

Fast synthetic checks (no real digits), written against the mutants of ``tox -e mutation``
(issue 18) that the training tests on real digits let survive: every number the kernel and the
loops compute is tied to the reference functions or to a hand computation.
"""

import re
import time
import warnings

import numpy as np
import pytest

from backproof import InputError, TrainingDivergedError
from backproof.activations import ACTIVATIONS
from backproof.kernel import _INPLACE, Kernel, kernel_layout
from backproof.network import backprop, evaluate, init_network
from backproof.preprocess import one_hot
from backproof.training import train_full_batch, train_minibatch

GRID = [-1000.0, -20.0, -3.0, -1.0, -0.5, -1e-3, -1e-30, -0.0, 0.0, 1e-30, 1e-3, 0.5, 1.0, 3.0, 20.0, 1000.0]


@pytest.mark.parametrize("zeros", [False, True], ids=["scalar 0", "array of 0s"])
@pytest.mark.parametrize("order", ["C", "F"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_the_kernels_in_place_activation_and_slope_are_the_tables(name, dtype, order, zeros):
    f, jvp = ACTIVATIONS[name]
    forward_act, backward_act = _INPLACE[name]
    a = np.array(GRID, dtype).reshape(4, 4, order=order)
    e = np.asarray(np.random.default_rng(0).uniform(0.5, 2, a.shape), dtype, order=order)
    h, tmp = a.copy(order=order), np.empty_like(a, order=order)
    forward_act(h, tmp, np.zeros_like(a) if zeros else None)  # the kernel passes its array of 0s
    # absolute tolerance: the kernel's sigma' = h (1 - h) cancels where sigma(a) is nearly 1
    tol = {"rtol": 1e-6, "atol": 1e-7} if dtype == np.float32 else {"rtol": 1e-12, "atol": 1e-15}
    np.testing.assert_allclose(h, f(a), **tol)
    assert h.dtype == dtype
    delta = e.copy(order=order)
    backward_act(delta, h, tmp)  # from h = sigma(a) (and what the forward pass left in tmp)
    np.testing.assert_allclose(delta, jvp(a, e), **tol)


@pytest.mark.parametrize("zeros", [None, "array"])
def test_relu_in_place_against_an_array_of_zeros_gives_the_same_bits_at_inf_nan_and_signed_zeros(zeros):
    special = np.array([[-np.inf, np.inf, np.nan, -0.0], [0.0, -1e-45, 1e-45, -3.0]], np.float32)
    h, tmp = special.copy(), np.empty_like(special)
    _INPLACE["relu"][0](h, tmp, np.zeros_like(special) if zeros else None)
    want = np.maximum(special, np.float32(0))
    assert np.array_equal(h, want, equal_nan=True)
    assert np.array_equal(np.signbit(h), np.signbit(want))
    assert h[0, 0] == 0 and tmp.tolist() == [[0, 1, 0, 0], [0, 0, 1, 0]]


# ------------------------------------------------------------------------------------- the two loops


def _digits(n, seed):
    """``n`` synthetic images (784, n) in float64, as columns, and their labels."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, (784, n)), rng.integers(0, 10, n)


def _apply(p, x, labels, scale):
    """W <- W - scale * grad for every parameter, the gradient from the reference backprop."""
    nabla = backprop(p, x, one_hot(labels, p.sizes[-1], dtype=np.float64))
    for name, value in p.arrays().items():
        value -= scale * getattr(nabla, name)


def _metrics_of(p, train, test):
    return evaluate(p, *train), evaluate(p, *test)


def _assert_history(history, records):
    """``records``: (step, epoch, train metrics, test metrics) from the reference loop."""
    assert history.step == [r[0] for r in records]
    np.testing.assert_allclose(history.epoch, [r[1] for r in records], rtol=1e-15)
    for got, want in [
        (history.train_loss, [r[2][0] for r in records]),
        (history.train_error, [r[2][1] for r in records]),
        (history.test_loss, [r[3][0] for r in records]),
        (history.test_error, [r[3][1] for r in records]),
    ]:
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_full_batch_records_every_eval_every_iterations_and_ends_where_the_reference_loop_does():
    train, test = _digits(30, 1), _digits(20, 2)
    data = {"name": "synthetic digits"}
    sizes = [784, 12, 8, 10]
    start = time.perf_counter()
    r = train_full_batch(
        *train, iterations=5, lr=0.5, lr_schedule="linear", layers=sizes, activation="leaky_relu",
        init="glorot", seed=4, test=test, eval_every=2, data=data,
    )  # fmt: skip
    wall = time.perf_counter() - start
    # the reference: the same generator draws the parameters; metrics are recorded before the update
    p = init_network(sizes, "leaky_relu", np.random.default_rng(4), np.float64, init="glorot")
    records = []
    for t in range(5):
        if t in (0, 2, 4):
            records.append((t, float(t), *_metrics_of(p, train, test)))
        _apply(p, *train, 0.5 * (1 - t / 5) / 30)
    records.append((5, 5.0, *_metrics_of(p, train, test)))
    _assert_history(r.history, records)
    for name, value in p.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-9, atol=1e-12, err_msg=name)
    for summary, (_, _, tr, te) in [(r.initial, records[0]), (r.final, records[-1])]:
        assert list(summary) == ["train_loss", "train_error", "test_loss", "test_error"]
        np.testing.assert_allclose(list(summary.values()), [*tr, *te], rtol=1e-10)
    assert r.config == {
        "mode": "full", "iterations": 5, "eval_every": 2, "lr": 0.5, "lr_schedule": "linear",
        "seed": 4, "fused": True, "sizes": sizes, "activation": "leaky_relu", "init": "glorot",
        "n_train": 30, "dtype": "float64",
    }  # fmt: skip
    assert r.data == data
    assert 0 < r.seconds <= wall


def test_full_batch_of_zero_iterations_evaluates_only_and_without_a_test_set_records_none():
    x, lbl = _digits(30, 3)
    p = init_network([784, 8, 10], "sigmoid", seed=0, dtype=np.float64)
    r = train_full_batch(x, lbl, iterations=0, params=p)
    assert r.history.step == [0] and r.history.test_loss == [] and r.history.test_error == []
    loss, error = evaluate(p, x, lbl)
    assert r.initial == r.final == {"train_loss": pytest.approx(loss), "train_error": pytest.approx(error)}
    for name, value in p.arrays().items():
        np.testing.assert_array_equal(getattr(r.params, name), value)
    r = train_full_batch(x, lbl, iterations=3, params=p, lr=0.1)
    q = p.copy()
    for _ in range(3):
        _apply(q, x, lbl, 0.1 / 30)
    assert r.history.step == [0, 1, 2, 3] and "test_loss" not in r.final
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-9, atol=1e-12, err_msg=name)


def test_minibatch_walks_each_epochs_permutation_in_batches_and_records_every_eval_every_updates():
    train, test = _digits(25, 5), _digits(15, 6)
    data = {"name": "synthetic digits"}
    start = time.perf_counter()
    r = train_minibatch(
        *train, epochs=2, batch_size=10, lr=0.3, lr_schedule="linear", layers=[784, 12, 10],
        activation="tanh", init="he", seed=6, test=test, eval_every=2, data=data,
    )  # fmt: skip
    wall = time.perf_counter() - start
    # the reference: one generator draws the parameters, then one permutation per epoch; 3 batches
    # per epoch (10, 10 and the last 5, which uses its own size), T = 6 updates
    rng = np.random.default_rng(6)
    p = init_network([784, 12, 10], "tanh", rng, np.float64, init="he")
    x, lbl = train
    records = [(0, 0.0, *_metrics_of(p, train, test))]
    t = 0
    for _ in range(2):
        perm = rng.permutation(25)
        for k in (0, 10, 20):
            idx = perm[k : k + 10]
            _apply(p, x[:, idx], lbl[idx], 0.3 * (1 - t / 6) / len(idx))
            t += 1
            if t in (2, 4):
                records.append((t, t / 3, *_metrics_of(p, train, test)))
    records.append((6, 2.0, *_metrics_of(p, train, test)))
    _assert_history(r.history, records)
    for name, value in p.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-9, atol=1e-12, err_msg=name)
    for summary, (_, _, tr, te) in [(r.initial, records[0]), (r.final, records[-1])]:
        np.testing.assert_allclose(list(summary.values()), [*tr, *te], rtol=1e-10)
    assert r.config == {
        "mode": "minibatch", "epochs": 2, "batch_size": 10, "eval_every": 2, "lr": 0.3,
        "lr_schedule": "linear", "seed": 6, "fused": True, "sizes": [784, 12, 10],
        "activation": "tanh", "init": "he", "n_train": 25, "dtype": "float64", "hidden": 12,
    }  # fmt: skip
    assert r.data == data
    assert 0 < r.seconds <= wall


@pytest.mark.parametrize("mode", ["full", "minibatch"])
def test_the_progress_bar_counts_every_update_under_the_loops_name(mode, capsys):
    x, lbl = _digits(20, 7)
    if mode == "full":
        r = train_full_batch(x, lbl, iterations=5, hidden=4, progress=True)
        want = "full-batch: 100%"
    else:
        r = train_minibatch(x, lbl, epochs=2, batch_size=8, hidden=4, progress=True)  # 3 per epoch
        want = "minibatch: 100%"
        assert r.history.step == [0, 3, 6] and r.history.epoch == [0.0, 1.0, 2.0]
        assert r.config["eval_every"] == 3
    err = capsys.readouterr().err
    assert want in err and (" 5/5 " if mode == "full" else " 6/6 ") in err


def test_a_step_whose_loss_is_infinite_stops_full_batch_at_that_iteration_with_the_loss():
    x, _ = _digits(12, 8)
    p = init_network([784, 8, 10], seed=0, dtype=np.float64)
    p.b2[0] = -np.inf  # every sample is labelled 0, whose logit is -inf: each E_n is +inf
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and the loop says so without a NumPy warning
        with pytest.raises(TrainingDivergedError) as caught:
            train_full_batch(x, np.zeros(12, np.intp), iterations=3, params=p, lr=0.05)
    assert str(caught.value) == (
        "training diverged: the loss became inf at iteration 1 with learning rate 0.05; "
        "try a smaller learning rate (--lr)"
    )


@pytest.mark.parametrize(
    ("mode", "bad_update", "message"),
    [
        ("full", 2, "the loss became nan at iteration 4 with learning rate 0.05"),  # t = 0, 2 record
        ("minibatch", 5, "the loss became nan at update (epoch 2) 5 with learning rate 0.05"),
    ],
)
def test_an_update_that_leaves_b_L_non_finite_stops_the_run_at_that_update(
    monkeypatch, mode, bad_update, message
):
    # the kernel's update says whether b_L is still finite (tested in test_training.py); the
    # loops must stop at that update, counting from 1, with the epoch of a minibatch run
    calls = []
    real = Kernel.update

    def update(self, x, labels, scale):
        calls.append(1)
        return real(self, x, labels, scale) and len(calls) != bad_update

    monkeypatch.setattr(Kernel, "update", update)
    x, lbl = _digits(20, 9)
    with pytest.raises(TrainingDivergedError, match=re.escape(message)):
        if mode == "full":
            train_full_batch(x, lbl, iterations=6, hidden=4, eval_every=2, lr=0.05)
        else:
            train_minibatch(x, lbl, epochs=3, batch_size=8, hidden=4, lr=0.05)
    assert len(calls) == bad_update


@pytest.mark.parametrize("mode", ["full", "minibatch"])
def test_a_huge_learning_rate_stops_either_loop_with_the_divergence_error_and_no_numpy_warning(mode):
    x, lbl = _digits(20, 10)
    x = x.astype(np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TrainingDivergedError, match=r"learning rate 1e\+30"):
            if mode == "full":
                train_full_batch(x, lbl, iterations=20, hidden=8, eval_every=3, lr=1e30)
            else:
                train_minibatch(x, lbl, epochs=20, batch_size=4, hidden=8, lr=1e30)


def test_the_textbook_loop_runs_the_reference_chain_through_y_bit_for_bit():
    # fused=False: each step is forward, e = -d/y through softmax_jvp, backprop; nothing fused,
    # all in the data's float32 (the targets too)
    x, lbl = _digits(16, 11)
    x = x.astype(np.float32)
    p = init_network([784, 8, 10], "relu", seed=2)
    r = train_minibatch(x, lbl, epochs=1, batch_size=8, params=p, fused=False, seed=3, lr=0.2)
    perm = np.random.default_rng(3).permutation(16)
    q = p.copy()
    for k in (0, 8):
        idx = perm[k : k + 8]
        nabla = backprop(q, x[:, idx], one_hot(lbl[idx], 10), fused=False)
        for name, value in q.arrays().items():
            value -= np.float32(0.2 / 8) * getattr(nabla, name)
    assert r.config["fused"] is False
    for name, value in q.arrays().items():
        assert getattr(r.params, name).dtype == np.float32
        np.testing.assert_array_equal(getattr(r.params, name), value, err_msg=name)


@pytest.mark.parametrize(
    ("call", "kwargs", "message"),
    [
        ("full", {"iterations": -1}, "iterations must be at least 0, got -1"),
        ("full", {"eval_every": 0}, "eval_every must be at least 1, got 0"),
        ("minibatch", {"epochs": -1}, "epochs must be at least 0, got -1"),
        ("minibatch", {"batch_size": 0}, "batch_size must be at least 1, got 0"),
        ("minibatch", {"eval_every": 0, "batch_size": 5}, "eval_every must be at least 1, got 0"),
        ("minibatch", {"batch_size": 21}, "batch_size 21 is larger than the training set (20 samples)"),
    ],
)
def test_each_loops_settings_are_named_in_the_error(call, kwargs, message):
    x, lbl = _digits(20, 12)
    train = train_full_batch if call == "full" else train_minibatch
    with pytest.raises(InputError, match=f"^{re.escape(message)}$"):
        train(x, lbl, hidden=4, **kwargs)


def test_minibatch_of_zero_epochs_evaluates_only_and_a_batch_of_the_whole_set_is_full_batch():
    x, lbl = _digits(20, 13)
    p = init_network([784, 6, 10], seed=1, dtype=np.float64)
    r = train_minibatch(x, lbl, epochs=0, batch_size=20, params=p)
    assert r.initial == r.final and r.initial["train_loss"] == pytest.approx(evaluate(p, x, lbl)[0])
    for name, value in p.arrays().items():
        np.testing.assert_array_equal(getattr(r.params, name), value)
    r = train_minibatch(x, lbl, epochs=2, batch_size=20, params=p, lr=0.2)
    q = p.copy()
    for _ in range(2):
        _apply(q, x, lbl, 0.2 / 20)
    assert r.history.step == [0, 1, 2]
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(r.params, name), value, rtol=1e-9, atol=1e-12, err_msg=name)


@pytest.mark.parametrize(
    ("mode", "eval_every", "message"),
    [
        ("full", 10, "the test-set loss became inf at iteration 3 with learning rate 0.05"),
        ("full", 1, "the test-set loss became inf at iteration 1 with learning rate 0.05"),
        ("minibatch", 10, "the test-set loss became inf at update 6 with learning rate 0.05"),
        ("minibatch", 1, "the test-set loss became inf at update 1 with learning rate 0.05"),
    ],
)
def test_a_non_finite_test_loss_at_a_record_stops_the_run_there(monkeypatch, mode, eval_every, message):
    import backproof.training as training

    train, test = _digits(20, 14), _digits(7, 15)
    real, calls = training._metrics, []

    def metrics(params, rows, labels):  # the test set's loss is infinite from its second record on
        out = real(params, rows, labels)
        if rows.shape[0] == 7:
            calls.append(1)
            return (np.inf, out[1]) if len(calls) > 1 else out
        return out

    monkeypatch.setattr(training, "_metrics", metrics)
    with pytest.raises(TrainingDivergedError, match=f"^training diverged: {re.escape(message)};"):
        if mode == "full":  # 3 iterations: records at 0, then every eval_every and at the end
            train_full_batch(*train, test=test, iterations=3, eval_every=eval_every, hidden=4, lr=0.05)
        else:  # 6 updates: records at 0, then every eval_every and at the end
            train_minibatch(
                *train, test=test, epochs=2, batch_size=8, eval_every=eval_every, hidden=4, lr=0.05
            )
    assert len(calls) == 2  # the test set is evaluated at the records only


def test_a_minibatch_run_builds_one_kernel_per_batch_size_in_the_runs_layout(monkeypatch):
    import backproof.training as training

    built = []

    class Counted(Kernel):
        def __init__(self, params, batch, layout=None):
            built.append((batch, layout))
            super().__init__(params, batch, layout)

    monkeypatch.setattr(training, "Kernel", Counted)
    x, lbl = _digits(25, 16)
    r = train_minibatch(x, lbl, epochs=3, batch_size=10, layers=[784, 12, 10], lr=0.1)
    layout = kernel_layout([784, 12, 10], 10)
    assert built == [(10, layout), (5, layout)]  # the last, smaller batch shares the layout
    for W, order in zip(r.params.W, layout):
        assert W.flags[f"{order}_CONTIGUOUS"]


def test_kernel_step_sums_a_float32_batchs_loss_in_float64():
    # one sample's loss is 1e8, the 999 others' about 1.31: a float32 sum would lose them
    p = init_network([784, 4, 10], seed=0)
    p.W2[:] = 0
    p.b2[:] = [0.0, -1.0, -1e8] + [-1e30] * 7  # the logits of every sample
    x = np.asfortranarray(np.zeros((784, 1000), np.float32))
    lbl = np.ones(1000, np.intp)
    lbl[0] = 2
    a = p.b2[:, None]
    per_sample = np.log(np.exp(a - a.max()).sum(axis=0)) + a.max() - a[[2, 1], 0]  # float32
    loss, wrong = Kernel(p, 1000).step(x, lbl, 0.0)
    assert loss == pytest.approx(float(per_sample[0]) + 999 * float(per_sample[1]), rel=1e-10)
    assert wrong == 1000


def test_kernel_update_reports_an_update_that_overflows_b_L():
    # W_L = 0: nothing flows back, b_L alone takes the update and its label's entry overflows
    p = init_network([784, 4, 4, 10], seed=0)
    p.W3[:] = 0
    x = np.asfortranarray(np.zeros((784, 8), np.float32))
    with np.errstate(over="ignore"):
        assert Kernel(p, 8).update(x, np.zeros(8, np.intp), 1e38) is False
    assert p.b3[0] == np.inf and np.all(np.isfinite(p.b3[1:]))
    assert np.all(np.isfinite(p.b1)) and np.all(np.isfinite(p.b2))


def test_the_loops_default_to_the_courses_settings():
    x, lbl = _digits(100, 17)
    for r, settings in [
        (train_full_batch(x[:, :10], lbl[:10]), {"mode": "full", "iterations": 100, "eval_every": 1}),
        (train_minibatch(x, lbl), {"mode": "minibatch", "epochs": 5, "batch_size": 100, "eval_every": 1}),
    ]:
        n = r.config["n_train"]
        for key, value in settings.items():
            assert r.config[key] == value, key
        assert r.config["lr"] == 0.05 and r.config["lr_schedule"] == "constant" and r.config["seed"] == 0
        assert r.config["sizes"] == [784, 64, 10] and r.config["activation"] == "relu"
        assert r.config["init"] == "course" and r.config["fused"] is True
        p = init_network([784, 64, 10], "relu", np.random.default_rng(0), np.float64, init="course")
        np.testing.assert_allclose(r.initial["train_loss"], evaluate(p, x[:, :n], lbl[:n])[0], rtol=1e-10)


def test_the_loops_show_no_progress_bar_unless_asked(capsys):
    x, lbl = _digits(20, 18)
    train_full_batch(x, lbl, iterations=2, hidden=4)
    train_minibatch(x, lbl, epochs=1, batch_size=10, hidden=4)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("mode", ["full", "minibatch"])
def test_logits_further_apart_than_float32s_range_give_a_loss_of_0_without_a_numpy_warning(mode):
    # float32; every hidden unit is 1 and the logits start at 0. The first update at this rate
    # puts the label's logit at about 3.2e38 and the others at about -3.6e37: a_L - max(a_L)
    # overflows to -inf for them, which the loops expect (exp(-inf) = 0), so NumPy must not warn
    p = init_network([784, 8, 10], seed=0)
    p.W1[:], p.b1[:], p.W2[:], p.b2[:] = 0.0, 1.0, 0.0, 0.0
    x, lbl = np.zeros((784, 4), np.float32), np.zeros(4, np.intp)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        if mode == "full":
            r = train_full_batch(x, lbl, iterations=3, params=p, lr=4e37)
        else:
            r = train_minibatch(x, lbl, epochs=3, batch_size=4, params=p, lr=4e37)
    assert r.history.train_loss[0] == pytest.approx(np.log(10)) and r.history.train_loss[1:] == [0.0] * 3
    assert r.final["train_error"] == 0.0
