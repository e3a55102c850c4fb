r"""``C = alpha * A @ B + beta * C`` in one BLAS call, where NumPy's own BLAS can be reached; NumPy otherwise.

NumPy's ``matmul`` always writes a fresh product: ``W -= (γ/B) δ hᵀ`` costs a product into a
buffer and then a pass over ``W``, which for the first layer's ``(n_1, 784)`` matrix is a
large share of a minibatch step. BLAS's ``gemm`` computes ``C = alpha A B + beta C`` and so
does the update in the product itself (PyTorch's ``addmm_``). This module finds ``cblas_sgemm``
and ``cblas_dgemm`` in the BLAS library that NumPy's wheels bundle (``scipy-openblas``) and calls
them through :mod:`ctypes`; when that library is not there, or the arrays are not laid out for
it, the same arithmetic goes through NumPy. Both paths are tested to agree.

:func:`bind` does the checks once and returns a call bound to the arrays' memory, for a
kernel that repeats the same products on the same buffers thousands of times; :func:`addmm`
is the one-off form.

Non-goals: other BLAS routines, complex numbers, building against a BLAS.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import os
from collections.abc import Callable

import numpy as np

__all__ = ["addmm", "available", "bind"]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112


def _load():
    """{dtype: (gemm, index type, real type)} for NumPy's bundled OpenBLAS, or None.

    The functions are left without ``argtypes``: :func:`bind` converts every argument to its
    ctypes type once, and a call with ready-made ctypes arguments costs about half as much.
    """
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
        for suffix, index in (("64_", ctypes.c_int64), ("", ctypes.c_int)):
            try:
                sgemm = getattr(lib, f"scipy_cblas_sgemm{suffix}")
                dgemm = getattr(lib, f"scipy_cblas_dgemm{suffix}")
            except AttributeError:
                continue
            sgemm.restype = dgemm.restype = None
            return {
                np.dtype(np.float32): (sgemm, index, ctypes.c_float),
                np.dtype(np.float64): (dgemm, index, ctypes.c_double),
            }
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


def _numpy(C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float, beta: float) -> None:
    """The same arithmetic through NumPy (a product into a buffer, then a pass over ``C``)."""
    if beta == 0 and alpha == 1:
        np.matmul(A, B, out=C)
        return
    product = A @ B
    if alpha != 1:
        product *= C.dtype.type(alpha)
    if beta == 0:
        C[...] = product
    else:
        if beta != 1:
            C *= C.dtype.type(beta)
        C += product


def bind(
    C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float = 1.0, beta: float = 1.0
) -> Callable[[], None]:
    r"""A call with no arguments that does :math:`C \leftarrow \alpha A B + \beta C` in place.

    ``C`` is writeable and C- or Fortran-contiguous, ``A`` and ``B`` any 2-D layout; with ``beta = 0``,
    ``C``'s old contents are never read. The call holds the three arrays (their memory
    stays valid) and reads whatever they contain when it runs: bind once, call per step.
    """
    if not (A.shape[0] == C.shape[0] and B.shape[1] == C.shape[1] and A.shape[1] == B.shape[0]):
        raise ValueError(f"shapes {A.shape} @ {B.shape} do not give {C.shape}")
    found = None if _GEMM is None else _GEMM.get(C.dtype)
    # a read-only C goes to NumPy, which refuses it (BLAS would write through the pointer)
    if (
        found is not None
        and C.flags.writeable
        and A.dtype == B.dtype == C.dtype
        and min(C.shape + A.shape) > 0
    ):
        if not C.flags.c_contiguous and C.flags.f_contiguous:  # Cᵀ = Bᵀ Aᵀ, Cᵀ row-major
            c, a, b = C.T, B.T, A.T
        else:
            c, a, b = C, A, B
        op_a, op_b = (_operand(a), _operand(b)) if c.flags.c_contiguous else (None, None)
        if op_a is not None and op_b is not None:
            gemm, index, real = found
            (ta, lda), (tb, ldb) = op_a, op_b
            M, N = c.shape
            i, p, flag = index, ctypes.c_void_p, ctypes.c_int
            call = functools.partial(
                gemm, flag(_ROW_MAJOR), flag(ta), flag(tb), i(M), i(N), i(a.shape[1]), real(alpha),
                p(a.ctypes.data), i(lda), p(b.ctypes.data), i(ldb), real(beta), p(c.ctypes.data), i(N),
            )  # fmt: skip
            call.arrays = (A, B, C)  # type: ignore[attr-defined]  # keeps the memory alive
            return call
    return functools.partial(_numpy, C, A, B, alpha, beta)


def addmm(C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> None:
    r"""In place, :math:`C \leftarrow C + \alpha A B` (``C`` contiguous; ``A``, ``B`` any 2-D layout)."""
    bind(C, A, B, alpha, 1.0)()
