"""The deeper chapter's runs: kept in a run cache named by their inputs, and a validation split."""

from __future__ import annotations

import types

import numpy as np
import pytest

import backproof as bp
from backproof import experiments

SMALL = {"layers": [784, 8, 10], "activation": "relu", "epochs": 1, "batch_size": 50, "lr": 0.05, "seed": 0}


def tiny_data(n_train=300, n_test=60, seed=0):
    rng = np.random.default_rng(seed)
    return types.SimpleNamespace(
        train_images=rng.integers(0, 256, (784, n_train), dtype=np.uint8),
        train_labels=rng.integers(0, 10, n_train).astype(np.uint8),
        test_images=rng.integers(0, 256, (784, n_test), dtype=np.uint8),
        test_labels=rng.integers(0, 10, n_test).astype(np.uint8),
        describe=lambda: {"kind": "test"},
    )


def test_a_run_is_trained_once_then_read_back_from_the_run_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROOF_RUN_CACHE", str(tmp_path))
    data = tiny_data()
    first = experiments._train(data, SMALL)
    assert len(list(tmp_path.glob("*.pickle"))) == 1

    def no_training(*args, **kwargs):
        raise AssertionError("trained again although the run is in the cache")

    monkeypatch.setattr(bp, "train_minibatch", no_training)
    again = experiments._train(data, SMALL)
    assert again.final == first.final and again.seconds == first.seconds
    np.testing.assert_array_equal(again.params.W[0], first.params.W[0])


def test_without_the_variable_nothing_is_cached_and_every_call_trains(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKPROOF_RUN_CACHE", raising=False)
    calls = []
    real = bp.train_minibatch
    monkeypatch.setattr(bp, "train_minibatch", lambda *a, **k: calls.append(1) or real(*a, **k))
    experiments._train(tiny_data(), SMALL)
    experiments._train(tiny_data(), SMALL)
    assert len(calls) == 2


def test_the_digest_changes_with_the_settings_and_the_data_bytes_but_not_with_a_copy():
    data = tiny_data()
    digest = experiments.run_digest(data, SMALL)
    assert experiments.run_digest(tiny_data(), dict(SMALL)) == digest
    assert experiments.run_digest(data, {**SMALL, "seed": 1}) != digest
    changed = tiny_data()
    changed.train_images[0, 0] ^= 1
    assert experiments.run_digest(changed, SMALL) != digest


# modules the training code imports that cannot change a run's numbers, each with its reason
_NOT_IN_THE_DIGEST = {
    "errors": "exception classes",
    "_checks": "argument checks: a bad argument raises before any work",
    "_threads": "the BLAS thread count, which changes no bit (tests/test_threads.py)",
    "_output": "files the CLI writes, after the run",
}


def _package_imports(module: str) -> set[str]:
    """The backproof modules ``module`` imports, directly or through one another (relative imports)."""
    import ast
    from pathlib import Path

    root = Path(bp.__file__).parent
    seen: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        if name in seen or not (root / f"{name}.py").is_file():
            continue
        seen.add(name)
        for node in ast.walk(ast.parse((root / f"{name}.py").read_text())):
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                if node.module:
                    todo.append(node.module.split(".")[0])
                else:  # from . import a, b
                    todo.extend(alias.name for alias in node.names)
    return seen


def test_the_run_digest_covers_every_module_the_training_code_imports():
    # a module left out would let a changed kernel read back runs trained by the old one
    used = _package_imports("experiments") | _package_imports("training")
    assert "kernel" in used
    digested = {name.removesuffix(".py") for name in experiments._TRAINING_SOURCES}
    missing = used - digested - set(_NOT_IN_THE_DIGEST)
    assert not missing, f"add {sorted(missing)} to experiments._TRAINING_SOURCES"


@pytest.mark.parametrize("n_train, held", [(300, 50), (60_000 // 100, 100)])
def test_with_validation_the_last_training_images_are_held_out_and_scored_instead_of_the_test_set(
    n_train, held, monkeypatch
):
    monkeypatch.delenv("BACKPROOF_RUN_CACHE", raising=False)
    data = tiny_data(n_train)
    seen = {}
    real = bp.train_minibatch

    def spy(x, labels, test, **kwargs):
        seen["x"], seen["test"] = x, test
        return real(x, labels, test=test, **kwargs)

    monkeypatch.setattr(bp, "train_minibatch", spy)
    experiments._train(data, SMALL, validation=True)
    assert seen["x"].shape[1] == n_train - held  # a sixth of a small set
    np.testing.assert_array_equal(seen["test"][1], data.train_labels[n_train - held :])
