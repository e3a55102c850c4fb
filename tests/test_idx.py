"""The IDX reader: round trips of files the tests write, and the real MNIST files."""

import gzip

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backproof import IDXFormatError, read_idx
from helpers import idx_bytes


@settings(max_examples=40, deadline=None)
@given(
    arr=arrays(np.uint8, st.tuples(st.integers(1, 5), st.integers(1, 7), st.integers(1, 7))),
    compress=st.booleans(),
)
def test_read_idx_returns_what_was_written_raw_or_gz(tmp_path_factory, arr, compress):
    path = tmp_path_factory.mktemp("idx") / "f"
    data = idx_bytes(arr)
    path.write_bytes(gzip.compress(data) if compress else data)
    out = read_idx(path, ndim=3)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, arr)


def test_read_idx_result_is_writable(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.arange(5, dtype=np.uint8)))
    out = read_idx(path, ndim=1)
    out[0] = 9
    assert out[0] == 9


def test_real_mnist_files_have_the_documented_shapes_and_labels(mnist_dir):
    """Facts from the data README: label 42 is 7 (train) and 4 (test), and the class counts."""
    train_lbl = read_idx(mnist_dir / "train-labels-idx1-ubyte.gz", ndim=1)
    test_lbl = read_idx(mnist_dir / "t10k-labels-idx1-ubyte.gz", ndim=1)
    train_img = read_idx(mnist_dir / "train-images-idx3-ubyte.gz", ndim=3)
    assert train_img.shape == (60000, 28, 28)
    assert train_lbl[42] == 7 and test_lbl[42] == 4
    assert np.bincount(train_lbl).tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert np.bincount(test_lbl).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_real_mnist_decompressed_contents_match_published_sha256(mnist_dir):
    import hashlib

    expected = "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"
    raw = gzip.decompress((mnist_dir / "train-labels-idx1-ubyte.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == expected
    np.testing.assert_array_equal(
        read_idx(mnist_dir / "train-labels-idx1-ubyte.gz"), np.frombuffer(raw[8:], np.uint8)
    )


def test_wrong_number_of_dimensions_names_the_swap(tmp_path):
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(IDXFormatError, match="swapped"):
        read_idx(path, ndim=3)
