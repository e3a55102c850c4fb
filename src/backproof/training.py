r"""The two training loops of the course: full-batch gradient descent and minibatch SGD.

Both minimise the mean cross-entropy with the update

.. math:: W \leftarrow W - \frac{\gamma}{B} \nabla_W, \qquad
          \nabla_W = \sum_{n \in \text{batch}} \nabla_W E_n,

where :math:`B` is the batch size (all :math:`N` samples for full-batch). The
arithmetic is that of :func:`backproof.network.backprop`, run by :class:`Kernel`
with preallocated buffers, ``out=`` arguments and :math:`\gamma/B` folded into
:math:`\delta_2`, so that a step allocates almost nothing. Samples are kept
row-contiguous (``x`` is the transposed view of an ``(N, Ni)`` block), so a
minibatch gather is a contiguous copy and ``x`` goes straight into sgemm.

Each loop records the loss and the misclassification on the training set (and
on the test set when given) at a chosen interval, stops with
:class:`~backproof.errors.TrainingDivergedError` when the loss stops being
finite, and returns a :class:`TrainingResult` that names its data and settings.

Non-goals: momentum, other optimisers, learning-rate schedules, early stopping.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field

import numpy as np

from ._checks import labels_array, positive_float, positive_int
from .errors import InputError, TrainingDivergedError
from .network import Parameters, backprop, init_shallow
from .preprocess import one_hot

__all__ = ["History", "Kernel", "TrainingResult", "train_full_batch", "train_minibatch"]


@dataclass
class History:
    r"""Metrics recorded during training; losses are means, errors in percent."""

    step: list[int] = field(default_factory=list)
    epoch: list[float] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_error: list[float] = field(default_factory=list)
    test_loss: list[float] = field(default_factory=list)
    test_error: list[float] = field(default_factory=list)

    def add(self, step, epoch, train, test) -> None:
        self.step.append(int(step))
        self.epoch.append(float(epoch))
        self.train_loss.append(float(train[0]))
        self.train_error.append(float(train[1]))
        if test is not None:
            self.test_loss.append(float(test[0]))
            self.test_error.append(float(test[1]))


@dataclass
class TrainingResult:
    r"""What a training run produced.

    Attributes
    ----------
    params : Parameters
        The trained parameters.
    history : History
    config : dict
        Mode, learning rate, sizes, seed, ...
    initial, final : dict
        ``train_loss``, ``train_error`` and, with a test set, ``test_loss``, ``test_error``.
    seconds : float
        Wall-clock time of the loop.
    data : dict or None
        The data description (:meth:`backproof.MNISTData.describe`), when known.
    """

    params: Parameters
    history: History
    config: dict
    initial: dict
    final: dict
    seconds: float
    data: dict | None = None

    def to_dict(self) -> dict:
        """JSON-ready: everything but the parameters."""
        return {
            "config": self.config,
            "data": self.data,
            "initial": self.initial,
            "final": self.final,
            "history": asdict(self.history),
            "seconds": self.seconds,
        }


class Kernel:
    r"""One gradient step of the shallow network for batches of a fixed size, with no allocation.

    ``step(x, labels, scale)`` runs the forward pass, returns the batch's summed
    loss and number of errors *before* the update, and applies
    :math:`W \leftarrow W - \text{scale}\cdot\nabla_W` in place, with the fused
    :math:`\delta_2 = y - d` (:math:`d` given as labels).

    Parameters
    ----------
    params : Parameters
        Updated in place.
    batch : int
        The number of columns of every ``x`` given to :meth:`step`.
    """

    def __init__(self, params: Parameters, batch: int) -> None:
        self.params = params
        Ni, Nh, No = params.shape
        dt = params.W1.dtype
        self.a1 = np.empty((Nh, batch), dt)
        self.mask = np.empty((Nh, batch), bool)
        self.h = np.empty((Nh, batch), dt)
        self.a2 = np.empty((No, batch), dt)
        self.y = np.empty((No, batch), dt)
        self.m = np.empty(batch, dt)
        self.s = np.empty(batch, dt)
        self.delta1 = np.empty((Nh, batch), dt)
        self.nabla = Parameters(
            np.empty((Nh, Ni), dt), np.empty(Nh, dt), np.empty((No, Nh), dt), np.empty(No, dt)
        )
        self.cols = np.arange(batch)

    def step(self, x: np.ndarray, labels: np.ndarray, scale: float) -> tuple[float, int]:
        P, g = self.params, self.nabla
        a1, h, a2, y, m, s = self.a1, self.h, self.a2, self.y, self.m, self.s
        # forward: a1 = W1 x + b1, h = relu(a1), a2 = W2 h + b2
        np.matmul(P.W1, x, out=a1)
        a1 += P.b1[:, None]
        np.maximum(a1, 0, out=h)
        np.matmul(P.W2, h, out=a2)
        a2 += P.b2[:, None]
        # metrics from the logits: E_n = m + log(sum exp(a2 - m)) - a2[label]
        wrong = int(np.count_nonzero(np.argmax(a2, axis=0) != labels))
        np.max(a2, axis=0, out=m)
        np.subtract(a2, m, out=y)
        np.exp(y, out=y)
        np.sum(y, axis=0, out=s)
        picked = a2[labels, self.cols]
        loss = float(np.sum(np.log(s) + m - picked, dtype=np.float64))
        # y = softmax(a2); delta2 = (y - d) * scale, in the buffer y
        y /= s
        y[labels, self.cols] -= 1
        y *= y.dtype.type(scale)
        delta2 = y
        np.matmul(delta2, h.T, out=g.W2)
        np.sum(delta2, axis=1, out=g.b2)
        np.matmul(P.W2.T, delta2, out=self.delta1)
        np.greater(a1, 0, out=self.mask)
        np.multiply(self.delta1, self.mask, out=self.delta1)
        np.matmul(self.delta1, x.T, out=g.W1)
        np.sum(self.delta1, axis=1, out=g.b1)
        P.W1 -= g.W1
        P.b1 -= g.b1
        P.W2 -= g.W2
        P.b2 -= g.b2
        return loss, wrong


def _textbook_step(params: Parameters, x, labels, scale: float, fused: bool) -> tuple[float, int]:
    """The same step through the reference functions of :mod:`backproof.network`."""
    from .network import forward

    fw = forward(params, x)
    d = one_hot(labels, params.shape[2], dtype=params.W1.dtype)
    a2 = fw.a2.astype(np.float64)
    m = a2.max(axis=0)
    loss = float(np.sum(m + np.log(np.exp(a2 - m).sum(axis=0)) - a2[labels, np.arange(len(labels))]))
    wrong = int(np.count_nonzero(np.argmax(fw.a2, axis=0) != labels))
    nabla = backprop(params, x, d, fused=fused)
    for name, value in params.arrays().items():
        value -= value.dtype.type(scale) * getattr(nabla, name)
    return loss, wrong


def _prepare(x, labels, name: str, Ni: int | None = None):
    """Check ``x`` (Ni, N) and ``labels`` (N,); return rows (N, Ni) C-contiguous float32/64 and labels."""
    x = np.asarray(x)
    if x.dtype == np.uint8:
        raise InputError(f"{name} images are raw uint8; pass backproof.normalize(images) instead")
    if x.ndim != 2 or (Ni is not None and x.shape[0] != Ni):
        want = f"({Ni}, N)" if Ni else "(Ni, N)"
        hint = (
            "; it looks transposed: pass x.T (columns are samples)"
            if (x.ndim == 2 and Ni is not None and x.shape[1] == Ni)
            else ""
        )
        raise InputError(f"{name} images must have shape {want}, got {x.shape}{hint}")
    if x.dtype.kind != "f":
        raise InputError(f"{name} images must be floating point, got {x.dtype}")
    if not np.all(np.isfinite(x)):
        raise InputError(f"{name} images contain NaN or infinite values")
    lbl = labels_array(f"{name} labels", labels)
    if lbl.shape[0] != x.shape[1]:
        raise InputError(f"{name}: {x.shape[1]} images but {lbl.shape[0]} labels")
    rows = np.ascontiguousarray(x.T)  # a no-op for the layout load_mnist + normalize give
    return rows, lbl.astype(np.intp)


def _setup(x, labels, test, params, hidden, seed, lr):
    lr = positive_float("lr", lr)
    rows, lbl = _prepare(x, labels, "training", 784 if params is None else params.shape[0])
    if lbl.shape[0] == 0:
        raise InputError("the training set is empty")
    rng = np.random.default_rng(seed)  # initialises params (when not given), then shuffles
    if params is None:
        params = init_shallow(rows.shape[1], positive_int("hidden", hidden), 10, rng, dtype=rows.dtype)
    else:
        params = params.astype(rows.dtype)
        if params.shape[0] != rows.shape[1]:
            raise InputError(f"params expect {params.shape[0]} inputs, images have {rows.shape[1]}")
    test_data = None if test is None else _prepare(test[0], test[1], "test", rows.shape[1])
    return lr, rows, lbl, params, rng, test_data


def _metrics(params, rows, lbl):
    """Mean loss and error (%) of ``params`` on samples ``rows`` (N, Ni); NaN once training diverged.

    The same arithmetic as :func:`backproof.network.evaluate`, without its input checks,
    which ``_prepare`` has already made and which would reject diverged parameters.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        a1 = params.W1 @ rows.T
        a1 += params.b1[:, None]
        np.maximum(a1, 0, out=a1)
        a2 = params.W2 @ a1
        a2 += params.b2[:, None]
        m = a2.max(axis=0)
        lse = m + np.log(np.exp(a2 - m).sum(axis=0))
        loss = float(np.sum(lse - a2[lbl, np.arange(lbl.shape[0])], dtype=np.float64) / lbl.shape[0])
    err = 100.0 * float(np.mean(np.argmax(a2, axis=0) != lbl))
    return loss, err


def _summary(train, test):
    out = {"train_loss": train[0], "train_error": train[1]}
    if test is not None:
        out.update(test_loss=test[0], test_error=test[1])
    return out


def _result(params, history, settings, eval_every, rows, initial, final, seconds, data):
    config = {
        **settings,
        "hidden": params.shape[1],
        "eval_every": eval_every,
        "n_train": rows.shape[0],
        "dtype": str(rows.dtype),
    }
    return TrainingResult(params, history, config, _summary(*initial), _summary(*final), seconds, data)


def _progress(total, enabled, desc):
    from tqdm.auto import tqdm

    return tqdm(total=total, disable=not enabled, desc=desc, unit="it", leave=False)


def train_full_batch(
    x: np.ndarray,
    labels: np.ndarray,
    *,
    iterations: int = 100,
    lr: float = 0.05,
    hidden: int = 64,
    seed: int = 0,
    params: Parameters | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int = 1,
    fused: bool = True,
    progress: bool = False,
    data: dict | None = None,
) -> TrainingResult:
    r"""Full-batch gradient descent (the course's first loop).

    Each iteration computes the gradient summed over all :math:`N` training
    samples and applies :math:`W \leftarrow W - (\gamma/N)\nabla_W`.

    Parameters
    ----------
    x : numpy.ndarray
        Normalised training images, ``(784, N)`` float32 (or float64 for exactness).
    labels : numpy.ndarray
        ``(N,)`` class indices.
    iterations : int
        :math:`T`, the number of updates (0 allowed: evaluate only).
    lr : float
        :math:`\gamma`.
    hidden : int
        :math:`N_h`, used when ``params`` is not given.
    seed : int
        Seeds the initialisation.
    params : Parameters, optional
        Start from these (copied) instead of a fresh initialisation.
    test : tuple, optional
        ``(images, labels)`` of a test set, evaluated at the same interval as training.
    eval_every : int
        Record every this many iterations (and always the first and last).
    fused : bool
        ``False`` runs the textbook chain (slow; for checking).
    progress : bool
        Show a progress bar.
    data : dict, optional
        Description of the data, stored in the result.

    Returns
    -------
    TrainingResult
    """
    T = positive_int("iterations", iterations, allow_zero=True)
    eval_every = positive_int("eval_every", eval_every)
    lr, rows, lbl, params, _, test_data = _setup(x, labels, test, params, hidden, seed, lr)
    N = rows.shape[0]
    x_cols = rows.T
    kernel = Kernel(params, N) if fused else None
    scale = lr / N
    history = History()
    test_metrics = (lambda: _metrics(params, *test_data)) if test_data else (lambda: None)
    initial_train = initial_test = None
    start = time.perf_counter()
    with _progress(T, progress, "full-batch") as bar, np.errstate(over="ignore", invalid="ignore"):
        for t in range(T):
            test_m = test_metrics() if t % eval_every == 0 else None  # before the update
            if fused:
                loss_sum, wrong = kernel.step(x_cols, lbl, scale)
            else:
                loss_sum, wrong = _textbook_step(params, x_cols, lbl, scale, fused=False)
            if not np.isfinite(loss_sum):
                raise TrainingDivergedError(t, lr, loss_sum)
            if t % eval_every == 0:
                train = (loss_sum / N, 100.0 * wrong / N)
                history.add(t, t, train, test_m)
                if t == 0:
                    initial_train, initial_test = train, test_m
            bar.update(1)
    seconds = time.perf_counter() - start
    final_train = _metrics(params, rows, lbl)
    if not np.isfinite(final_train[0]):
        raise TrainingDivergedError(T, lr, final_train[0])
    final_test = test_metrics()
    history.add(T, T, final_train, final_test)
    if initial_train is None:
        initial_train, initial_test = final_train, final_test
    settings = {"mode": "full", "iterations": T, "lr": lr, "seed": seed, "fused": fused}
    return _result(
        params,
        history,
        settings,
        eval_every,
        rows,
        (initial_train, initial_test),
        (final_train, final_test),
        seconds,
        data,
    )


def train_minibatch(
    x: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 5,
    batch_size: int = 100,
    lr: float = 0.05,
    hidden: int = 64,
    seed: int = 0,
    params: Parameters | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int | None = None,
    fused: bool = True,
    progress: bool = False,
    data: dict | None = None,
) -> TrainingResult:
    r"""Minibatch stochastic gradient descent (the course's second loop).

    Each epoch draws one permutation of the training set from the seeded
    generator and walks through it in batches of :math:`B`; each batch applies
    :math:`W \leftarrow W - (\gamma/B)\nabla_W` with the gradient summed over the
    batch (a last, smaller batch uses its own size).

    Parameters
    ----------
    x, labels, lr, hidden, seed, params, test, fused, progress, data
        As for :func:`train_full_batch`.
    epochs : int
        Passes over the training set (0 allowed: evaluate only).
    batch_size : int
        :math:`B`.
    eval_every : int, optional
        Record the metrics on the whole training (and test) set every this many
        updates; by default once per epoch. Each record costs a forward pass
        over the data.

    Returns
    -------
    TrainingResult
    """
    E = positive_int("epochs", epochs, allow_zero=True)
    B = positive_int("batch_size", batch_size)
    lr, rows, lbl, params, rng, test_data = _setup(x, labels, test, params, hidden, seed, lr)
    N, Ni = rows.shape
    if B > N:
        raise InputError(f"batch_size {B} is larger than the training set ({N} samples)")
    per_epoch = -(-N // B)
    eval_every = per_epoch if eval_every is None else positive_int("eval_every", eval_every)
    history = History()
    test_metrics = (lambda: _metrics(params, *test_data)) if test_data else (lambda: None)

    def record(step):
        train = _metrics(params, rows, lbl)
        test_m = test_metrics()
        history.add(step, step / per_epoch, train, test_m)
        return train, test_m

    initial_train, initial_test = record(0)
    kernels: dict[int, Kernel] = {}
    xb = np.empty((B, Ni), rows.dtype)
    start = time.perf_counter()
    step = 0
    with _progress(E * per_epoch, progress, "minibatch") as bar, np.errstate(over="ignore", invalid="ignore"):
        for epoch in range(E):
            perm = rng.permutation(N)
            for k in range(0, N, B):
                idx = perm[k : k + B]
                b = idx.shape[0]
                batch = xb[:b]
                np.take(rows, idx, axis=0, out=batch)
                batch_lbl = lbl[idx]
                if fused:
                    kernel = kernels.get(b) or kernels.setdefault(b, Kernel(params, b))
                    loss_sum, _ = kernel.step(batch.T, batch_lbl, lr / b)
                else:
                    loss_sum, _ = _textbook_step(params, batch.T, batch_lbl, lr / b, fused=False)
                step += 1
                if not np.isfinite(loss_sum):
                    raise TrainingDivergedError(step, lr, loss_sum, unit=f"update (epoch {epoch + 1})")
                if step % eval_every == 0 and step != E * per_epoch:
                    record(step)
                bar.update(1)
    seconds = time.perf_counter() - start
    final_train, final_test = record(step)
    if not np.isfinite(final_train[0]):
        raise TrainingDivergedError(step, lr, final_train[0], unit="update")
    settings = {"mode": "minibatch", "epochs": E, "batch_size": B, "lr": lr, "seed": seed, "fused": fused}
    return _result(
        params,
        history,
        settings,
        eval_every,
        rows,
        (initial_train, initial_test),
        (final_train, final_test),
        seconds,
        data,
    )
