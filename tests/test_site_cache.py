"""The site's execution cache: a change in backproof's source or in the data re-executes the pages.

MyST-NB's jupyter-cache keys a notebook by its code only; ``docs/_ext/backproof_site.py`` puts
the cache in a directory named after the library's source and the data's bytes. These tests tie
that name to exactly those inputs.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import time
from pathlib import Path

import backproof

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("backproof_site", ROOT / "docs" / "_ext" / "backproof_site.py")
site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site)


def _copy_package(tmp_path: Path) -> Path:
    target = tmp_path / "backproof"
    shutil.copytree(Path(backproof.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def test_source_digest_is_the_same_for_a_byte_identical_copy_of_the_package(tmp_path):
    assert site.source_digest(_copy_package(tmp_path)) == site.source_digest()


def test_source_digest_changes_when_any_library_file_changes_even_by_a_comment(tmp_path):
    package = _copy_package(tmp_path)
    before = site.source_digest(package)
    with (package / "softmax.py").open("a") as f:
        f.write("\n# a comment\n")
    assert site.source_digest(package) != before


def test_source_digest_sees_files_in_subpackages_and_new_files(tmp_path):
    package = _copy_package(tmp_path)
    before = site.source_digest(package)
    sub = package / "symbolic_extra"
    sub.mkdir()
    (sub / "new_identity.py").write_text("X = 1\n")
    assert site.source_digest(package) != before


def _idx_dir(path: Path, payload: bytes) -> Path:
    path.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (path / name).write_bytes(payload + name.encode())
    return path


def test_data_digest_depends_on_the_files_bytes_not_on_where_they_are(tmp_path):
    a = _idx_dir(tmp_path / "one" / "place", b"same bytes")
    b = _idx_dir(tmp_path / "another", b"same bytes")
    c = _idx_dir(tmp_path / "third", b"other bytes")
    digest = {p: site.data_digest(backproof.DataSource("full", str(p), "path")) for p in (a, b, c)}
    assert digest[a] == digest[b]
    assert digest[a] != digest[c]


def test_data_digest_tells_the_offline_sample_from_the_full_set(tmp_path):
    full = site.data_digest(backproof.DataSource("full", str(_idx_dir(tmp_path / "d", b"x")), "path"))
    sample = site.data_digest(backproof.DataSource("sample", "mnist_5k.csv.gz", "offline sample"))
    assert full != sample


def test_execution_cache_is_one_directory_per_source_and_data_and_old_ones_are_pruned(tmp_path):
    root = tmp_path / "cache"
    first = site.execution_cache(root, source="s1", data="d1")
    assert site.execution_cache(root, source="s1", data="d1") == first
    assert site.execution_cache(root, source="s2", data="d1") != first
    assert site.execution_cache(root, source="s1", data="d2") != first
    made = []
    for k in range(site.KEEP_CACHES + 3):
        path = site.execution_cache(root, source=f"v{k}", data="d")
        path.mkdir()
        os.utime(path, (time.time() + k, time.time() + k))  # newer each time
        made.append(path)
    current = site.execution_cache(root, source="now", data="d")
    left = sorted(p for p in root.iterdir() if p.is_dir())
    assert current not in left  # created by jupyter-cache later, not by us
    assert left == sorted(made[-site.KEEP_CACHES :])
