r"""Downloading the MNIST files into the cache, each checked against its known content.

:func:`download_mnist` fetches each file from the first mirror that delivers it whole and right:
the user's mirrors (``$BACKPROOF_MNIST_MIRRORS`` or ``mirrors=``) then the public ones
(:func:`mirror_list`). Each transfer is bounded in time and in size, its content checked against
the SHA-256 of MNIST's decompressed file and read as IDX before it is renamed into place; a
failed one is deleted and the next mirror tried, and the error names what each mirror answered.
Progress goes to stderr: a bar on a terminal, else one line per file. :func:`cache_dir` is where
the files go, and a cached file counts only while its content matches (``_cached_ok``).

:mod:`backproof.mnist` calls this when no copy is found, and re-exports its public names.

Non-goals: resuming a partial transfer, parallel downloads, other data sets.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from ._mnist_files import FILES, SHA256, SIZES, _check_split, _content_sha256, _file_sha256
from ._output import _text, cache_folder, sweep_stale, temporary_path
from .errors import DownloadError, IDXFormatError
from .idx import read_idx

__all__ = ["MIRRORS", "cache_dir", "download_mnist", "mirror_list"]

# The public mirrors, documented where backproof.mnist re-exports them.
MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)


def cache_dir() -> Path:
    r"""The directory downloads go to: ``$BACKPROOF_CACHE/mnist`` or the user cache dir."""
    return cache_folder("mnist")


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
