"""Saving and loading models: atomic writes, any depth, and model files as untrusted input.

Categories: round trips (shallow, deep, old shallow files); what save refuses (NaN weights,
non-JSON meta, bad paths); forged files that load_model must refuse before allocating (huge
declared sizes, nested or oversized headers, zip bombs, sizes that disagree, wrong dtypes or
members); fuzzed bytes of a valid model file.
"""

import io
import os
import stat
import tracemalloc
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backproof import ModelFileError, OutputError, Parameters, init_shallow
from backproof.model_io import load_model, save_model
from backproof.network import init_network

V1 = '{"format": "backproof-shallow-v1"}'


def npy(shape=(2, 3), descr="<f8", body=None, fortran=False, header=None):
    """The bytes of an .npy member, possibly lying about its shape (the test's own writer)."""
    buf = io.BytesIO()
    if header is None:
        np.lib.format.write_array_header_1_0(buf, {"descr": descr, "fortran_order": fortran, "shape": shape})
    else:
        text = header.encode("latin1")
        text += b" " * (63 - (10 + len(text)) % 64) + b"\n"
        buf.write(np.lib.format.MAGIC_PREFIX + b"\x01\x00" + len(text).to_bytes(2, "little") + text)
    if body is None:
        body = np.zeros(shape, dtype=np.dtype(descr)).tobytes()
    return buf.getvalue() + body


def write_zip(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return path


def good_members(Nh=4):
    head = np.array(V1)
    buf = io.BytesIO()
    np.lib.format.write_array(buf, head)
    return {
        "header.npy": buf.getvalue(),
        "W1.npy": npy((Nh, 784)),
        "b1.npy": npy((Nh,)),
        "W2.npy": npy((10, Nh)),
        "b2.npy": npy((10,)),
    }


# ----------------------------------------------------------------------------- round trips


def test_save_then_load_round_trips_parameters_and_meta(tmp_path):
    p = init_shallow(784, 16, 10, seed=1)
    path = save_model(tmp_path / "m.npz", p, {"seed": 1})
    q, meta = load_model(path)
    np.testing.assert_array_equal(p.W1, q.W1)
    assert meta == {"seed": 1}
    assert [f.name for f in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", "leaky_relu"])
def test_a_model_of_any_depth_round_trips_with_its_activation(tmp_path, activation):
    p = init_network([784, 32, 16, 8, 10], activation=activation, seed=3)
    q, _ = load_model(save_model(tmp_path / "deep.npz", p))
    assert q.sizes == (784, 32, 16, 8, 10) and q.activation == activation
    for a, b in zip(p.arrays().values(), q.arrays().values()):
        np.testing.assert_array_equal(a, b)


def test_an_old_shallow_file_still_loads_as_relu(tmp_path):
    p = init_shallow(784, 8, 10, seed=2)
    np.savez(tmp_path / "old.npz", header=np.array(V1), **p.arrays())
    q, meta = load_model(tmp_path / "old.npz")
    assert q.sizes == (784, 8, 10) and q.activation == "relu" and meta == {}
    np.testing.assert_array_equal(q.W2, p.W2)


def test_fortran_ordered_and_compressed_arrays_load_correctly(tmp_path):
    p = init_shallow(784, 4, 10, seed=4)
    arrays = {k: np.asfortranarray(v) for k, v in p.arrays().items()}
    np.savez_compressed(tmp_path / "f.npz", header=np.array(V1), **arrays)
    q, _ = load_model(tmp_path / "f.npz")
    np.testing.assert_array_equal(q.W1, p.W1)


def test_save_adds_npz_and_respects_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        path = save_model(tmp_path / "m", init_shallow(784, 4, 10))
    finally:
        os.umask(old)
    assert path.name == "m.npz" and stat.S_IMODE(path.stat().st_mode) == 0o640


# ----------------------------------------------------------------------------- what save refuses


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_save_refuses_non_finite_weights_and_writes_nothing(tmp_path, bad):
    p = init_shallow(784, 4, 10)
    p.W2[3, 1] = bad
    with pytest.raises(ModelFileError, match=r"W2 holds NaN or infinite"):
        save_model(tmp_path / "m.npz", p)
    assert list(tmp_path.iterdir()) == []


def test_save_refuses_meta_that_is_not_strict_json(tmp_path):
    with pytest.raises(ModelFileError, match="JSON"):
        save_model(tmp_path / "m.npz", init_shallow(784, 4, 10), {"loss": float("nan")})
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("where", ["missing folder", "a folder", "empty name"])
def test_save_to_a_bad_path_is_refused_naming_it(tmp_path, where):
    path = {"missing folder": tmp_path / "no" / "m.npz", "a folder": tmp_path, "empty name": ""}[where]
    with pytest.raises(OutputError, match=r"does not exist|existing folder|file name"):
        save_model(path, init_shallow(784, 4, 10))


# ----------------------------------------------------------------------------- untrusted files


def test_load_model_on_a_folder_says_it_is_a_folder(tmp_path):
    with pytest.raises(ModelFileError, match="is a folder") as info:
        load_model(tmp_path)
    assert str(tmp_path) in str(info.value)


FORGED = {
    "petabytes declared in a 1 KB file": (
        lambda m: {**m, "W1.npy": npy((2**23, 2**23 * 784 // 784 * 6), body=b"")},
        "declares",
    ),
    "shape larger than the data": (lambda m: {**m, "W1.npy": npy((4, 784), body=b"\0" * 80)}, "declares"),
    "data longer than the shape": (lambda m: {**m, "b1.npy": npy((4,), body=b"\0" * 64)}, "declares"),
    "deeply nested header": (
        lambda m: {**m, "W1.npy": npy(header="{'descr': " + "[" * 500 + "]" * 500 + "}", body=b"")},
        "nested",
    ),
    "oversized header": (
        lambda m: {**m, "W1.npy": npy(header="{'descr': '<f8', 'x': '" + "a" * 60000 + "'}", body=b"")},
        "header of",
    ),
    "object dtype (pickle)": (lambda m: {**m, "W1.npy": npy((4, 784), descr="|O", body=b"")}, "objects"),
    "integer weights": (lambda m: {**m, "W1.npy": npy((4, 784), descr="<i8")}, "dtype"),
    "half-precision weights": (lambda m: {**m, "W1.npy": npy((4, 784), descr="<f2")}, "dtype"),
    "3-D weights": (lambda m: {**m, "W1.npy": npy((4, 784, 1))}, "shape"),
    "unexpected member": (lambda m: {**m, "run_me.py": b"print(1)"}, "unexpected member"),
    "missing bias": (lambda m: {k: v for k, v in m.items() if k != "b2.npy"}, "missing or extra"),
    "missing header": (lambda m: {k: v for k, v in m.items() if k != "header.npy"}, "lacks header"),
    "layers that do not chain": (lambda m: {**m, "W2.npy": npy((10, 5))}, "inconsistent shapes"),
    "bias of the wrong length": (lambda m: {**m, "b2.npy": npy((9,))}, "inconsistent shapes"),
    "not an npy member": (lambda m: {**m, "W1.npy": b"PK\x03\x04 not numpy"}, "not a NumPy array"),
    "npy version 3": (lambda m: {**m, "b1.npy": b"\x93NUMPY\x03\x00" + m["b1.npy"][8:]}, "version"),
    "truncated header": (lambda m: {**m, "b1.npy": m["b1.npy"][:12]}, "truncated"),
}


@pytest.mark.parametrize("case", list(FORGED), ids=list(FORGED))
def test_a_forged_model_file_is_refused_before_allocating(tmp_path, case):
    make, reason = FORGED[case]
    path = write_zip(tmp_path / "forged.npz", make(good_members()))
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=reason) as info:
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20, peak  # never more than a few MB, whatever the file declares
    assert str(path) in str(info.value)


def test_a_zip_bomb_is_refused_without_inflating_it(tmp_path):
    members = good_members()
    members["W1.npy"] = npy((4096, 16384), body=None)  # 512 MiB of zeros, deflated to ~0.5 MB
    path = write_zip(tmp_path / "bomb.npz", members, zipfile.ZIP_DEFLATED)
    assert path.stat().st_size < 2**20
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match="zip bomb"):
            load_model(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 * 2**20


def test_a_model_larger_than_max_bytes_is_refused_and_accepted_when_allowed(tmp_path):
    path = save_model(tmp_path / "m.npz", init_shallow(784, 64, 10))
    with pytest.raises(ModelFileError, match="max_bytes"):
        load_model(path, max_bytes=100_000)
    assert load_model(path, max_bytes=10**6)[0].sizes == (784, 64, 10)


@pytest.mark.parametrize(
    "header",
    [
        '{"format": "something-else"}',
        "[1, 2]",
        "not json",
        '{"format": "backproof-model-v2", "activation": 3}',
        '{"format": "backproof-model-v2", "activation": "swish"}',
    ],
    ids=["unknown format", "not a dict", "not JSON", "activation not a name", "unknown activation"],
)
def test_a_bad_header_is_refused(tmp_path, header):
    p = init_shallow(784, 4, 10)
    np.savez(tmp_path / "m.npz", header=np.array(header), **p.arrays())
    with pytest.raises(ModelFileError):
        load_model(tmp_path / "m.npz")


@settings(max_examples=200, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(pos=st.integers(0, 10**6), value=st.integers(0, 255), cut=st.integers(0, 10**6))
def test_fuzz_damaged_model_files_only_ever_raise_model_file_error(tmp_path, pos, value, cut):
    good = tmp_path / "good.npz"
    if not good.exists():
        save_model(good, init_shallow(784, 2, 10, seed=0))
    data = bytearray(good.read_bytes())
    data[pos % len(data)] = value
    data = data[: max(cut % (len(data) + 1), 0)] if cut % 3 == 0 else data
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    try:
        params, _ = load_model(bad)
    except ModelFileError:
        return
    assert isinstance(params, Parameters) and all(np.all(np.isfinite(v)) for v in params.arrays().values())


@pytest.mark.parametrize("flag", ["encrypted", "unknown compression"])
def test_a_member_that_zipfile_cannot_read_is_refused(tmp_path, flag):
    path = write_zip(tmp_path / "m.npz", good_members())
    raw = bytearray(path.read_bytes())
    for marker, name_offset, flags_offset in ((b"PK\x03\x04", 30, 6), (b"PK\x01\x02", 46, 8)):
        at = 0
        while (at := raw.find(marker, at)) >= 0:  # b1.npy's entry in the local and central headers
            if raw[at + name_offset : at + name_offset + 6] == b"b1.npy":
                if flag == "encrypted":
                    raw[at + flags_offset] |= 0x1
                else:
                    raw[at + flags_offset + 2 : at + flags_offset + 4] = (99).to_bytes(2, "little")
            at += 4
    path.write_bytes(bytes(raw))
    with pytest.raises(ModelFileError, match="not a readable"):
        load_model(path)
