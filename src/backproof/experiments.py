r"""The named training runs of the "Going deeper" chapter, in one place.

The chapter calls :func:`activation_runs` and :func:`deep_run`; each trains on the data it
is given and returns :class:`backproof.TrainingResult` objects. The settings are the
module's constants, so that the chapter, its downloaded notebook and the slow test
(``tests/test_deeper_results.py``) use the same ones.

Every run can be kept in a *run cache*: a folder named by ``$BACKPROOF_RUN_CACHE`` (the site's
build sets it), where a run is stored under a digest of everything that decides its result:
its settings, the data's bytes, the training code's source and NumPy's version. A run whose
digest is there is read back instead of trained again; without the variable nothing is
cached. The result read back is the one that run produced, ``seconds`` included.

Non-goals: hyper-parameter search; runs that no page or test uses; a cache shared between
machines (a digest does not cover the BLAS library, which changes the last bits).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import pickle
from pathlib import Path

import numpy as np

import backproof as bp

ACTIVATION_RUN = {"layers": [784, 64, 10], "epochs": 5, "batch_size": 100, "lr": 0.05, "seed": 0}
"""The course's network and minibatch run, with each activation (5 epochs: the course's run)."""

DEEP_RUN = {
    "layers": [784, 512, 256, 10],
    "activation": "relu",
    "epochs": 20,
    "batch_size": 64,
    "lr": 0.1,
    "lr_schedule": "linear",
    "seed": 0,
}
"""The deeper network: test error at most 2 % on full MNIST (the slow test checks it)."""


VALIDATION = 10_000
"""Training images held out for validation by :func:`deep_run` with ``validation=True``: the
last 10,000 of the 60,000 (training on the first 50,000); a sixth of a smaller set."""

# the modules whose code decides a training run's numbers (the proofs, the checker and the CLI do not)
_TRAINING_SOURCES = (
    "experiments.py", "training.py", "kernel.py", "network.py", "activations.py", "softmax.py", "relu.py",
    "loss.py", "preprocess.py", "_blas.py",
)  # fmt: skip


def run_digest(data, settings: dict) -> str:
    """SHA-256 naming a run: its settings, the data's bytes, the training code and NumPy's version."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for array in (data.train_images, data.train_labels, data.test_images, data.test_labels):
        h.update(np.ascontiguousarray(array).data)
    root = Path(bp.__file__).parent
    for name in _TRAINING_SOURCES:
        path = root / name
        if path.is_file():
            h.update(name.encode() + path.read_bytes())
    h.update(np.__version__.encode())
    return h.hexdigest()


def _cached(data, settings: dict, train):
    folder = os.environ.get("BACKPROOF_RUN_CACHE")
    if not folder:
        return train()
    path = Path(folder) / f"{run_digest(data, settings)[:32]}.pickle"
    if path.is_file():
        with path.open("rb") as source:
            stored = pickle.load(source)  # written below by this function, in the builder's own folder
        W, b, activation = stored.pop("params")
        return bp.TrainingResult(params=bp.Parameters(W=W, b=b, activation=activation), **stored)
    result = train()
    stored = {f.name: getattr(result, f.name) for f in dataclasses.fields(result) if f.name != "params"}
    stored["params"] = (list(result.params.W), list(result.params.b), result.params.activation)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as target:
        pickle.dump(stored, target)
    tmp.replace(path)
    return result


def _train(data, settings, validation: bool = False) -> bp.TrainingResult:
    held = min(VALIDATION, data.train_labels.shape[0] // 6) if validation else 0

    def train():
        x, labels = bp.normalize(data.train_images), data.train_labels
        if held:  # the last `held` training images take the test set's place
            n = x.shape[1] - held
            held_out = (x[:, n:], labels[n:])
            x, labels = x[:, :n], labels[:n]
        else:
            held_out = (bp.normalize(data.test_images), data.test_labels)
        return bp.train_minibatch(x, labels, test=held_out, data=data.describe(), **settings)

    return _cached(data, {**settings, "validation": held}, train)


def activation_runs(data) -> dict[str, bp.TrainingResult]:
    """The course's network trained with each activation of the table, by name."""
    from backproof.activations import ACTIVATIONS

    return {name: _train(data, {**ACTIVATION_RUN, "activation": name}) for name in ACTIVATIONS}


def deep_run(data, seed: int | None = None, *, validation: bool = False) -> bp.TrainingResult:
    """The deeper network of :data:`DEEP_RUN` (optionally with another seed).

    With ``validation=True`` it trains on all but the last :data:`VALIDATION` training images
    and evaluates on those instead of the test set: the history's and ``final``'s ``test_*``
    entries are then *validation* loss and error (the test set is left for the end).
    """
    settings = DEEP_RUN if seed is None else {**DEEP_RUN, "seed": seed}
    return _train(data, settings, validation)


# ------------------------------------------------------------------------------ how cost grows
# The "How cost grows" page and benchmarks/bench_training.py time a few minibatch steps per
# architecture (not whole epochs: cheap enough for the site build) and set them against the
# time of the same step's matrix products alone.

SCALING_BATCH = 100
"""The batch size of the scaling runs (the course's)."""

SCALING_WIDTHS = (64, 128, 256, 512, 1024, 2048, 4096)
"""Widths of the two hidden layers of 784-w-w-10 (the widest is 784-4096-4096-10)."""

SCALING_DEPTHS = (2, 3, 4, 5, 6)
"""Numbers of layers L of 784-256-...-256-10 (L - 1 hidden layers of 256)."""

EPOCH_SAMPLES = 60_000
"""Samples in an epoch of the full MNIST training set."""


def width_sizes(width: int) -> list[int]:
    """784-w-w-10."""
    return [784, int(width), int(width), 10]


def depth_sizes(layers: int, width: int = 256) -> list[int]:
    """784, then ``layers - 1`` hidden layers of ``width``, then 10."""
    return [784, *([int(width)] * (int(layers) - 1)), 10]


def step_products(sizes, batch: int) -> list[tuple[int, int, int]]:
    r"""``(m, n, k)`` of each matrix product of one training step (``m n k`` multiply-adds each).

    Per layer :math:`l`: the forward :math:`W_l h_{l-1}` (:math:`n_l \times B \times n_{l-1}`),
    for :math:`l \ge 2` the backward :math:`W_l^\top \delta_l`
    (:math:`n_{l-1} \times B \times n_l`), and the update :math:`\delta_l h_{l-1}^\top`
    (:math:`n_l \times n_{l-1} \times B`). The bias sums :math:`\delta_l \mathbf{1}` are not
    counted: they are matrix-vector products, bound by memory, not by arithmetic.
    """
    n = [int(v) for v in sizes]
    out = []
    for l in range(1, len(n)):
        out.append((n[l], batch, n[l - 1]))
        if l >= 2:
            out.append((n[l - 1], batch, n[l]))
        out.append((n[l], n[l - 1], batch))
    return out


def step_flops(sizes, batch: int) -> int:
    """Floating-point operations (2 per multiply-add) of one step's matrix products."""
    return sum(2 * m * n * k for m, n, k in step_products(sizes, batch))


def _random_kernel(sizes, batch: int, seed: int = 0):
    """A kernel on freshly initialised parameters, and a gathered batch ``x`` of random pixels."""
    import numpy as np

    from .kernel import Kernel
    from .network import init_network

    rng = np.random.default_rng(seed)
    params = init_network(sizes, "relu", rng)
    xb = rng.uniform(0, 1, (batch, sizes[0])).astype(np.float32)
    labels = rng.integers(0, sizes[-1], batch)
    return Kernel(params, batch), xb, labels


def gemm_step_seconds(kernel, xb, labels, repeats: int = 5, windows: int = 1) -> float:
    r"""Seconds one step's matrix products take alone, at the rate BLAS gives them now.

    The kernel's own bound BLAS calls (forward, backward, update; the same memory, layouts and
    cuts as in a step), called back to back ``repeats`` times with one BLAS thread and with
    all of them; the faster mean per step. Nothing else of the step runs, so this is the
    limit the step's products set: the rest of a step's time is the softmax, the activations,
    the bias sums, the gather and Python.
    """
    import time

    from . import _blas

    start = _blas.threads()
    best = float("inf")
    for threads in sorted({1, start}):
        _blas.set_threads(threads)
        kernel.update(xb.T, labels, 0.0)  # binds the calls for this thread count, warms (a zero step)
        L = kernel.params.L
        calls = [kernel._fwd[l] for l in range(1, L + 1)]
        for l in range(L, 0, -1):
            if l > 1:
                calls.append(kernel._bwd[l])
            calls.append(kernel._upd[l])
        for _ in range(windows):
            t = time.perf_counter()
            for _ in range(repeats):
                for call in calls:
                    call()
            best = min(best, (time.perf_counter() - t) / repeats)
    _blas.set_threads(start)
    return best


def time_steps(kernel, rows, labels, steps: int) -> float:
    """Mean seconds of a minibatch step: gather ``kernel``'s batch from ``rows`` and update,
    as ``train_minibatch`` does, with its BLAS threads (chosen from the load where that keeps
    the results)."""
    import time

    import numpy as np

    from ._threads import AdaptiveThreads

    batch = kernel.h[1].shape[1]
    xb = np.empty((batch, rows.shape[1]), rows.dtype)
    x = xb.T
    rng = np.random.default_rng(0)
    order = rng.permutation(rows.shape[0])
    adaptive = kernel.keeps_results(x)  # as train_minibatch decides
    with np.errstate(over="ignore", invalid="ignore"), AdaptiveThreads(enabled=adaptive) as threads:
        idx = order[:batch]
        rows.take(idx, axis=0, out=xb, mode="clip")
        kernel.update(x, labels[idx], 0.0)  # warm: binds, spins up the threads
        t = time.perf_counter()
        for s in range(steps):
            idx = order[(s * batch) % (rows.shape[0] - batch) :][:batch]
            rows.take(idx, axis=0, out=xb, mode="clip")
            threads.tick()
            kernel.update(x, labels[idx], 1e-3 / batch)
        return (time.perf_counter() - t) / steps


SCALING_FLOPS = 2e9
"""Floating-point operations each measurement of :func:`scaling` aims at (steps = this / a step's)."""

SCALING_MAX_STEPS = 100
"""At most this many steps per measurement: a small network's 100 steps take about 20 ms, enough
to leave the start-up (threads waking, caches filling) out of the mean; 8 steps were not, and
made a 784-64-64-10 step look 50 % slower than in an epoch."""


def scaling_steps(sizes, batch: int = SCALING_BATCH) -> int:
    """How many steps :func:`scaling` times for ``sizes``: about :data:`SCALING_FLOPS` of
    products, at least 1 and at most :data:`SCALING_MAX_STEPS`."""
    return max(1, min(SCALING_MAX_STEPS, round(SCALING_FLOPS / step_flops(sizes, batch))))


def scaling(sizes_list, batch: int = SCALING_BATCH, rounds: int = 2, seed: int = 0):
    r"""Estimated epoch time of each architecture against the time of its matrix products.

    For each ``sizes``: the time of a minibatch step (gather and update, on 4,000 rows of
    random pixels; the mean of :func:`scaling_steps` steps, about :data:`SCALING_FLOPS` of products) and the
    time of the same step's products alone (:func:`gemm_step_seconds`), each the best of
    ``rounds`` tries (a shared machine only
    ever slows a measurement down) and multiplied by the :data:`EPOCH_SAMPLES` / ``batch``
    steps of an epoch. A few steps, not an epoch: cheap enough to run at every site build.
    Returns one dict per architecture: ``sizes``, ``flops`` (per step), ``epoch_s``,
    ``gemm_epoch_s``, ``ratio`` (epoch over products) and ``gflops`` (the rate reached).
    """
    import numpy as np

    rng = np.random.default_rng(seed)
    rows = rng.uniform(0, 1, (4_000, 784)).astype(np.float32)
    out = []
    per_epoch = EPOCH_SAMPLES / batch
    for sizes in sizes_list:
        sizes = [int(v) for v in sizes]
        if sizes[0] != rows.shape[1]:
            rows = rng.uniform(0, 1, (4_000, sizes[0])).astype(np.float32)
        labels = rng.integers(0, sizes[-1], rows.shape[0])
        kernel, xb, lbl = _random_kernel(sizes, batch, seed)
        flops = step_flops(sizes, batch)
        steps = scaling_steps(sizes, batch)
        gemm = step = float("inf")
        for _ in range(rounds):  # interleaved, so that a busy spell slows both alike
            gemm = min(gemm, gemm_step_seconds(kernel, xb, lbl, repeats=steps))
            step = min(step, time_steps(kernel, rows, labels, steps))
        out.append(
            {
                "sizes": sizes,
                "flops": flops,
                "epoch_s": step * per_epoch,
                "gemm_epoch_s": gemm * per_epoch,
                "ratio": step / gemm,
                "gflops": flops / step / 1e9,
            }
        )
    return out
