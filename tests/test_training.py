"""The two training loops on a small set of real digits (the offline sample)."""

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
from backproof.training import Kernel, _textbook_step


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
    kw = {"iterations": 20} if train is train_full_batch else {"epochs": 2}
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
