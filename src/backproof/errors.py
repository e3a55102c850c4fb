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
    "DataWarning",
    "DownloadError",
    "IDXFormatError",
    "InputError",
    "ModelFileError",
    "OutputError",
    "SampleDataWarning",
    "Terminated",
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


class OutputError(BackproofError, OSError):
    r"""An output file (``--json``, ``--save``, ``--out``) cannot be written; names the file and the fix."""


class Terminated(KeyboardInterrupt):
    r"""The process received SIGTERM; raised by the command line's handler so that every
    ``finally`` block (temporary files) runs, as for Ctrl-C."""


class DataWarning(UserWarning):
    r"""The data found is unusual (train and test swapped, raw and ``.gz`` copies that differ, ...)."""


class SampleDataWarning(UserWarning):
    r"""The full MNIST set was not available, so the offline sample of real digits is used."""
