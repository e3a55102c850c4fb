"""The download path, against HTTP servers on 127.0.0.1 that the tests start (never the internet).

Cases, each bounded in time: good files; a recompressed copy of the same content (accepted); a
checksum mismatch (file discarded, next mirror tried, a clear error when every mirror fails);
HTTP 404 and 503; a transfer cut short; an HTML page served as 200; a server that drips one byte
at a time (stopped by the deadline per file); an endless body (stopped at the file's known size);
a size announced larger than the file can be; a server that never answers. The user's mirrors
(``BACKPROOF_MNIST_MIRRORS``, ``mirrors=``) come first; progress names the mirror; a read-only cache
or one that is a file falls back to the offline sample with a message naming it; a cached file
that fails its checksum is downloaded again; SIGTERM and ``kill -9`` leave nothing behind for long.
After each, nothing partial is left in the cache.
"""

import errno
import gzip
import hashlib
import http.server
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time
import typing

import numpy as np
import pytest

import backproof._download as dl
import backproof.mnist as mn
from backproof import DownloadError, SampleDataWarning, load_dataset
from helpers import STEMS, idx_bytes


@pytest.fixture(scope="module")
def contents():
    """The decompressed IDX content of each fake file."""
    rng = np.random.default_rng(0)
    out = {}
    for stem in STEMS:
        n = 12 if stem.startswith("train") else 4
        arr = rng.integers(0, 256, (n, 28, 28)) if "images" in stem else rng.integers(0, 10, n)
        out[stem] = idx_bytes(arr.astype(np.uint8))
    return out


@pytest.fixture(scope="module")
def payloads(contents):
    return {stem: gzip.compress(c, compresslevel=9, mtime=0) for stem, c in contents.items()}


class Handler(http.server.BaseHTTPRequestHandler):
    payloads: typing.ClassVar[dict] = {}
    contents: typing.ClassVar[dict] = {}
    hits: typing.ClassVar[list] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        mode, name = self.path.strip("/").split("/", 1)
        self.hits.append(self.path)
        stem = name.removesuffix(".gz")
        body = self.payloads.get(stem)
        try:
            self._answer(mode, stem, body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _answer(self, mode, stem, body):
        if mode == "404" or body is None:
            self.send_error(404)
        elif mode == "503":
            self.send_error(503)
        elif mode == "html":
            page = b"<!DOCTYPE html><html><body>Please log in</body></html>"
            self._send(200, page, len(page))
        elif mode == "corrupt":
            bad = bytes(b ^ 0x55 for b in body)
            self._send(200, bad, len(bad))
        elif mode == "wrong":  # a valid gzip of other data: only the checksum can tell
            other = gzip.compress(self.contents[stem][:-1] + b"\x01")
            self._send(200, other, len(other))
        elif mode == "recompressed":  # same content, other gzip bytes: accepted
            again = gzip.compress(self.contents[stem], compresslevel=1, mtime=12345)
            self._send(200, again, len(again))
        elif mode == "truncated":
            self._send(200, body[: len(body) // 2], len(body))  # promise more than is sent
        elif mode == "huge":
            self._send(200, b"", 10**12)
        elif mode == "drip":
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(0.1)
        elif mode == "endless":
            self.send_response(200)
            self.end_headers()
            block = b"\0" * 65536
            for _ in range(20000):  # 1.3 GB if nobody stops reading
                self.wfile.write(block)
        elif mode == "hang":
            time.sleep(5)
        else:
            self._send(200, body, len(body))

    def _send(self, code, body, length):
        self.send_response(code)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()
        self.close_connection = True


@pytest.fixture(scope="module")
def server(payloads, contents):
    Handler.payloads, Handler.contents = payloads, contents
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def sums(monkeypatch, contents):
    """The served files' own content checksums and sizes stand in for MNIST's, where the download
    (``_download``) and the search that tells full MNIST from other IDX data (``mnist``) look them up."""
    for module in (dl, mn):
        monkeypatch.setattr(module, "SHA256", {s: hashlib.sha256(c).hexdigest() for s, c in contents.items()})
        monkeypatch.setattr(module, "SIZES", {s: len(c) for s, c in contents.items()})
    Handler.hits = []


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".gz") or p.stat().st_size == 0)


def test_good_mirror_downloads_all_four_files_that_then_load_as_the_known_data(server, sums, tmp_path):
    directory = mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert sorted(p.name for p in directory.iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    data = load_dataset(directory)
    assert (data.n_train, data.n_test) == (12, 4)
    assert data.source.kind == "full"  # the content matches the (stand-in) known checksums


def test_a_recompressed_copy_of_the_same_content_is_accepted(server, sums, tmp_path):
    mn.download_mnist(tmp_path, mirrors=[f"{server}/recompressed/"], timeout=5)
    assert load_dataset(tmp_path).source.kind == "full"


def test_existing_good_files_are_not_downloaded_again(server, sums, tmp_path):
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    hits = len(Handler.hits)
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert len(Handler.hits) == hits


def test_a_cached_file_that_fails_its_checksum_is_downloaded_again(server, sums, tmp_path, contents):
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    damaged = tmp_path / "t10k-labels-idx1-ubyte.gz"
    damaged.write_bytes(gzip.compress(contents["t10k-labels-idx1-ubyte"][:-1] + b"\x09"))
    Handler.hits = []
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert Handler.hits == ["/good/t10k-labels-idx1-ubyte.gz"]
    assert gzip.decompress(damaged.read_bytes()) == contents["t10k-labels-idx1-ubyte"]


FAILING = ["corrupt", "wrong", "404", "503", "truncated", "html", "huge", "drip", "endless", "hang"]


@pytest.mark.parametrize("mode", FAILING)
def test_a_failing_mirror_is_skipped_and_the_next_one_used(server, sums, tmp_path, mode):
    start = time.monotonic()
    mn.download_mnist(
        tmp_path, mirrors=[f"{server}/{mode}/", f"{server}/good/"], timeout=1, deadline=1.5, progress=False
    )
    assert time.monotonic() - start < 4 * 3.0  # four files, each bounded by timeout + deadline
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    assert any(h.startswith(f"/{mode}/") for h in Handler.hits)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("corrupt", "checksum mismatch"),
        ("wrong", "checksum mismatch"),
        ("404", "HTTP 404"),
        ("503", "HTTP 503"),
        ("truncated", "cut short"),
        ("html", "checksum"),
        ("huge", "announces"),
        ("drip", "deadline"),
        ("endless", "more than"),
        ("hang", "no answer"),
    ],
)
def test_when_every_mirror_fails_the_error_says_why_and_nothing_partial_is_left(
    server, sums, tmp_path, mode, reason
):
    start = time.monotonic()
    with pytest.raises(DownloadError, match=reason) as info:
        mn.download_mnist(tmp_path, mirrors=[f"{server}/{mode}/"], timeout=1, deadline=1.5, progress=False)
    assert time.monotonic() - start < 3.0
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_connection_is_a_download_error(sums, tmp_path):
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9"):
        mn.download_mnist(tmp_path, mirrors=["http://127.0.0.1:9/"], timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_known_checksums_reject_files_that_do_not_match_them(server, tmp_path):
    """With MNIST's real checksums, the test server's files are refused as a mismatch."""
    with pytest.raises(DownloadError, match="checksum mismatch"):
        mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_user_mirrors_from_the_environment_are_tried_before_the_public_ones(server, sums, monkeypatch):
    monkeypatch.setenv("BACKPROOF_MNIST_MIRRORS", f"{server}/404, {server}/good/")
    assert mn.mirror_list() == (f"{server}/404/", f"{server}/good/", *dl.MIRRORS)
    mn.download_mnist(mn.cache_dir(), timeout=5, progress=False)
    assert Handler.hits[0].startswith("/404/") and Handler.hits[1].startswith("/good/")


def test_the_mirrors_argument_replaces_every_other_mirror(server, sums, tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROOF_MNIST_MIRRORS", "http://127.0.0.1:9/")
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good"], timeout=5)
    assert all(h.startswith("/good/") for h in Handler.hits)


def test_a_file_url_mirror_works_like_a_folder_on_a_shared_drive(sums, tmp_path, payloads, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    share = tmp_path / "share"
    share.mkdir()
    for stem, body in payloads.items():
        (share / f"{stem}.gz").write_bytes(body)
    data = load_dataset(download=True, mirrors=[share.as_uri()])
    assert data.source.how == "download" and data.n_train == 12


@pytest.mark.parametrize("mirror", ["ftp://example.org/mnist/", "example.org/mnist", ""])
def test_a_mirror_that_is_not_a_url_is_refused(mirror, tmp_path):
    with pytest.raises(DownloadError, match="base URL"):
        mn.download_mnist(tmp_path, mirrors=[mirror])


def test_progress_on_stderr_names_the_mirror(server, sums, tmp_path, capsys):
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)  # stderr is not a terminal here
    err = capsys.readouterr().err
    host = server.removeprefix("http://")
    assert f"downloading train-images-idx3-ubyte.gz from {host}" in err
    assert err.count("downloading") == 4


def test_load_downloads_into_the_cache_when_nothing_is_found(server, sums, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    monkeypatch.setattr(dl, "MIRRORS", (f"{server}/503/", f"{server}/good/"))
    data = load_dataset()
    assert data.source.how == "download" and data.n_train == 12
    assert data.source.location == str(mn.cache_dir())
    assert mn.locate_mnist().how == "cache"  # the next call finds them without downloading


def test_load_falls_back_to_the_sample_when_every_mirror_fails(server, sums, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    monkeypatch.setattr(dl, "MIRRORS", (f"{server}/404/",))
    with pytest.warns(SampleDataWarning, match="404"):
        data = load_dataset()
    assert data.source.kind == "sample"
    assert list(mn.cache_dir().iterdir()) == []


def _read_only(path, monkeypatch):
    """A read-only folder; as root (who ignores permission bits) the file system's answer is simulated."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o555)
    if os.access(path, os.W_OK):
        real_touch = pathlib.Path.touch

        def touch(self, *args, **kwargs):
            if self.parent == path:
                raise OSError(errno.EROFS, "Read-only file system", str(self))
            return real_touch(self, *args, **kwargs)

        monkeypatch.setattr(pathlib.Path, "touch", touch)


@pytest.mark.parametrize("case", ["cache is a file", "cache below a file", "read-only cache"])
def test_an_unusable_cache_falls_back_to_the_sample_naming_the_cache(
    server, sums, monkeypatch, tmp_path, case
):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    monkeypatch.setattr(dl, "MIRRORS", (f"{server}/good/",))
    if case == "cache is a file":
        (tmp_path / "c").write_text("not a folder")
        monkeypatch.setenv("BACKPROOF_CACHE", str(tmp_path / "c"))
    elif case == "cache below a file":
        (tmp_path / "f").write_text("not a folder")
        monkeypatch.setenv("BACKPROOF_CACHE", str(tmp_path / "f" / "sub"))
    else:
        _read_only(tmp_path / "ro" / "mnist", monkeypatch)
        monkeypatch.setenv("BACKPROOF_CACHE", str(tmp_path / "ro"))
    with pytest.warns(SampleDataWarning, match="cache folder") as record:
        data = load_dataset()
    assert data.source.kind == "sample"
    assert str(mn.cache_dir()) in str(record[0].message)
    assert "BACKPROOF_CACHE" in str(record[0].message)


def test_a_temporary_file_left_by_a_killed_download_is_removed_next_time(server, sums, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".train-images-idx3-ubyte.gz.{dead.pid}.backproof-tmp"
    stale.write_bytes(b"\0" * 1000)
    mine = tmp_path / f".other.{os.getpid()}.backproof-tmp"  # a live process's file is kept
    mine.write_bytes(b"")
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert not stale.exists() and mine.exists()


def test_sigterm_during_a_download_exits_143_and_leaves_no_temporary_file(server, sums, tmp_path, contents):
    sha = {s: hashlib.sha256(c).hexdigest() for s, c in contents.items()}
    sizes = {s: len(c) for s, c in contents.items()}
    script = textwrap.dedent(
        f"""
        import sys, backproof._download as dl, backproof.mnist as mn
        from backproof.cli import main
        dl.SHA256, dl.SIZES, dl.MIRRORS = {sha!r}, {sizes!r}, ("{server}/drip/",)
        mn._standard_places = lambda: []
        sys.exit(main(["show", "0", "--out", {str(tmp_path / "digit.png")!r}]))
        """
    )
    env = {**os.environ, "BACKPROOF_CACHE": str(tmp_path), "MPLBACKEND": "Agg"}
    env.pop("BACKPROOF_MNIST", None)
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    cache = tmp_path / "mnist"
    for _ in range(200):  # wait until the download has started writing
        if cache.is_dir() and any(p.name.endswith(".backproof-tmp") for p in cache.iterdir()):
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 143, err
    assert err.strip().splitlines()[-1].startswith("backproof: terminated")
    assert "Traceback" not in err
    assert list(cache.iterdir()) == []
