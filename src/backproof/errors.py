r"""The exceptions and warnings that backproof raises, in one place.

Every error backproof raises on bad input is one of these, so that a caller (or
the CLI) can catch them without also catching bugs. Each message names what is
wrong and what to do about it.

Non-goals: no error codes, no localisation.
"""

from __future__ import annotations

__all__ = [
    "BackproofError",
    "DataNotFoundError",
    "DownloadError",
    "IDXFormatError",
    "InputError",
    "ModelFileError",
    "SampleDataWarning",
    "TrainingDivergedError",
]


class BackproofError(Exception):
    r"""Base class of every error backproof raises on purpose."""


class InputError(BackproofError, ValueError):
    r"""An array, setting or argument given to the public API is not what it expects."""


class IDXFormatError(BackproofError, ValueError):
    r"""A file is not a valid IDX file of the kind asked for (names the file and the reason)."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class DataNotFoundError(BackproofError, FileNotFoundError):
    r"""The MNIST files are neither where they were looked for nor obtainable."""


class DownloadError(BackproofError, OSError):
    r"""Every mirror failed to deliver a file with the published checksum."""


class TrainingDivergedError(BackproofError, FloatingPointError):
    r"""The loss became NaN or infinite during training."""

    def __init__(self, step: int, learning_rate: float, loss: float, unit: str = "iteration"):
        self.step = step
        self.learning_rate = learning_rate
        self.loss = loss
        super().__init__(
            f"training diverged: the loss became {loss} at {unit} {step} with learning rate "
            f"{learning_rate:g}; try a smaller learning rate (--lr)"
        )


class ModelFileError(BackproofError, ValueError):
    r"""A saved model file cannot be written or is not a valid backproof model."""


class SampleDataWarning(UserWarning):
    r"""The full MNIST set was not available, so the offline sample of real digits is used."""
