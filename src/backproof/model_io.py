r"""Saving and loading trained parameters as ``.npz`` files, safely.

:func:`save_model` writes to a temporary file in the destination directory and
renames it into place, so an interrupted save never leaves a half-written model.
:func:`load_model` reads with ``allow_pickle=False`` (a file from elsewhere
cannot run code) and checks names, shapes, dtypes and finiteness.

Non-goals: optimiser state, versioned migrations, other formats.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path

import numpy as np

from .errors import InputError, ModelFileError
from .network import Parameters

__all__ = ["load_model", "save_model"]

_FORMAT = "backproof-shallow-v1"


def save_model(path: str | os.PathLike, params: Parameters, meta: dict | None = None) -> Path:
    r"""Write ``params`` (and a JSON-able ``meta`` dict) to ``path`` atomically.

    Raises
    ------
    ModelFileError
        The directory does not exist or is not writable.
    """
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise ModelFileError(f"cannot save to {path}: directory {directory} does not exist; create it first")
    header = json.dumps({"format": _FORMAT, "meta": meta or {}})
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, header=np.array(header), **params.arrays())
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_model(path: str | os.PathLike) -> tuple[Parameters, dict]:
    r"""Read a model written by :func:`save_model`.

    Returns
    -------
    params : Parameters
    meta : dict

    Raises
    ------
    ModelFileError
        Missing file, not an ``.npz``, object arrays, missing or inconsistent arrays,
        non-finite values.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"model file {path} does not exist")
    try:
        with np.load(path, allow_pickle=False) as z:
            names = set(z.files)
            need = {"header", "W1", "b1", "W2", "b2"}
            if not need <= names:
                raise ModelFileError(
                    f"{path} is not a backproof model: it lacks {', '.join(sorted(need - names))}"
                )
            header = json.loads(str(z["header"]))
            arrays = {k: z[k] for k in ("W1", "b1", "W2", "b2")}
    except ModelFileError:
        raise
    except (ValueError, OSError, zipfile.BadZipFile, json.JSONDecodeError, EOFError) as exc:
        raise ModelFileError(f"{path} is not a readable backproof model ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != _FORMAT:
        raise ModelFileError(f"{path} is not a backproof model file (format {header!r})")
    for k, v in arrays.items():
        if v.dtype.kind != "f":
            raise ModelFileError(f"{path}: {k} has dtype {v.dtype}, expected floating point")
        if not np.all(np.isfinite(v)):
            raise ModelFileError(f"{path}: {k} contains NaN or infinite values")
    try:
        params = Parameters(**arrays)
    except InputError as exc:
        raise ModelFileError(f"{path}: {exc}") from None
    return params, header.get("meta", {})
