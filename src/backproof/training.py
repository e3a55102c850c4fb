r"""The two training loops of the course, for networks of any depth: full-batch and minibatch.

Both minimise the mean cross-entropy with the update

.. math:: W_l \leftarrow W_l - \frac{\gamma_t}{B} \nabla_{W_l}, \qquad
          \nabla_{W_l} = \sum_{n \in \text{batch}} \nabla_{W_l} E_n,

where :math:`B` is the batch size (all :math:`N` samples for full-batch) and
:math:`\gamma_t` the learning rate of update :math:`t = 0, \dots, T - 1` out of
:math:`T`. Two schedules (``lr_schedule``):

* ``"constant"``: :math:`\gamma_t = \gamma`;
* ``"linear"``: :math:`\gamma_t = \gamma\,(1 - t/T)`, a linear decay from :math:`\gamma`
  towards 0 (the last update uses :math:`\gamma/T`).

The arithmetic is that of :func:`backproof.network.backprop`, run by
:class:`~backproof.kernel.Kernel` (see :mod:`backproof.kernel`) with preallocated buffers and
one BLAS call per product, so that a step allocates almost nothing. Samples are kept
row-contiguous (``x`` is the transposed view of an ``(N, n_0)`` block), so a minibatch gather
is one contiguous copy per sample and ``x`` goes straight into sgemm. Where this departs from
the course's code it departs in memory layout and call count only; a test ties every step to
:func:`backproof.network.backprop`.

While a minibatch loop runs, BLAS uses as many threads as there are cores that other
processes leave free, looked at every quarter second (``backproof._threads``): one thread
beside a busy process, all of them on a quiet machine, and the count the loop started with
when it ends. A step shared between threads waits for its slowest thread, and on a busy
machine that thread waits for a core; so nobody has to set ``OPENBLAS_NUM_THREADS``. This
changes no result, not even in the last bit: the blocks each product is cut into stay the
same whatever the thread count, and a loop whose products BLAS would thread itself (the full
batch) keeps its thread count (:meth:`~backproof.kernel.Kernel.keeps_results`).

Both loops share one set-up (checks, memory estimate, initialisation), one kernel
per batch size, one recorder and one result; they differ only in what a batch is.
Every recorded metric is checked: a NaN or infinite loss, on the training or the
test set, stops the run with :class:`~backproof.errors.TrainingDivergedError`.

Non-goals: momentum, other optimisers, schedules beyond constant and linear,
early stopping.
"""

from __future__ import annotations

import math
import numbers
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from . import _blas
from ._checks import labels_array, positive_float, positive_int
from ._threads import AdaptiveThreads
from .errors import InputError, TrainingDivergedError
from .kernel import _INPLACE, Kernel, kernel_layout, kernel_split
from .network import Parameters, backprop, default_init, forward, init_network
from .preprocess import one_hot

__all__ = [
    "LR_SCHEDULES",
    "History",
    "TrainingResult",
    "train_full_batch",
    "train_minibatch",
]

LR_SCHEDULES = ("constant", "linear")
r"""The learning-rate schedules: :math:`\gamma_t = \gamma` or :math:`\gamma (1 - t/T)`."""

_EVAL_CHUNK = 10_000  # samples per forward pass when recording metrics: bounds the memory


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


def _jsonable(value):
    """``value`` with NumPy scalars and arrays turned into Python ones, tuples into lists."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass
class TrainingResult:
    r"""What a training run produced.

    Attributes
    ----------
    params : Parameters
        The trained parameters.
    history : History
    config : dict
        Mode, learning rate and schedule, ``sizes`` (the architecture), ``activation``,
        ``init``, seed, ...
    initial, final : dict
        ``train_loss``, ``train_error`` and, with a test set, ``test_loss``, ``test_error``.
    seconds : float
        Wall-clock time of the loop.
    data : dict or None
        The data description (:meth:`backproof.MNISTData.describe`), when known.
    threads : list
        ``(seconds into the loop, other processes' load in cores, BLAS threads chosen)`` at each
        look at the machine (``backproof._threads``); not part of :meth:`to_dict`.
    """

    params: Parameters
    history: History
    config: dict
    initial: dict
    final: dict
    seconds: float
    data: dict | None = None
    threads: list = field(default_factory=list)

    def to_dict(self) -> dict:
        """JSON-ready (plain Python numbers, every one finite): everything but the parameters."""
        return _jsonable(
            {
                "config": self.config,
                "data": self.data,
                "initial": self.initial,
                "final": self.final,
                "history": asdict(self.history),
                "seconds": self.seconds,
            }
        )


def _textbook_step(params: Parameters, x, labels, scale: float, fused: bool) -> tuple[float, int]:
    """The same step through the reference functions of :mod:`backproof.network`."""
    fw = forward(params, x)
    d = one_hot(labels, params.sizes[-1], dtype=params.dtype)
    aL = fw.a[-1].astype(np.float64)
    m = aL.max(axis=0)
    loss = float(np.sum(m + np.log(np.exp(aL - m).sum(axis=0)) - aL[labels, np.arange(len(labels))]))
    wrong = int(np.count_nonzero(np.argmax(fw.a[-1], axis=0) != labels))
    nabla = backprop(params, x, d, fused=fused)
    for name, value in params.arrays().items():
        value -= value.dtype.type(scale) * getattr(nabla, name)
    return loss, wrong


# ------------------------------------------------------------------------------------------- metrics


def _metrics(params: Parameters, rows: np.ndarray, lbl: np.ndarray) -> tuple[float, float]:
    """Mean loss and error (%) of ``params`` on samples ``rows`` (N, n_0); NaN once training diverged.

    The arithmetic of :func:`backproof.network.evaluate`, in chunks of samples (bounded
    memory) and without its input checks, which ``_prepare`` has already made and which
    would reject diverged parameters.
    """
    forward_act = _INPLACE[params.activation][0]
    L = params.L
    loss_sum, wrong = 0.0, 0
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(0, rows.shape[0], _EVAL_CHUNK):
            h = rows[k : k + _EVAL_CHUNK].T
            labels = lbl[k : k + _EVAL_CHUNK]
            for l in range(1, L + 1):
                h = params.W[l - 1] @ h
                h += params.b[l - 1][:, None]
                if l < L:
                    forward_act(h, np.empty_like(h))
            m = h.max(axis=0)
            lse = m + np.log(np.exp(h - m).sum(axis=0))
            loss_sum += float(np.sum(lse - h[labels, np.arange(labels.shape[0])], dtype=np.float64))
            wrong += int(np.count_nonzero(np.argmax(h, axis=0) != labels))
    return loss_sum / lbl.shape[0], 100.0 * wrong / lbl.shape[0]


# ------------------------------------------------------------------------------------------- set-up


def _prepare(x, labels, name: str, Ni: int | None = None, No: int = 10):
    """Check ``x`` (Ni, N) and ``labels`` (N,) in 0..No-1; return rows (N, Ni) C-contiguous and labels."""
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
    lbl = labels_array(f"{name} labels", labels, No)
    if lbl.shape[0] != x.shape[1]:
        raise InputError(f"{name}: {x.shape[1]} images but {lbl.shape[0]} labels")
    if lbl.shape[0] == 0:
        raise InputError(f"the {name} set is empty (0 images); pass at least one sample")
    rows = np.ascontiguousarray(x.T)  # a no-op for the layout load_mnist + normalize give
    return rows, lbl.astype(np.intp)


def _available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def estimate_bytes(sizes, batch: int, itemsize: int = 4) -> int:
    r"""Memory a training run needs beyond its data, in bytes (an estimate, from the sizes alone).

    Parameters in float64 while drawn, then the parameters, their gradients and a copy
    (``itemsize`` bytes each); per layer, three ``(n_l, batch)`` buffers in the kernel (four for
    a hidden layer), and up to three more as scratch where
    :func:`~backproof.kernel.kernel_split` cuts the forward product along its inputs; and the
    evaluation's ``(n_l, 10000)`` activations.
    """
    n = [int(v) for v in sizes]
    weights = sum((n[l - 1] + 1) * n[l] for l in range(1, len(n)))
    per_sample = sum(n[1:])
    scratch = sum(
        (_blas.MAX_INNER_BLOCKS - 1) * n[l]
        for l, (cut, _) in enumerate(kernel_split(n, batch), start=1)
        if cut == "inner"
    )
    return (
        8 * weights
        + 3 * itemsize * weights
        + itemsize * (3 * per_sample + sum(n[1:-1]) + scratch) * batch
        + 2 * itemsize * per_sample * _EVAL_CHUNK
    )


def _check_memory(sizes, batch: int, itemsize: int, what: str) -> None:
    need = estimate_bytes(sizes, batch, itemsize)
    have = _available_bytes()
    if have is not None and need > have:
        raise InputError(
            f"this run would need about {need / 2**30:,.1f} GiB of memory ({what}), more than the "
            f"{have / 2**30:,.1f} GiB available; use fewer hidden units or a smaller batch"
        )


def _sizes_from(layers, hidden, n_inputs: int) -> list[int]:
    if layers is None:
        return [n_inputs, positive_int("hidden", hidden), 10]
    try:
        sizes = [positive_int("layers", v) for v in layers]
    except TypeError:
        raise InputError(
            f"layers must be a list of sizes such as [784, 256, 128, 10], got {layers!r}"
        ) from None
    if len(sizes) < 3:
        raise InputError(f"layers needs at least one hidden layer, like [784, 64, 10]; got {sizes}")
    if sizes[0] != n_inputs:
        raise InputError(f"layers starts with {sizes[0]} inputs but the images have {n_inputs} pixels")
    return sizes


class _Run:
    """What both loops share: checked data and settings, parameters, kernels, schedule, records."""

    def __init__(
        self,
        x,
        labels,
        *,
        test,
        params,
        layers,
        hidden,
        activation,
        init,
        seed,
        lr,
        lr_schedule,
        batch,
        fused,
    ):
        self.lr = positive_float("lr", lr)
        if lr_schedule not in LR_SCHEDULES:
            raise InputError(f"unknown lr_schedule {lr_schedule!r}; choose one of {', '.join(LR_SCHEDULES)}")
        self.lr_schedule = lr_schedule
        self.fused = bool(fused)
        # the network's outputs: one per class, so every label must be below their number
        if params is not None:
            No = params.sizes[-1]
        elif layers is not None and isinstance(layers, (list, tuple)) and layers:
            No = positive_int("layers[-1]", layers[-1])
        else:
            No = 10
        Ni = 784 if params is None else params.sizes[0]
        self.rows, self.lbl = _prepare(x, labels, "training", Ni, No)
        self.N, n_inputs = self.rows.shape
        if params is None:
            sizes = _sizes_from(layers, hidden, n_inputs)
            batch = self.N if batch is None else min(batch, self.N)
            _check_memory(sizes, batch, self.rows.dtype.itemsize, f"layers {'-'.join(map(str, sizes))}")
        if seed is not None and (
            isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0
        ):
            raise InputError(f"seed must be a whole number at least 0, got {seed!r}")
        self.seed = seed
        self.rng = np.random.default_rng(seed)  # initialises params (when not given), then shuffles
        if params is None:
            from .activations import activation as _lookup

            _lookup(activation)
            self.init = default_init(sizes, activation) if init is None else init
            self.params = init_network(sizes, activation, self.rng, self.rows.dtype, init=self.init)
        else:
            if not isinstance(params, Parameters):
                raise InputError(f"params must be backproof.Parameters, got {type(params).__name__}")
            self.params = params.astype(self.rows.dtype)
            self.init = "given"
        self.test = None if test is None else _prepare(test[0], test[1], "test", n_inputs, No)
        self.kernels: dict[int, Kernel] = {}
        # one memory layout for every kernel of the run (the last, smaller batch's too)
        self.layout = kernel_layout(self.params.sizes, self.N if batch is None else min(batch, self.N))
        self.history = History()
        self.on_record: Callable[[dict], None] | None = None  # told of each record as it is made

    def rate(self, t: int, T: int) -> float:
        r""":math:`\gamma_t` of update ``t`` out of ``T``."""
        return self.lr if self.lr_schedule == "constant" else self.lr * (1.0 - t / T)

    def kernel(self, b: int) -> Kernel:
        """The run's kernel for batches of ``b`` (made on first use)."""
        return self.kernels.get(b) or self.kernels.setdefault(b, Kernel(self.params, b, self.layout))

    def step(self, x_cols, lbl, t: int, T: int, with_metrics: bool, unit: str):
        """Update on the batch ``x_cols`` (n_0, b); returns (summed loss, errors) when asked."""
        b = lbl.shape[0]
        scale = self.rate(t, T) / b
        if not self.fused:
            loss, wrong = _textbook_step(self.params, x_cols, lbl, scale, fused=False)
            finite = math.isfinite(loss)
        else:
            kernel = self.kernels.get(b) or self.kernel(b)
            if with_metrics:
                loss, wrong = kernel.step(x_cols, lbl, scale)
                finite = math.isfinite(loss)
            else:
                loss, wrong, finite = None, None, kernel.update(x_cols, lbl, scale)
        if not finite:
            raise TrainingDivergedError(t + 1, self.lr, float("nan") if loss is None else loss, unit=unit)
        return loss, wrong

    def metrics(self):
        """``(train, test)`` metrics of the current parameters on the whole sets."""
        train = _metrics(self.params, self.rows, self.lbl)
        return train, (None if self.test is None else _metrics(self.params, *self.test))

    def record(self, step, epoch, train, test, unit: str):
        """Add a record, after checking that every number in it is finite."""
        for where, values in (("training", train), ("test", test)):
            if values is not None and not all(math.isfinite(v) for v in values):
                error = TrainingDivergedError(step, self.lr, values[0], unit=unit)
                error.args = (str(error).replace("the loss", f"the {where}-set loss", 1),)
                raise error
        self.history.add(step, epoch, train, test)
        if self.on_record is not None:
            record = {"step": int(step), "epoch": float(epoch)}
            record.update(train_loss=train[0], train_error=train[1])
            if test is not None:
                record.update(test_loss=test[0], test_error=test[1])
            self.on_record(record)

    def result(self, settings: dict, initial, final, seconds: float, data, threads) -> TrainingResult:
        sizes = list(self.params.sizes)
        config = {
            **settings,
            "lr": self.lr,
            "lr_schedule": self.lr_schedule,
            "seed": self.seed,
            "fused": self.fused,
            "sizes": sizes,
            "activation": self.params.activation,
            "init": self.init,
            "n_train": self.N,
            "dtype": str(self.rows.dtype),
        }
        if len(sizes) == 3:
            config["hidden"] = sizes[1]
        return TrainingResult(
            self.params, self.history, config, _summary(*initial), _summary(*final), seconds, data, threads
        )


def _summary(train, test):
    out = {"train_loss": train[0], "train_error": train[1]}
    if test is not None:
        out.update(test_loss=test[0], test_error=test[1])
    return out


class _NoBar:
    """Stands in for a progress bar when none is shown (tqdm is then not even imported)."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def update(self, n: int = 1) -> None:
        return None


def _progress(total, enabled, desc):
    if not enabled:
        return _NoBar()
    import sys

    from tqdm.auto import tqdm

    # on a terminal the bar goes away when done; in a log its final state stays as the last line
    return tqdm(total=total, desc=desc, unit="it", leave=not sys.stderr.isatty())


_COMMON_DOC = r"""
    x : numpy.ndarray
        Normalised training images, ``(784, N)`` float32 (or float64 for exactness).
    labels : numpy.ndarray
        ``(N,)`` class indices.
    lr : float
        :math:`\gamma`.
    lr_schedule : str
        ``"constant"`` (:math:`\gamma_t = \gamma`) or ``"linear"``
        (:math:`\gamma_t = \gamma (1 - t/T)` for update :math:`t` of :math:`T`).
    layers : sequence of int, optional
        The architecture :math:`(n_0, \dots, n_L)`, e.g. ``[784, 256, 128, 10]``;
        by default ``[784, hidden, 10]``.
    hidden : int
        :math:`N_h` of the one hidden layer, used when neither ``layers`` nor ``params`` is given.
    activation : str
        The hidden activation: ``relu``, ``leaky_relu``, ``sigmoid`` or ``tanh``.
    init : str, optional
        ``"course"``, ``"he"`` or ``"glorot"`` (:func:`backproof.network.init_network`);
        by default the course's for one hidden ReLU layer, He or Glorot otherwise.
    seed : int
        Seeds the initialisation (and, for minibatch, the shuffling).
    params : Parameters, optional
        Start from these (copied) instead of a fresh initialisation.
    test : tuple, optional
        ``(images, labels)`` of a test set, evaluated at the same interval as training.
    fused : bool
        ``False`` runs the textbook chain through the reference functions (slow; for checking).
    progress : bool
        Show a progress bar.
    data : dict, optional
        Description of the data, stored in the result.
    on_record : callable, optional
        Called with each record as it is made (a dict: ``step``, ``epoch``, ``train_loss``,
        ``train_error`` and, with a test set, ``test_loss`` and ``test_error``); the command
        line prints a line per epoch with it.
"""


def train_full_batch(
    x: np.ndarray,
    labels: np.ndarray,
    *,
    iterations: int = 100,
    lr: float = 0.05,
    lr_schedule: str = "constant",
    layers=None,
    hidden: int = 64,
    activation: str = "relu",
    init: str | None = None,
    seed: int = 0,
    params: Parameters | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int = 1,
    fused: bool = True,
    progress: bool = False,
    data: dict | None = None,
    on_record: Callable[[dict], None] | None = None,
) -> TrainingResult:
    T = positive_int("iterations", iterations, allow_zero=True)
    eval_every = positive_int("eval_every", eval_every)
    run = _Run(
        x,
        labels,
        test=test,
        params=params,
        layers=layers,
        hidden=hidden,
        activation=activation,
        init=init,
        seed=seed,
        lr=lr,
        lr_schedule=lr_schedule,
        batch=None,
        fused=fused,
    )
    run.on_record = on_record
    N, x_cols = run.N, run.rows.T
    test_metrics = (lambda: _metrics(run.params, *run.test)) if run.test else (lambda: None)
    initial = None
    start = time.perf_counter()
    # BLAS threads the full batch's products itself, and their last bits depend on the
    # thread count: then the loop keeps the count it starts with (Kernel.keeps_results)
    adaptive = fused and run.kernel(N).keeps_results(x_cols)
    with (
        _progress(T, progress, "full-batch") as bar,
        np.errstate(over="ignore", invalid="ignore"),
        AdaptiveThreads(enabled=adaptive) as threads,
    ):
        for t in range(T):
            threads.tick()
            recording = t % eval_every == 0
            with threads.at_start():  # NumPy's products: their last bits depend on the thread count
                test_m = test_metrics() if recording else None  # before the update, as the training loss
            loss_sum, wrong = run.step(x_cols, run.lbl, t, T, recording, "iteration")
            if recording:
                train = (loss_sum / N, 100.0 * wrong / N)
                run.record(t, t, train, test_m, "iteration")
                initial = initial or (train, test_m)
            bar.update(1)
    seconds = time.perf_counter() - start
    final = run.metrics()
    run.record(T, T, final[0], final[1], "iteration")
    settings = {"mode": "full", "iterations": T, "eval_every": eval_every}
    return run.result(settings, initial or final, final, seconds, data, threads.history)


train_full_batch.__doc__ = (
    r"""Full-batch gradient descent (the course's first loop), for any depth.

    Each iteration :math:`t` computes the gradient summed over all :math:`N` training
    samples and applies :math:`W_l \leftarrow W_l - (\gamma_t/N)\nabla_{W_l}`.

    Parameters
    ----------
    iterations : int
        :math:`T`, the number of updates (0 allowed: evaluate only).
    eval_every : int
        Record every this many iterations (and always the first and last)."""
    + _COMMON_DOC
    + r"""
    Returns
    -------
    TrainingResult

    Raises
    ------
    InputError
        Bad data or settings, or a network too large for the memory available (before any work).
    TrainingDivergedError
        A recorded loss, or a batch's logits, stopped being finite.
    """
)


def train_minibatch(
    x: np.ndarray,
    labels: np.ndarray,
    *,
    epochs: int = 5,
    batch_size: int = 100,
    lr: float = 0.05,
    lr_schedule: str = "constant",
    layers=None,
    hidden: int = 64,
    activation: str = "relu",
    init: str | None = None,
    seed: int = 0,
    params: Parameters | None = None,
    test: tuple[np.ndarray, np.ndarray] | None = None,
    eval_every: int | None = None,
    fused: bool = True,
    progress: bool = False,
    data: dict | None = None,
    on_record: Callable[[dict], None] | None = None,
) -> TrainingResult:
    n_epochs = positive_int("epochs", epochs, allow_zero=True)
    B = positive_int("batch_size", batch_size)
    run = _Run(
        x,
        labels,
        test=test,
        params=params,
        layers=layers,
        hidden=hidden,
        activation=activation,
        init=init,
        seed=seed,
        lr=lr,
        lr_schedule=lr_schedule,
        batch=B,
        fused=fused,
    )
    run.on_record = on_record
    N, n_inputs = run.rows.shape
    if B > N:
        raise InputError(f"batch_size {B} is larger than the training set ({N} samples)")
    per_epoch = -(-N // B)
    T = n_epochs * per_epoch
    eval_every = per_epoch if eval_every is None else positive_int("eval_every", eval_every)

    def record(step):
        with threads.at_start():  # NumPy's products: their last bits depend on the thread count
            metrics = run.metrics()
        run.record(step, step / per_epoch, metrics[0], metrics[1], "update")
        return metrics

    threads = AdaptiveThreads()  # not yet entered: record(0) runs with the threads BLAS has
    initial = record(0)
    xb = np.empty((B, n_inputs), run.rows.dtype)
    # x of a full batch and of the last, smaller one: the same views every update, so the
    # kernels' BLAS calls stay bound to them
    x_cols = {B: xb.T, N % B: xb[: N % B].T}
    # BLAS threads from the load, unless that could change the last bits (Kernel.keeps_results)
    threads.enabled = fused and all(run.kernel(b).keeps_results(x_cols[b]) for b in {B, N % B} - {0})
    start = time.perf_counter()
    t = 0
    with (
        _progress(T, progress, "minibatch") as bar,
        np.errstate(over="ignore", invalid="ignore"),
        threads,
    ):
        for epoch in range(n_epochs):
            perm = run.rng.permutation(N)
            labels = run.lbl[perm]
            unit = f"update (epoch {epoch + 1})"
            for k in range(0, N, B):
                idx = perm[k : k + B]
                x = x_cols[idx.shape[0]]
                # mode="clip": a permutation's indices are in range, and "raise" copies via a buffer
                run.rows.take(idx, axis=0, out=x.T, mode="clip")
                threads.tick()  # BLAS threads: as many as the other processes leave cores free
                run.step(x, labels[k : k + B], t, T, False, unit)
                t += 1
                if t % eval_every == 0 and t != T:
                    record(t)
                bar.update(1)
    seconds = time.perf_counter() - start
    final = record(t)
    settings = {"mode": "minibatch", "epochs": n_epochs, "batch_size": B, "eval_every": eval_every}
    return run.result(settings, initial, final, seconds, data, threads.history)


train_minibatch.__doc__ = (
    r"""Minibatch stochastic gradient descent (the course's second loop), for any depth.

    Each epoch draws one permutation of the training set from the seeded generator
    and walks through it in batches of :math:`B`; update :math:`t` applies
    :math:`W_l \leftarrow W_l - (\gamma_t/B)\nabla_{W_l}` with the gradient summed over
    the batch (a last, smaller batch uses its own size).

    Parameters
    ----------
    epochs : int
        Passes over the training set (0 allowed: evaluate only).
    batch_size : int
        :math:`B`.
    eval_every : int, optional
        Record the metrics on the whole training (and test) set every this many
        updates; by default once per epoch. Each record costs a forward pass over the data."""
    + _COMMON_DOC
    + r"""
    Returns
    -------
    TrainingResult

    Raises
    ------
    InputError
        Bad data or settings, or a network too large for the memory available (before any work).
    TrainingDivergedError
        A recorded loss, or a batch's logits, stopped being finite.
    """
)
