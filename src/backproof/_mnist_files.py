r"""The four MNIST files: their names, sizes and checksums, and reading their content.

``FILES`` names each split's two files; ``SHA256`` and ``SIZES`` say what the *decompressed*
content of each must be for data to count as full MNIST; ``MD5`` holds the canonical gzip files'
sums, for reference. Each is documented where :mod:`backproof.mnist` re-exports it.
``_content_sha256`` hashes a file's content, raw or gzipped (told by its first bytes, not its
name) and up to a size; ``_file_sha256`` remembers that per file version within a process.

Finding a copy (:mod:`backproof.mnist`) and downloading one (``backproof._download``) both
stand on this module; it imports neither.

Non-goals: finding the files in a folder (:mod:`backproof.mnist`), fetching them
(``backproof._download``), parsing IDX (:mod:`backproof.idx`).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
from pathlib import Path

__all__ = ["FILES", "MD5", "SHA256", "SIZES"]

# The public constants, each documented where backproof.mnist re-exports it.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

SIZES = {
    "train-images-idx3-ubyte": 16 + 60000 * 784,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 784,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}

MD5 = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}


def _check_split(split: str) -> None:
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")


def _open_content(path: Path):
    with open(path, "rb") as fh:
        gz = fh.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def _content_sha256(path: Path, limit: int | None = None) -> str | None:
    """SHA-256 of the decompressed content, or None when unreadable or longer than ``limit``."""
    digest = hashlib.sha256()
    size = 0
    try:
        with _open_content(path) as fh:
            while chunk := fh.read(1 << 20):
                size += len(chunk)
                if limit is not None and size > limit:
                    return None
                digest.update(chunk)
    except (OSError, EOFError, ValueError):
        return None
    return digest.hexdigest()


def _file_sha256(path: Path, limit: int | None = None) -> str | None:
    """:func:`_content_sha256`, remembered per file version (path, size, mtime) within a process."""
    try:
        st = path.stat()
    except OSError:
        return None
    return _remembered_sha256(str(path), st.st_size, st.st_mtime_ns, limit)


@functools.lru_cache(maxsize=64)
def _remembered_sha256(path: str, size: int, mtime_ns: int, limit: int | None) -> str | None:
    return _content_sha256(Path(path), limit)
