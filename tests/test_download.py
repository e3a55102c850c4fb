"""The download path, against an HTTP server on 127.0.0.1 that the tests start.

Cases: good files; a checksum mismatch (file discarded, next mirror tried, a clear error when
every mirror fails); HTTP 404 and 503; a transfer cut short; an HTML error page served as 200.
After each, nothing partial is left in the cache.
"""

import gzip
import hashlib
import http.server
import threading
import typing

import numpy as np
import pytest

import backproof.mnist as mn
from backproof import DownloadError, SampleDataWarning, load_dataset
from conftest import idx_bytes

STEMS = [stem for split in ("train", "test") for stem in mn.FILES[split]]


@pytest.fixture(scope="module")
def payloads():
    rng = np.random.default_rng(0)
    out = {}
    for stem in STEMS:
        n = 12 if stem.startswith("train") else 4
        arr = rng.integers(0, 256, (n, 28, 28)) if "images" in stem else rng.integers(0, 10, n)
        out[stem] = gzip.compress(idx_bytes(arr.astype(np.uint8)))
    return out


class Handler(http.server.BaseHTTPRequestHandler):
    payloads: typing.ClassVar[dict] = {}
    hits: typing.ClassVar[list] = []

    def log_message(self, *args):
        pass

    def do_GET(self):
        mode, name = self.path.strip("/").split("/", 1)
        self.hits.append(self.path)
        body = self.payloads.get(name.removesuffix(".gz"))
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
        elif mode == "truncated":
            self._send(200, body[: len(body) // 2], len(body))  # promise more than is sent
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
def server(payloads):
    Handler.payloads = payloads
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def md5(monkeypatch, payloads):
    """The served files' own MD5 sums stand in for the published ones."""
    monkeypatch.setattr(mn, "MD5", {s: hashlib.md5(p).hexdigest() for s, p in payloads.items()})
    Handler.hits = []


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".gz") or p.stat().st_size == 0)


def test_good_mirror_downloads_all_four_files_that_then_load(server, md5, tmp_path, payloads):
    directory = mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert sorted(p.name for p in directory.iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    data = load_dataset(directory)
    assert (data.n_train, data.n_test) == (12, 4)


def test_existing_good_files_are_not_downloaded_again(server, md5, tmp_path):
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    hits = len(Handler.hits)
    mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert len(Handler.hits) == hits


@pytest.mark.parametrize("mode", ["corrupt", "404", "503", "truncated", "html"])
def test_a_failing_mirror_is_skipped_and_the_next_one_used(server, md5, tmp_path, mode):
    mn.download_mnist(tmp_path, mirrors=[f"{server}/{mode}/", f"{server}/good/"], timeout=5)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{s}.gz" for s in STEMS)
    assert any(h.startswith(f"/{mode}/") for h in Handler.hits)
    for stem in STEMS:  # what is kept is the good file, byte for byte
        assert hashlib.md5((tmp_path / f"{stem}.gz").read_bytes()).hexdigest() == mn.MD5[stem]


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("corrupt", "checksum mismatch"),
        ("404", "404"),
        ("503", "503"),
        ("truncated", "IncompleteRead"),
        ("html", "checksum"),
    ],
)
def test_when_every_mirror_fails_the_error_says_why_and_nothing_partial_is_left(
    server, md5, tmp_path, mode, reason
):
    with pytest.raises(DownloadError, match=reason) as info:
        mn.download_mnist(tmp_path, mirrors=[f"{server}/{mode}/", f"{server}/{mode}/"], timeout=5)
    assert "train-images-idx3-ubyte.gz" in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_a_refused_connection_is_a_download_error(md5, tmp_path):
    with pytest.raises(DownloadError, match=r"127\.0\.0\.1:9"):
        mn.download_mnist(tmp_path, mirrors=["http://127.0.0.1:9/"], timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_published_checksums_reject_files_that_do_not_match_them(server, tmp_path):
    """With the real MD5 sums, the test server's files are refused as a mismatch."""
    with pytest.raises(DownloadError, match="checksum mismatch"):
        mn.download_mnist(tmp_path, mirrors=[f"{server}/good/"], timeout=5)
    assert list(tmp_path.iterdir()) == []


def test_load_downloads_into_the_cache_when_nothing_is_found(server, md5, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    monkeypatch.setattr(mn, "MIRRORS", (f"{server}/503/", f"{server}/good/"))
    data = load_dataset()
    assert data.source.how == "download" and data.n_train == 12
    assert data.source.location == str(mn.cache_dir())
    assert mn.locate_mnist().how == "cache"  # the next call finds them without downloading


def test_load_falls_back_to_the_sample_when_every_mirror_fails(server, md5, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    monkeypatch.setattr(mn, "MIRRORS", (f"{server}/404/",))
    with pytest.warns(SampleDataWarning, match="404"):
        data = load_dataset()
    assert data.source.kind == "sample"
    assert list(mn.cache_dir().iterdir()) == []
