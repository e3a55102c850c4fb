r"""Saving and loading trained parameters as ``.npz`` files, safely.

:func:`save_model` writes through the output helper (:mod:`backproof._output`): a
temporary file renamed into place, so an interrupted save never leaves a
half-written model, with the permissions the umask allows. It refuses NaN or
infinite weights, which :func:`load_model` would refuse anyway.

:func:`load_model` treats the file as untrusted. Before inflating anything it reads
the zip directory and each array's ``.npy`` header (:func:`numpy.lib.format.read_magic`,
``read_array_header_*``) and refuses what no model can be: members that are not
model arrays, object (pickle) arrays, headers longer or more deeply nested than any
array's, declared sizes that disagree with the stored size or with each other's
shapes, totals over ``max_bytes``, members that inflate far beyond their compressed
size (zip bombs). Only then are the arrays read, each exactly to its declared size.
A model of any depth is stored as ``W1, b1, ..., WL, bL`` with its sizes and hidden
activation in a JSON header; the shallow files (``W1, b1, W2, b2``, no activation:
ReLU) written before are read the same way.

Non-goals: optimiser state, versioned migrations, other formats.
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from ._output import Output, _text, check_output, write_output
from .errors import InputError, ModelFileError
from .network import Parameters

__all__ = ["MAX_MODEL_BYTES", "load_model", "save_model"]

_FORMATS = ("backproof-shallow-v1", "backproof-model-v2")
_FORMAT = "backproof-model-v2"
#: The largest model file :func:`load_model` reads by default (1 GiB of weights).
MAX_MODEL_BYTES = 1 << 30
_MAX_HEADER = 4096  # an .npy header of a model array is about 128 bytes
_MAX_META = 1 << 20
_MAX_RATIO = 1000  # inflation beyond this per member is a zip bomb (deflate's own limit is ~1032)
#: What zipfile and json raise on damaged files (RuntimeError: an "encrypted" flag; NotImplementedError:
#: an unknown compression method).
_UNREADABLE = (
    zipfile.BadZipFile,
    json.JSONDecodeError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
)
_MEMBER = re.compile(r"^(header|[Wb][1-9][0-9]{0,2})\.npy$")


def save_model(path: str | os.PathLike | Output, params: Parameters, meta: dict | None = None) -> Path:
    r"""Write ``params`` (and a JSON-able ``meta`` dict) to ``path`` atomically.

    ``.npz`` is appended to a name without it. Returns the path written.

    Raises
    ------
    ModelFileError
        The parameters hold NaN or infinite values, or ``meta`` is not JSON.
    OutputError
        The path cannot be written (missing or read-only folder, a folder, ...).
    """
    out = path if isinstance(path, Output) else check_output(path, "model file", suffix=".npz")
    arrays: dict[str, Any] = {k: np.asarray(v) for k, v in params.arrays().items()}
    for k, v in arrays.items():
        if v.dtype.kind != "f" or not np.all(np.isfinite(v)):
            raise ModelFileError(
                f"not saving {_text(out.path)}: {k} holds NaN or infinite values (the training diverged); "
                "train again with a smaller learning rate"
            )
    try:
        header = json.dumps(
            {
                "format": _FORMAT,
                "sizes": [int(n) for n in params.sizes],
                "activation": params.activation,
                "meta": meta or {},
            },
            allow_nan=False,
        )
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"not saving {_text(out.path)}: meta is not strict JSON ({exc})") from None
    arrays["header"] = np.array(header)
    buffer = io.BytesIO()  # built in memory: a zip needs to seek, which a device or a pipe cannot
    np.savez(buffer, **arrays)

    def write(fh) -> None:
        fh.write(buffer.getbuffer())

    return write_output(out, write)


def _header_depth(text: str) -> int:
    depth = deepest = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in ")]}":
            depth -= 1
    return deepest


def _read_npy_header(fh, where: str) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """Shape, Fortran order, dtype and header length of one member, refusing forged headers."""
    fmt = np.lib.format
    try:
        major, minor = fmt.read_magic(fh)
    except ValueError as exc:
        raise ModelFileError(f"{where} is not a NumPy array ({exc})") from None
    if (major, minor) not in ((1, 0), (2, 0)):
        raise ModelFileError(f"{where}: unsupported .npy version {major}.{minor}")
    size_bytes = 2 if major == 1 else 4
    raw_len = fh.read(size_bytes)
    if len(raw_len) != size_bytes:
        raise ModelFileError(f"{where}: truncated array header")
    (hlen,) = struct.unpack("<H" if major == 1 else "<I", raw_len)
    if hlen > _MAX_HEADER:
        raise ModelFileError(f"{where}: array header of {hlen} bytes; a model array's is about 128")
    text = fh.read(hlen)
    if len(text) != hlen:
        raise ModelFileError(f"{where}: truncated array header")
    if _header_depth(text.decode("latin1")) > 3:
        raise ModelFileError(f"{where}: nested array header; not written by NumPy")
    buf = io.BytesIO(fmt.MAGIC_PREFIX + bytes([major, minor]) + raw_len + text)
    fmt.read_magic(buf)
    try:
        reader = fmt.read_array_header_1_0 if major == 1 else fmt.read_array_header_2_0
        shape, fortran, dtype = reader(buf)
    except Exception as exc:  # NumPy's parser of a forged header raises many kinds (TokenError, ...)
        raise ModelFileError(f"{where}: unreadable array header ({str(exc)[:80]})") from None
    return shape, fortran, dtype, 6 + 2 + size_bytes + hlen


def _read_members(path: Path, max_bytes: int) -> dict[str, np.ndarray]:
    name = _text(path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        if not infos or len(infos) > 2 * 999 + 1:
            raise ModelFileError(f"{name} is not a backproof model: it holds {len(infos)} members")
        plan = []
        for info in infos:
            if not _MEMBER.match(info.filename):
                raise ModelFileError(f"{name} is not a backproof model: unexpected member {info.filename!r}")
            if info.file_size > _MAX_RATIO * max(info.compress_size, 1) + 65536:
                raise ModelFileError(
                    f"{name}: {info.filename} inflates {info.compress_size} bytes to {info.file_size}; "
                    "refused as a zip bomb"
                )
            where = f"{name}: {info.filename}"
            with zf.open(info) as fh:
                shape, fortran, dtype, offset = _read_npy_header(fh, where)
            key = info.filename[:-4]
            if dtype.hasobject:
                raise ModelFileError(f"{where} holds Python objects (a pickle); refused, it could run code")
            if key == "header":
                if dtype.kind != "U" or shape != ():
                    raise ModelFileError(f"{where}: expected a text header, got {dtype} of shape {shape}")
            elif dtype.kind != "f" or dtype.itemsize not in (4, 8) or len(shape) not in (1, 2):
                raise ModelFileError(
                    f"{where} has dtype {dtype} and shape {shape}, expected a floating-point vector or matrix"
                )
            nbytes = int(np.prod(shape, dtype=object)) * dtype.itemsize
            if nbytes != info.file_size - offset:
                raise ModelFileError(
                    f"{where} declares {nbytes} bytes of data but holds {max(info.file_size - offset, 0)}"
                )
            if key == "header" and nbytes > _MAX_META:
                raise ModelFileError(f"{where}: a header of {nbytes} bytes; refused")
            plan.append((info, key, shape, fortran, dtype, offset, nbytes))
        total = sum(p[-1] for p in plan)
        if total > max_bytes:
            raise ModelFileError(
                f"{name} declares {total / 2**20:.0f} MiB of arrays, more than max_bytes "
                f"({max_bytes / 2**20:.0f} MiB); pass a larger max_bytes if you trust it"
            )
        _check_shapes(name, {p[1]: p[2] for p in plan})
        arrays = {}
        for info, key, shape, fortran, dtype, offset, nbytes in plan:
            with zf.open(info) as fh:
                fh.read(offset)
                data = fh.read(nbytes)
                if len(data) != nbytes or fh.read(1):
                    raise ModelFileError(f"{name}: {info.filename} does not hold what its header declares")
            flat = np.frombuffer(data, dtype=dtype)
            arrays[key] = (flat.reshape(shape[::-1]).T if fortran else flat.reshape(shape)).copy()
    return arrays


def _check_shapes(name: str, shapes: dict[str, tuple[int, ...]]) -> int:
    """The number of layers L, after checking that W1, b1, ..., WL, bL chain together."""
    if "header" not in shapes:
        raise ModelFileError(f"{name} is not a backproof model: it lacks header")
    L = sum(1 for k in shapes if k.startswith("W"))
    want = {"header"} | {f"{c}{i}" for i in range(1, L + 1) for c in "Wb"}
    if L < 1 or set(shapes) != want:
        missing = sorted(want - set(shapes)) or sorted(set(shapes) - want)
        raise ModelFileError(f"{name} is not a backproof model: missing or extra arrays {', '.join(missing)}")
    previous = None
    for i in range(1, L + 1):
        W, b = shapes[f"W{i}"], shapes[f"b{i}"]
        if len(W) != 2 or b != (W[0],) or (previous is not None and W[1] != previous) or 0 in W:
            raise ModelFileError(
                f"{name}: inconsistent shapes W{i} {W}, b{i} {b}"
                + (f" after a layer of {previous} units" if previous else "")
            )
        previous = W[0]
    return L


def _parameters(name: str, arrays: dict[str, np.ndarray], activation: object) -> Parameters:
    L = sum(1 for k in arrays if k.startswith("W"))
    layers = {k: arrays[k] for i in range(1, L + 1) for k in (f"W{i}", f"b{i}")}
    if not isinstance(activation, str):
        raise ModelFileError(f"{name}: the activation must be a name, got {str(activation)[:40]!r}")
    try:
        return Parameters(**layers, activation=activation)
    except (InputError, TypeError) as exc:
        raise ModelFileError(f"{name}: {exc}") from None


def load_model(path: str | os.PathLike, *, max_bytes: int = MAX_MODEL_BYTES) -> tuple[Parameters, dict]:
    r"""Read a model written by :func:`save_model`, treating the file as untrusted.

    Parameters
    ----------
    path : str or path-like
    max_bytes : int
        Refuse files whose arrays would take more memory than this.

    Returns
    -------
    params : Parameters
    meta : dict

    Raises
    ------
    ModelFileError
        Missing file, a folder, not an ``.npz``, object arrays, forged or oversized headers,
        missing or inconsistent arrays, non-finite values; the message names the file.
    """
    path = Path(path)
    name = _text(path)
    if path.is_dir():
        raise ModelFileError(f"{name} is a folder, not a model file; give the .npz file inside it")
    if not path.exists():
        raise ModelFileError(f"model file {name} does not exist")
    if not path.is_file():  # a FIFO would block forever, a device never end: regular files only
        raise ModelFileError(f"{name} is not a regular file (a pipe or a device); give the .npz file")
    try:
        arrays = _read_members(path, max_bytes)
        header = json.loads(str(arrays.pop("header")))
    except ModelFileError:
        raise
    except _UNREADABLE as exc:
        raise ModelFileError(f"{name} is not a readable backproof model ({str(exc)[:120]})") from None
    except OSError as exc:
        raise ModelFileError(f"cannot read model file {name}: {exc.strerror or exc}") from None
    if not isinstance(header, dict) or header.get("format") not in _FORMATS:
        raise ModelFileError(f"{name} is not a backproof model file (format {str(header)[:80]!r})")
    for k, v in arrays.items():
        if not np.all(np.isfinite(v)):
            raise ModelFileError(f"{name}: {k} contains NaN or infinite values")
    meta = header.get("meta", {})
    params = _parameters(name, arrays, header.get("activation", "relu"))
    return params, meta if isinstance(meta, dict) else {}
