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
    "experiments.py", "training.py", "network.py", "activations.py", "softmax.py", "relu.py",
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
