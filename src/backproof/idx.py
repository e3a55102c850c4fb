r"""Reading the IDX files in which MNIST is distributed.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of
dimensions), one big-endian ``uint32`` per dimension, then the data in C order.
MNIST uses type ``0x08`` (unsigned byte): images are 3-D (count, rows, columns),
labels 1-D (count). Files may be gzip-compressed.

The reader checks everything a damaged or forged file could get wrong (magic,
type, dimensions, size, trailing bytes, gzip integrity) and raises
:class:`~backproof.errors.IDXFormatError` naming the file and the reason. It
never allocates more than the file can actually deliver.

Non-goals: writing IDX files (only the tests do that), IDX types other than
unsigned bytes.
"""

from __future__ import annotations

import gzip
import io
import os
import struct
import zlib
from pathlib import Path

import numpy as np

from .errors import IDXFormatError

__all__ = ["read_idx"]

_UBYTE = 0x08
_GZIP_MAGIC = b"\x1f\x8b"
#: More elements than this is taken as a forged header: MNIST's largest file has 47,040,000,
#: so no header can make the reader allocate more than about 100 MB.
MAX_ELEMENTS = 100_000_000
_CHUNK = 1 << 20


def _describe_bad_start(head: bytes) -> str:
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")):
        return "this is an HTML/XML page, not an IDX file (probably a failed download); delete it"
    return f"bad magic number {head[:4].hex()} (an IDX file starts with 0000 08 nn)"


def _read_exact(stream, n: int, path: Path) -> bytearray:
    """Read exactly ``n`` bytes in chunks, so a forged size never allocates more than exists."""
    parts = []
    remaining = n
    while remaining > 0:
        chunk = stream.read(min(_CHUNK, remaining))
        if not chunk:
            break
        parts.append(chunk)
        remaining -= len(chunk)
    data = bytearray().join(parts)  # writable, so the array handed out is too
    if len(data) != n:
        raise IDXFormatError(
            path, f"truncated: the header promises {n} data bytes but only {len(data)} follow"
        )
    return data


def read_idx(path: str | os.PathLike, ndim: int | None = None) -> np.ndarray:
    r"""Read an IDX file of unsigned bytes, raw or gzip-compressed.

    Parameters
    ----------
    path : str or path-like
        The file. Compression is detected from its first bytes, not its name.
    ndim : int, optional
        The number of dimensions the caller expects (3 for images, 1 for labels).

    Returns
    -------
    numpy.ndarray
        ``uint8`` array with the shape stored in the header, C order.

    Raises
    ------
    IDXFormatError
        Empty, truncated or over-long file, wrong magic number or type code,
        wrong number of dimensions, a zero or absurd dimension, corrupt gzip.
    FileNotFoundError
        The file does not exist.
    """
    path = Path(path)
    if path.exists() and not path.is_file():  # a FIFO would block forever, a device never end
        raise IDXFormatError(path, "not a regular file (a folder, a pipe or a device); give the IDX file")
    with open(path, "rb") as raw:
        start = raw.read(2)
        raw.seek(0)
        stream: gzip.GzipFile | io.BufferedReader
        if start == _GZIP_MAGIC:
            stream = gzip.GzipFile(fileobj=raw, mode="rb")
            size_known = None
        else:
            stream = raw
            size_known = path.stat().st_size
        try:
            return _parse(stream, path, ndim, size_known)
        except (OSError, EOFError, zlib.error) as exc:  # gzip.BadGzipFile is an OSError
            raise IDXFormatError(
                path, f"corrupt gzip data ({exc}); delete the file and fetch it again"
            ) from None


def _parse(stream, path: Path, ndim: int | None, size_known: int | None) -> np.ndarray:
    head = stream.read(4)
    if len(head) == 0:
        raise IDXFormatError(path, "the file is empty")
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise IDXFormatError(path, _describe_bad_start(head + stream.read(60)))
    if head[2] != _UBYTE:
        raise IDXFormatError(path, f"type code 0x{head[2]:02x} is not 0x08 (unsigned byte)")
    file_ndim = head[3]
    if ndim is not None and file_ndim != ndim:
        raise IDXFormatError(
            path,
            f"has {file_ndim} dimensions where {ndim} were expected "
            f"({'images' if ndim == 3 else 'labels'}); are image and label files swapped?",
        )
    if file_ndim == 0:
        raise IDXFormatError(path, "the header declares zero dimensions")
    dims_bytes = stream.read(4 * file_ndim)
    if len(dims_bytes) != 4 * file_ndim:
        raise IDXFormatError(path, "truncated inside the header")
    dims = struct.unpack(f">{file_ndim}I", dims_bytes)
    if 0 in dims:
        raise IDXFormatError(path, f"the header declares an empty dimension {dims}")
    count = 1
    for d in dims:
        count *= d
    if count > MAX_ELEMENTS:
        raise IDXFormatError(path, f"the header declares {count} elements {dims}, which no MNIST file has")
    header_size = 4 + 4 * file_ndim
    if size_known is not None and size_known != header_size + count:
        what = "truncated" if size_known < header_size + count else "longer than its header says"
        raise IDXFormatError(
            path,
            f"{what}: the header {dims} promises {header_size + count} bytes, the file has {size_known}",
        )
    data = _read_exact(stream, count, path)
    if stream.read(1):
        raise IDXFormatError(path, f"longer than its header says: bytes follow the {count} promised")
    return np.frombuffer(data, dtype=np.uint8).reshape(dims)
