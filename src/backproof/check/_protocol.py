r"""The plain-data messages between ``backproof check`` and the worker running a learner's code.

Nothing that crosses the pipe is ever unpickled or turned into an object of the learner's:
a frame is a fixed header, a JSON document and the raw bytes of the arrays it names::

    b"BPK1"  json length (uint32, little-endian)  data length (uint64)  JSON  data

In the JSON, ``null``, booleans, numbers, strings and lists stand for themselves; every
JSON object is a tag: ``{"$tuple": [...]}``, ``{"$dict": {"key": ...}}`` (string keys),
``{"$complex": [re, im]}``, ``{"$array": [dtype, shape]}`` (its bytes are the next
``prod(shape) * itemsize`` bytes of the data, in C order) and ``{"$scalar": [dtype, shape]}``
(a NumPy scalar, stored as a 0-d array). A dtype is a plain number type only (``<f8``,
``|b1``, ``<c16``...): no objects, no records, no strings. :func:`read_frame` checks the
sizes against caps *before* reading, and :func:`decode` checks every tag, dtype, shape and
byte count; anything else raises :class:`ProtocolError`, which the checker turns into a
"crashed" verdict for that call. The worker's reply is therefore data the checker judges,
never code it runs, and a forged reply can at worst be a wrong answer.

Non-goals: authenticating the worker (the learner's code runs in it and can write anything
on the reply pipe; the checker computes every verdict itself from the values it receives).
"""

from __future__ import annotations

import json
import math
import os
import re
import select
import struct
import time
from typing import Any

import numpy as np

MAGIC = b"BPK1"
_HEAD = struct.Struct("<4sIQ")
MAX_JSON = 8 * 2**20  # bytes of JSON in one frame
MAX_DATA = 64 * 2**20  # bytes of array data in one frame (what the checks exchange is far smaller)
MAX_DEPTH = 40  # nesting of lists, tuples and dicts
_DTYPE = re.compile(r"^[<>|=]?[biufc][1-9][0-9]?$")
_TAGS = ("$tuple", "$dict", "$complex", "$array", "$scalar")


class ProtocolError(Exception):
    r"""A frame that is not one :mod:`backproof.check._protocol` allows (garbled, forged, too big)."""


class Unsendable(Exception):  # noqa: N818 - a property of the learner's value, raised in the worker
    r"""A value that is not plain data (an object of the learner's class, an object array...)."""


# ---------------------------------------------------------------- values


def encode(value: Any) -> tuple[bytes, bytes]:
    r"""``(json bytes, data bytes)`` for ``value``; raises :class:`Unsendable` for anything else."""
    buffers: list[bytes] = []
    size = [0]

    def array(tag: str, arr: np.ndarray):
        if arr.dtype.kind not in "biufc" or arr.dtype.fields is not None or arr.dtype.subdtype is not None:
            raise Unsendable(f"an array of dtype {arr.dtype}, not of numbers")
        size[0] += arr.nbytes
        if size[0] > MAX_DATA:  # before copying anything
            raise Unsendable(f"more than {MAX_DATA // 2**20} MB of arrays")
        data = np.ascontiguousarray(arr).tobytes()
        if len(data) != arr.nbytes:  # a subclass that lies about its size
            raise Unsendable("an array whose bytes do not match its shape")
        buffers.append(data)
        return {tag: [arr.dtype.str, [int(n) for n in arr.shape]]}

    def walk(v, depth: int):
        if depth > MAX_DEPTH:
            raise Unsendable(f"values nested more than {MAX_DEPTH} deep")
        t = type(v)
        if v is None or t in (bool, str):
            return v
        if t is int:
            return v
        if t is float:
            return v
        if t is complex:
            return {"$complex": [v.real, v.imag]}
        if t is list:
            return [walk(x, depth + 1) for x in v]
        if t is tuple:
            return {"$tuple": [walk(x, depth + 1) for x in v]}
        if t is dict:
            if not all(type(k) is str for k in v):
                raise Unsendable("a dict whose keys are not all strings")
            return {"$dict": {k: walk(x, depth + 1) for k, x in v.items()}}
        if isinstance(v, np.generic):
            return array("$scalar", np.asarray(v))
        if isinstance(v, np.ndarray):
            return array("$array", np.asarray(v))  # a subclass (np.matrix) travels as a plain array
        if hasattr(v, "__array__"):  # a tensor of another library: converted here, in the worker
            return walk(np.asarray(v), depth + 1)
        raise Unsendable(f"a {t.__name__} object")

    try:
        doc = json.dumps(walk(value, 0), allow_nan=True, separators=(",", ":")).encode()
    except Unsendable:
        raise
    except Exception as exc:  # an array subclass whose tobytes fails, a str with lone surrogates...
        raise Unsendable(f"{type(exc).__name__}: {exc}") from None
    if len(doc) > MAX_JSON:
        raise Unsendable(f"more than {MAX_JSON // 2**20} MB of numbers outside arrays")
    return doc, b"".join(buffers)


def decode(doc: bytes, data: bytes) -> Any:
    r"""The value :func:`encode` encoded; raises :class:`ProtocolError` on anything else."""
    try:
        tree = json.loads(doc.decode("utf-8"))
    except (ValueError, RecursionError, MemoryError) as exc:
        raise ProtocolError(f"not JSON ({type(exc).__name__})") from None
    offset = [0]

    def array(spec) -> np.ndarray:
        if not (isinstance(spec, list) and len(spec) == 2 and isinstance(spec[0], str)):
            raise ProtocolError("bad array header")
        dtype, shape = spec
        if not _DTYPE.match(dtype) or not isinstance(shape, list) or len(shape) > 32:
            raise ProtocolError(f"bad array dtype or shape: {dtype!r}")
        if not all(type(n) is int and 0 <= n < 2**40 for n in shape):
            raise ProtocolError("bad array shape")
        try:
            dt = np.dtype(dtype)
        except TypeError:
            raise ProtocolError(f"bad dtype {dtype!r}") from None
        if (
            dt.kind not in "biufc"
            or dt.itemsize not in (1, 2, 4, 8, 16)
            or (dt.kind == "b" and dt.itemsize != 1)
        ):
            raise ProtocolError(f"bad dtype {dtype!r}")
        n = math.prod(shape) * dt.itemsize
        if offset[0] + n > len(data):
            raise ProtocolError("array data shorter than its header says")
        arr = np.frombuffer(data, dtype=dt, count=math.prod(shape), offset=offset[0]).reshape(shape).copy()
        offset[0] += n
        return arr

    def walk(v, depth: int):
        if depth > MAX_DEPTH:
            raise ProtocolError("nested too deep")
        if v is None or type(v) in (bool, int, float, str):
            return v
        if type(v) is list:
            return [walk(x, depth + 1) for x in v]
        if type(v) is not dict or len(v) != 1:
            raise ProtocolError("unknown JSON object")
        ((tag, body),) = v.items()
        if tag == "$tuple" and type(body) is list:
            return tuple(walk(x, depth + 1) for x in body)
        if tag == "$dict" and type(body) is dict:
            return {k: walk(x, depth + 1) for k, x in body.items()}
        if tag == "$complex" and type(body) is list and len(body) == 2:
            if not all(type(x) in (int, float) for x in body):
                raise ProtocolError("bad complex number")
            return complex(body[0], body[1])
        if tag == "$array":
            return array(body)
        if tag == "$scalar":
            arr = array(body)
            if arr.ndim:
                raise ProtocolError("a scalar with a shape")
            return arr[()]
        raise ProtocolError(f"unknown tag {tag[:20]!r}")

    try:
        value = walk(tree, 0)
    except RecursionError:
        raise ProtocolError("nested too deep") from None
    if offset[0] != len(data):
        raise ProtocolError("array data longer than the arrays named")
    return value


# ---------------------------------------------------------------- frames


def frame(value: Any) -> bytes:
    r"""One frame carrying ``value`` (see the module docstring)."""
    doc, data = encode(value)
    return _HEAD.pack(MAGIC, len(doc), len(data)) + doc + data


def write_frame(fd: int, value: Any) -> None:
    data = frame(value)
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def readable(fd: int, seconds: float) -> bool:
    r"""Whether ``fd`` has something to read within ``seconds`` (poll: any fd number, unlike select)."""
    if seconds <= 0:
        seconds = 0
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(fd, select.POLLIN | select.POLLHUP | select.POLLERR)
        return bool(poller.poll(min(seconds, 2**31 / 1000) * 1000))
    return bool(select.select([fd], [], [], seconds)[0])


def _read_exact(fd: int, n: int, deadline: float | None) -> bytes:
    chunks = []
    while n:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not readable(fd, left):
                raise TimeoutError()
        chunk = os.read(fd, min(n, 2**20))
        if not chunk:
            raise EOFError()
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd: int, deadline: float | None = None) -> Any:
    r"""The next value on ``fd``.

    Raises ``TimeoutError`` past ``deadline`` (a :func:`time.monotonic` time), ``EOFError``
    when the writer is gone, :class:`ProtocolError` for a frame that is not allowed.
    """
    head = _read_exact(fd, _HEAD.size, deadline)
    magic, n_doc, n_data = _HEAD.unpack(head)
    if magic != MAGIC:
        raise ProtocolError("no frame header")
    if n_doc > MAX_JSON or n_data > MAX_DATA:
        raise ProtocolError(f"a frame of {(n_doc + n_data) / 2**20:.0f} MB, more than allowed")
    doc = _read_exact(fd, n_doc, deadline)
    data = _read_exact(fd, n_data, deadline)
    return decode(doc, data)
