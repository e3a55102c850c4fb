"""Bad input of every kind gets one clear, documented error; nothing is lost or silently wrong.

Categories: IDX files, downloads (tests/test_download.py), arrays at the public API, training
settings, model files, the command line.
"""

import gzip
import os
import pickle
import struct
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backproof import (
    IDXFormatError,
    InputError,
    ModelFileError,
    backprop,
    cross_entropy,
    evaluate,
    forward,
    init_shallow,
    load_mnist,
    misclassification,
    normalize,
    one_hot,
    read_idx,
    softmax,
)
from backproof.cli import main
from backproof.model_io import load_model, save_model
from helpers import idx_bytes, write_mnist

IMAGES = idx_bytes((np.arange(2 * 28 * 28) % 256).astype(np.uint8).reshape(2, 28, 28))
LABELS = idx_bytes(np.array([3, 7], dtype=np.uint8))

# ----------------------------------------------------------------------------- IDX files

BAD_IDX = {
    "empty file": (b"", "empty"),
    "wrong magic number": (b"\x12\x34" + IMAGES[2:], "magic"),
    "wrong type code": (IMAGES[:2] + b"\x0d" + IMAGES[3:], "type code"),
    "truncated data": (IMAGES[:-100], "truncated"),
    "truncated header": (IMAGES[:9], "truncated"),
    "header count larger than the data": (IMAGES[:4] + struct.pack(">I", 3) + IMAGES[8:], "truncated"),
    "header count smaller than the data": (
        IMAGES[:4] + struct.pack(">I", 1) + IMAGES[8:],
        "longer than its header",
    ),
    "trailing bytes": (IMAGES + b"\x00", "longer than its header"),
    "zero dimension": (IMAGES[:4] + struct.pack(">I", 0) + IMAGES[8:16], "empty dimension"),
    "forged huge header": (IMAGES[:4] + struct.pack(">III", 2**32 - 1, 2**16, 2**16), "no MNIST file"),
    "HTML page saved under an IDX name": (b"<!DOCTYPE html><html><body>Not Found</body></html>", "HTML"),
    "labels where images are expected": (LABELS, "swapped"),
}


@pytest.mark.parametrize("case", list(BAD_IDX), ids=list(BAD_IDX))
@pytest.mark.parametrize("compress", [False, True], ids=["raw", "gz"])
def test_bad_idx_file_raises_idx_format_error_naming_file_and_reason(tmp_path, case, compress):
    data, reason = BAD_IDX[case]
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(gzip.compress(data) if compress else data)
    with pytest.raises(IDXFormatError, match=reason) as info:
        read_idx(path, ndim=3)
    assert str(path) in str(info.value) and isinstance(info.value, ValueError)


def test_corrupted_gzip_raises_idx_format_error(tmp_path):
    packed = bytearray(gzip.compress(IMAGES))
    packed[len(packed) // 2] ^= 0xFF
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(IDXFormatError, match=r"gzip|truncated|longer"):
        read_idx(path, ndim=3)


def test_truncated_gzip_stream_raises_idx_format_error(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(IMAGES)[:-20])
    with pytest.raises(IDXFormatError):
        read_idx(path, ndim=3)


def test_image_and_label_counts_that_disagree_are_refused(tmp_path):
    write_mnist(tmp_path, n_train=5, n_test=3, style="raw")
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(idx_bytes(np.zeros(4, np.uint8)))
    with pytest.raises(IDXFormatError, match="4 labels for 5 images"):
        load_mnist("train", tmp_path)


def test_labels_above_9_are_refused(tmp_path):
    write_mnist(tmp_path, n_train=5, n_test=3, style="raw")
    (tmp_path / "t10k-labels-idx1-ubyte").write_bytes(idx_bytes(np.array([1, 2, 12], np.uint8)))
    with pytest.raises(IDXFormatError, match="label 12"):
        load_mnist("test", tmp_path)


def test_images_that_are_not_28_by_28_are_refused(tmp_path):
    write_mnist(tmp_path, n_train=5, n_test=3, style="raw")
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(np.zeros((5, 20, 20), np.uint8)))
    with pytest.raises(IDXFormatError, match="not 28 x 28"):
        load_mnist("train", tmp_path)


def read_fuzzed(tmp_path, data: bytes, compress: bool):
    """Write ``data`` (gzipped or not) and read it: the array, or None after an IDXFormatError.

    Any other exception propagates and fails the fuzz test.
    """
    path = tmp_path / "fuzz"
    path.write_bytes(gzip.compress(data) if compress else data)
    try:
        return read_idx(path)
    except IDXFormatError:
        return None


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=400), compress=st.booleans())
def test_fuzz_random_bytes_only_ever_raise_idx_format_error(tmp_path, data, compress):
    out = read_fuzzed(tmp_path, data, compress)
    if out is None:
        return
    assert out.dtype == np.uint8 and out.size == len(data) - 4 - 4 * out.ndim


@settings(max_examples=300, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    pos=st.integers(0, 15),
    value=st.integers(0, 255),
    cut=st.integers(0, len(IMAGES)),
    compress=st.booleans(),
)
def test_fuzz_mutated_valid_headers_only_ever_raise_idx_format_error(tmp_path, pos, value, cut, compress):
    data = bytearray(IMAGES)
    data[pos] = value
    data = bytes(data[:cut]) if cut < len(IMAGES) else bytes(data)
    out = read_fuzzed(tmp_path, data, compress)
    if out is None:
        return
    assert out.nbytes <= len(data)  # never more than the file holds


# ----------------------------------------------------------------------------- arrays at the API


@pytest.fixture(scope="module")
def net():
    return init_shallow(784, 8, 10, seed=0)


ARRAY_CASES = {
    "images as (N, 784)": (lambda p: forward(p, np.zeros((5, 784), np.float32)), "transposed"),
    "images with NaN": (lambda p: forward(p, np.full((784, 2), np.nan, np.float32)), "NaN"),
    "images with Inf": (lambda p: forward(p, np.full((784, 2), np.inf, np.float32)), "infinite"),
    "images of the wrong size": (lambda p: forward(p, np.zeros((780, 2), np.float32)), "784 rows"),
    "images as strings": (lambda p: forward(p, np.array([["a"]])), "numeric"),
    "labels above 9": (lambda p: one_hot(np.array([0, 10])), r"0\.\.9"),
    "negative labels": (lambda p: one_hot(np.array([-1, 3])), r"0\.\.9"),
    "fractional labels": (lambda p: one_hot(np.array([1.5])), "whole"),
    "labels as a matrix": (lambda p: one_hot(np.zeros((2, 2), int)), "1-D"),
    "labels and images of different lengths": (
        lambda p: evaluate(p, np.zeros((784, 3), np.float32), np.array([1, 2])),
        "samples",
    ),
    "targets with the wrong number of rows": (
        lambda p: backprop(p, np.zeros((784, 2)), np.zeros((9, 2))),
        "10 rows",
    ),
    "normalising floats": (lambda p: normalize(np.zeros((784, 2), np.float32)), "uint8"),
    "y and d of different shapes": (
        lambda p: cross_entropy(np.ones((10, 2)), np.ones((10, 3))),
        "same shape",
    ),
    "logits with NaN": (lambda p: softmax(np.array([[np.nan], [0.0]])), "NaN"),
    "labels for misclassification out of range": (
        lambda p: misclassification(np.ones((10, 2)), np.array([0, 11])),
        r"0\.\.9",
    ),
    "3-D images": (lambda p: forward(p, np.zeros((784, 2, 2))), "2-D"),
}


@pytest.mark.parametrize("case", list(ARRAY_CASES), ids=list(ARRAY_CASES))
def test_bad_arrays_raise_input_error_saying_what_was_expected(net, case):
    call, message = ARRAY_CASES[case]
    with pytest.raises(InputError, match=message):
        call(net)


# ----------------------------------------------------------------------------- model files


def test_save_is_atomic_an_interrupted_write_leaves_the_old_model(tmp_path, monkeypatch):
    path = save_model(tmp_path / "m.npz", init_shallow(784, 4, 10, seed=1))
    before = path.read_bytes()

    def boom(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(KeyboardInterrupt):
        save_model(path, init_shallow(784, 4, 10, seed=2))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


def test_loading_a_pickle_cannot_run_code(tmp_path):
    marker = tmp_path / "ran"

    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    path = tmp_path / "evil.npz"
    np.savez(
        path,
        header=np.array('{"format": "backproof-shallow-v1"}'),
        W1=np.array([Evil()], dtype=object),
        b1=np.zeros(2),
        W2=np.zeros((10, 2)),
        b2=np.zeros(10),
    )
    with pytest.raises(ModelFileError):
        load_model(path)
    assert not marker.exists()
    raw = tmp_path / "raw.npz"
    raw.write_bytes(pickle.dumps(Evil()))
    with pytest.raises(ModelFileError):
        load_model(raw)
    assert not marker.exists()


@pytest.mark.parametrize(
    "arrays",
    [
        {"W1": np.zeros((4, 784)), "b1": np.zeros(5), "W2": np.zeros((10, 4)), "b2": np.zeros(10)},
        {"W1": np.zeros((4, 784)), "b1": np.zeros(4), "W2": np.zeros((10, 4))},
        {"W1": np.full((4, 784), np.nan), "b1": np.zeros(4), "W2": np.zeros((10, 4)), "b2": np.zeros(10)},
        {"W1": np.zeros((4, 784), int), "b1": np.zeros(4), "W2": np.zeros((10, 4)), "b2": np.zeros(10)},
    ],
    ids=["inconsistent shapes", "missing array", "NaN weights", "integer weights"],
)
def test_invalid_model_files_are_refused(tmp_path, arrays):
    path = tmp_path / "m.npz"
    np.savez(path, header=np.array('{"format": "backproof-shallow-v1"}'), **arrays)
    with pytest.raises(ModelFileError):
        load_model(path)


def test_a_file_that_is_not_a_model_is_refused(tmp_path):
    path = tmp_path / "m.npz"
    path.write_text("hello")
    with pytest.raises(ModelFileError, match="not a readable"):
        load_model(path)
    with pytest.raises(ModelFileError, match="does not exist"):
        load_model(tmp_path / "missing.npz")


# ----------------------------------------------------------------------------- command line

CLI_CASES = {
    "unknown command": ["fly"],
    "unknown flag": ["train", "--speed", "3"],
    "bad mode": ["train", "--mode", "turbo"],
    "batch size 0": ["train", "--batch-size", "0"],
    "negative learning rate": ["train", "--lr", "-0.1"],
    "learning rate not a number": ["train", "--lr", "fast"],
    "negative epochs": ["train", "--epochs", "-1"],
    "missing data directory": ["train", "--data", "/nonexistent/mnist"],
    "save into a missing directory": ["train", "--save", "/nonexistent/dir/m.npz"],
    "json into a missing directory": ["train", "--json", "/nonexistent/dir/r.json"],
    "show index out of range": ["show", "999999", "--data", "{tiny}"],
    "corrupt data file": ["train", "--data", "{corrupt}"],
}


@pytest.fixture(scope="module")
def cli_dirs(tmp_path_factory):
    tiny = tmp_path_factory.mktemp("tiny")
    write_mnist(tiny, n_train=20, n_test=5)
    corrupt = tmp_path_factory.mktemp("corrupt")
    write_mnist(corrupt, n_train=20, n_test=5)
    (corrupt / "train-images-idx3-ubyte.gz").write_bytes(b"<html>503 Service Unavailable</html>")
    return {"tiny": str(tiny), "corrupt": str(corrupt)}


@pytest.mark.parametrize("case", list(CLI_CASES), ids=list(CLI_CASES))
def test_cli_bad_input_exits_2_with_one_line_and_no_traceback(case, cli_dirs):
    args = [a.format(**cli_dirs) for a in CLI_CASES[case]]
    proc = subprocess.run(
        [sys.executable, "-m", "backproof", *args], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "error" in err[0]


def test_cli_debug_shows_the_traceback(cli_dirs):
    proc = subprocess.run(
        [sys.executable, "-m", "backproof", "--debug", "train", "--data", cli_dirs["corrupt"]],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode != 0 and "Traceback" in proc.stderr


def test_cli_main_returns_2_for_a_diverging_run(cli_dirs, capsys):
    assert main(["train", "--iterations", "20", "--lr", "1e30", "--data", cli_dirs["tiny"]]) == 2
    assert "learning rate" in capsys.readouterr().err
