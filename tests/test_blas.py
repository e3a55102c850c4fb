"""_blas.addmm: C += alpha A B in one BLAS call where NumPy's OpenBLAS is found, NumPy otherwise."""

import numpy as np
import pytest

from backproof import _blas


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("a_transposed", [False, True])
@pytest.mark.parametrize("b_transposed", [False, True])
def test_addmm_adds_the_scaled_product_for_every_layout_on_both_paths(
    one_call, dtype, a_transposed, b_transposed
):
    rng = np.random.default_rng(0)
    A = rng.standard_normal((3, 7)).T if a_transposed else rng.standard_normal((7, 3))
    B = rng.standard_normal((5, 3)).T if b_transposed else rng.standard_normal((3, 5))
    A, B = A.astype(dtype), B.astype(dtype)
    C = rng.standard_normal((7, 5)).astype(dtype)
    want = C.astype(np.float64) - 0.25 * (A.astype(np.float64) @ B.astype(np.float64))
    _blas.addmm(C, A, B, -0.25)
    np.testing.assert_allclose(C, want, rtol=1e-5 if dtype == np.float32 else 1e-13, atol=1e-6)


def test_addmm_falls_back_for_a_strided_view():
    rng = np.random.default_rng(1)
    A = rng.standard_normal((8, 6))[::2, ::2]  # neither row- nor column-contiguous
    B = rng.standard_normal((3, 2))
    C = np.zeros((4, 2))
    _blas.addmm(C, A, B, 1.0)
    np.testing.assert_allclose(C, A @ B, rtol=1e-14)


def test_the_one_call_path_is_used_exactly_when_numpy_bundles_scipy_openblas():
    # NumPy's wheels bundle scipy-openblas; other builds (conda's MKL, Accelerate) use NumPy's path
    bundled = any(p.get("name", "").startswith("scipy-openblas") for p in _blas_configs())
    assert _blas.available() == bundled


def _blas_configs():
    cfg = np.show_config(mode="dicts").get("Build Dependencies", {})
    return [v for k, v in cfg.items() if k in ("blas", "lapack")]


@pytest.mark.parametrize("c_order", ["C", "F"])
@pytest.mark.parametrize(("alpha", "beta"), [(1.0, 0.0), (-1.0, 1.0), (0.5, 2.0)])
def test_bind_computes_alpha_ab_plus_beta_c_in_either_order_of_c_on_both_paths(
    one_call, c_order, alpha, beta
):
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 4)).astype(np.float32)
    B = np.asfortranarray(rng.standard_normal((4, 5)).astype(np.float32))
    C0 = rng.standard_normal((6, 5)).astype(np.float32)
    C = np.array(C0, order=c_order)
    if beta == 0:
        C[...] = np.nan  # never read when beta is 0
    want = alpha * (A.astype(np.float64) @ B) + (0.0 if beta == 0 else beta * C0.astype(np.float64))
    call = _blas.bind(C, A, B, alpha, beta)
    assert hasattr(call, "arrays") == one_call  # the one-call path holds the arrays' memory
    call()
    np.testing.assert_allclose(C, want, rtol=1e-5, atol=1e-5)


def test_a_bound_call_reads_what_its_arrays_hold_when_it_runs():
    A, B, C = np.eye(3, dtype=np.float32), np.ones((3, 2), np.float32), np.zeros((3, 2), np.float32)
    call = _blas.bind(C, A, B, 1.0, 0.0)
    B[...] = 7
    call()
    assert np.all(C == 7)


def test_bind_refuses_shapes_that_do_not_multiply():
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 5\)"):
        _blas.bind(np.zeros((2, 5)), np.zeros((2, 3)), np.zeros((4, 5)))


def test_a_read_only_c_is_refused_by_numpy_not_written_through():
    C = np.zeros((2, 2), np.float32)
    C.flags.writeable = False
    with pytest.raises(ValueError, match="read-only"):
        _blas.bind(C, np.eye(2, dtype=np.float32), np.eye(2, dtype=np.float32))()
    assert np.all(C == 0)


def test_numpy_2_2_or_later_bundles_an_openblas_with_gemm_batch_so_the_split_path_is_tested():
    # the blas_path fixture skips the split path only on an older OpenBLAS; CI's NumPy is newer
    major, minor = (int(v) for v in np.__version__.split(".")[:2])
    if _blas.available() and (major, minor) >= (2, 2):
        assert _blas._BATCH is not None


def _product(seed, m, k, n, orders="FFF", dtype=np.float32):
    """C (m, n), A (m, k), B (k, n), random, each aligned and in the order its letter gives."""
    rng = np.random.default_rng(seed)
    arrays = []
    for shape, order in zip(((m, n), (m, k), (k, n)), orders):
        a = _blas.empty_aligned(shape, dtype, order)
        a[...] = rng.standard_normal(shape)
        arrays.append(a)
    return arrays


@pytest.mark.parametrize("split", ["rows", "cols", "inner"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("orders", ["FFF", "CCC", "CFC", "FCF"])
def test_bind_cuts_a_large_product_by_rows_columns_or_inner_dimension_with_the_same_result(
    blas_path, split, dtype, orders
):
    C, A, B = _product(5, 256, 192, 128, orders, dtype)
    C0 = C.copy()
    call = _blas.bind(C, A, B, -0.5, 2.0, split=split)
    # 256 x 128 x 192 multiply-adds: two blocks of 3.1e6, above the crash-safe floor of 2e6
    assert getattr(call, "blocks", 1) == (2 if blas_path == "split" else 1)
    call()
    want = 2.0 * C0.astype(np.float64) - 0.5 * (A.astype(np.float64) @ B)
    tol = 2e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, want, rtol=tol, atol=tol * np.abs(want).max())


def test_a_split_product_that_is_called_again_reads_the_arrays_anew(monkeypatch):
    monkeypatch.setattr(_blas, "split_blocks", lambda: 2)
    C, A, B = _product(6, 256, 192, 128)
    call = _blas.bind(C, A, B, 1.0, 0.0, split="inner")
    assert getattr(call, "blocks", 1) == (1 if _blas._BATCH is None else 2)
    call()
    B *= 2  # the bound call holds the memory, not the values: the scratch sums are redone
    call()
    np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=2e-5, atol=1e-3)


def test_bind_does_not_split_a_product_small_enough_for_openblas_small_matrix_path(monkeypatch):
    # OpenBLAS 0.3.28-0.3.31 crash in gemm_batch for m n k <= 100**3 (DYNAMIC_ARCH builds)
    monkeypatch.setattr(_blas, "split_blocks", lambda: 2)
    C, A, B = _product(7, 128, 100, 64)
    for split in ("rows", "cols", "inner"):
        call = _blas.bind(C, A, B, 1.0, 0.0, split=split)
        assert not hasattr(call, "blocks")
        call()
        np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=1e-4, atol=1e-4)


def test_bind_does_not_split_where_two_threads_would_write_one_cache_line(monkeypatch):
    monkeypatch.setattr(_blas, "split_blocks", lambda: 2)
    # Fortran-ordered columns of 200 float32 (800 bytes, not a multiple of 128): cutting them
    # by rows puts a shared line in every column
    C, A, B = _product(8, 200, 192, 128)
    assert not hasattr(_blas.bind(C, A, B, 1.0, 0.0, split="rows"), "blocks")
    by_columns = _blas.bind(C, A, B, 1.0, 0.0, split="cols")  # one stretch of memory each
    assert getattr(by_columns, "blocks", None) == (None if _blas._BATCH is None else 2)


def test_bind_does_not_split_a_written_array_whose_blocks_would_start_inside_a_cache_line(
    monkeypatch,
):
    monkeypatch.setattr(_blas, "split_blocks", lambda: 2)
    C, A, B = _product(11, 256, 192, 128, "CFF")
    shifted = _blas.empty_aligned((256 * 128 + 1,), np.float32)[1:].reshape(256, 128)
    shifted[...] = C  # C order, one float past a boundary: every block starts mid-line
    assert not hasattr(_blas.bind(shifted, A, B, 1.0, 0.0, split="rows"), "blocks")
    aligned = _blas.bind(C, A, B, 1.0, 0.0, split="rows")
    assert getattr(aligned, "blocks", None) == (None if _blas._BATCH is None else 2)


@pytest.mark.parametrize(("k", "split"), [(125, False), (126, True)])
def test_bind_splits_only_above_twice_the_small_matrix_bound(monkeypatch, k, split):
    # blocks of 128 x 125 x k multiply-adds: exactly 2e6 for k = 125 (kept whole), 2.016e6 for 126
    monkeypatch.setattr(_blas, "split_blocks", lambda: 2)
    C, A, B = _product(12, 256, k, 125)
    call = _blas.bind(C, A, B, 1.0, 0.0, split="rows")
    assert hasattr(call, "blocks") == (split and _blas._BATCH is not None)
    call()
    np.testing.assert_allclose(C, A.astype(np.float64) @ B, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("threads", [3, 4, 8])
@pytest.mark.parametrize("split", ["rows", "cols", "inner"])
def test_bind_cuts_into_one_block_per_thread_with_inner_cuts_capped(monkeypatch, threads, split):
    monkeypatch.setattr(_blas, "split_blocks", lambda: threads)
    C, A, B = _product(13, 512, 512, 256)
    C0 = C.copy()
    call = _blas.bind(C, A, B, 1.0, 1.0, split=split)
    want = min(threads, _blas.MAX_INNER_BLOCKS) if split == "inner" else threads
    assert getattr(call, "blocks", None) == (None if _blas._BATCH is None else want)
    call()
    np.testing.assert_allclose(C, C0 + A.astype(np.float64) @ B, rtol=1e-4, atol=1e-3)


def test_empty_aligned_starts_on_an_align_boundary_in_either_order():
    for order in "CF":
        a = _blas.empty_aligned((7, 5), np.float32, order)
        assert a.ctypes.data % _blas.ALIGN == 0 and a.flags[f"{order}_CONTIGUOUS"]
