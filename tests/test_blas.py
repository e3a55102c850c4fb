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
