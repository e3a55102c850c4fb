r"""The named training runs of the "Going deeper" chapter, in one place.

The chapter calls :func:`activation_runs` and :func:`deep_run`; each trains on the data it
is given and returns :class:`backproof.TrainingResult` objects. The settings are the
module's constants, so that the chapter, its downloaded notebook and the slow test
(``tests/test_deeper_results.py``) use the same ones.

Non-goals: hyper-parameter search; runs that no page or test uses.
"""

from __future__ import annotations

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


def _train(data, settings) -> bp.TrainingResult:
    x, xt = bp.normalize(data.train_images), bp.normalize(data.test_images)
    return bp.train_minibatch(
        x, data.train_labels, test=(xt, data.test_labels), data=data.describe(), **settings
    )


def activation_runs(data) -> dict[str, bp.TrainingResult]:
    """The course's network trained with each activation of the table, by name."""
    from backproof.activations import ACTIVATIONS

    return {name: _train(data, {**ACTIVATION_RUN, "activation": name}) for name in ACTIVATIONS}


def deep_run(data, seed: int | None = None) -> bp.TrainingResult:
    """The deeper network of :data:`DEEP_RUN` (optionally with another seed)."""
    return _train(data, DEEP_RUN if seed is None else {**DEEP_RUN, "seed": seed})
