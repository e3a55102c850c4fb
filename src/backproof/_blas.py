r"""``C += alpha * A @ B`` in one BLAS call, where NumPy's own BLAS can be reached; NumPy otherwise.

NumPy's ``matmul`` always writes a fresh product: ``W -= (γ/B) δ hᵀ`` costs a product into a
buffer and then a pass over ``W``, which for the first layer's ``(n_1, 784)`` matrix is a
large share of a minibatch step. BLAS's ``gemm`` computes ``C = alpha A B + beta C`` and so
does the update in the product itself (PyTorch's ``addmm_``). This module finds ``cblas_sgemm``
and ``cblas_dgemm`` in the BLAS library that NumPy's wheels bundle (``scipy-openblas``), calls
them through :mod:`ctypes`, and falls back to ``C -= ...`` through NumPy when that library is
not there or the arrays are not laid out for it. Both paths are tested to agree.

Non-goals: other BLAS routines, complex numbers, building against a BLAS.
"""

from __future__ import annotations

import ctypes
import glob
import os

import numpy as np

__all__ = ["addmm", "available"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _load():
    """The (sgemm, dgemm) pair of NumPy's bundled OpenBLAS, or None."""
    if os.environ.get("BACKPROOF_NO_BLAS"):
        return None
    root = os.path.dirname(os.path.dirname(np.__file__))
    candidates = []
    for pattern in ("numpy.libs/libscipy_openblas*", "numpy/.dylibs/libscipy_openblas*"):
        candidates += sorted(glob.glob(os.path.join(root, pattern)))
    for path in candidates:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix, index in (("scipy_", "64_", ctypes.c_int64), ("scipy_", "", ctypes.c_int)):
            try:
                sgemm = getattr(lib, f"{prefix}cblas_sgemm{suffix}")
                dgemm = getattr(lib, f"{prefix}cblas_dgemm{suffix}")
            except AttributeError:
                continue
            for fn, real in ((sgemm, ctypes.c_float), (dgemm, ctypes.c_double)):
                fn.restype = None
                fn.argtypes = [ctypes.c_int] * 3 + [index] * 3 + [real, ctypes.c_void_p, index]
                fn.argtypes += [ctypes.c_void_p, index, real, ctypes.c_void_p, index]
            return {np.dtype(np.float32): sgemm, np.dtype(np.float64): dgemm}
    return None


_GEMM = _load()


def available() -> bool:
    """Whether the one-call path is in use (NumPy's bundled OpenBLAS was found)."""
    return _GEMM is not None


def _operand(a: np.ndarray):
    """(trans flag, leading dimension) of a 2-D array for row-major BLAS, or None."""
    item = a.itemsize
    s0, s1 = a.strides
    if s1 == item and s0 >= max(1, a.shape[1]) * item and s0 % item == 0:
        return _NO_TRANS, s0 // item
    if s0 == item and s1 >= max(1, a.shape[0]) * item and s1 % item == 0:
        return _TRANS, s1 // item
    return None


def addmm(C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> None:
    r"""In place, :math:`C \leftarrow C + \alpha A B` (``C`` C-contiguous; ``A``, ``B`` any 2-D layout)."""
    gemm = _GEMM and _GEMM.get(C.dtype)
    if gemm is not None and C.flags.c_contiguous and A.dtype == B.dtype == C.dtype:
        a, b = _operand(A), _operand(B)
        if a is not None and b is not None and min(C.shape + A.shape) > 0:
            M, N = C.shape
            gemm(_ROW_MAJOR, a[0], b[0], M, N, A.shape[1], alpha, A.ctypes.data, a[1],
                 B.ctypes.data, b[1], 1.0, C.ctypes.data, N)  # fmt: skip
            return
    C += C.dtype.type(alpha) * (A @ B)
