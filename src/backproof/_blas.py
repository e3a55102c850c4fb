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

With ``split`` a large product is shared out by hand: cut into one block per BLAS thread
(by rows of ``C``, by its columns, or along the summed dimension, at 128-byte boundaries), and
the blocks go to BLAS in one ``cblas_?gemm_batch`` call (OpenBLAS 0.3.28 and later), which runs
each block single-threaded on its own thread. A training step can then give each thread the
same part of a weight matrix in its forward product and in its update, so that the part
stays in that core's cache. Left to itself, OpenBLAS cuts the forward product by samples and
the update by inputs, and the weights cross between the cores every step
(:func:`backproof.kernel.kernel_split` chooses the cuts; ``benchmarks/bench_split.py``
times them).

Non-goals: other BLAS routines, complex numbers, building against a BLAS.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import itertools
import os
from collections.abc import Callable

import numpy as np

__all__ = [
    "addmm",
    "available",
    "bind",
    "can_set_threads",
    "empty_aligned",
    "set_threads",
    "split_blocks",
    "threads",
]

_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112

ALIGN = 128
"""Bytes: split blocks start on their own pair of cache lines (Intel's prefetcher fetches pairs)."""

# A block of a split product must do more than 100**3 multiply-adds: OpenBLAS 0.3.28-0.3.31
# built with DYNAMIC_ARCH, as NumPy's wheels are, crashes in gemm_batch's small-matrix path
# (m n k <= 100**3); fixed upstream by OpenMathLib/OpenBLAS pull request 5980. Twice that, for
# margin; smaller products gain nothing from a second thread anyway.
_MIN_BLOCK_WORK = 2 * 100**3

MAX_INNER_BLOCKS = 4
"""At most this many blocks along the summed dimension: each but the first needs a scratch array
the size of ``C``, and a serial add."""


def _load():
    """``({dtype: (gemm, index type, real type)}, {dtype: gemm_batch}, get_num_threads,
    set_num_threads)`` for NumPy's bundled OpenBLAS, or ``(None, None, None, None)``.

    The functions are left without ``argtypes``: :func:`bind` converts every argument to its
    ctypes type once, and a call with ready-made ctypes arguments costs about half as much.
    ``gemm_batch`` (OpenBLAS 0.3.28 and later) and the thread count may be missing.
    """
    if os.environ.get("BACKPROOF_NO_BLAS"):
        return None, None, None, None
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
            gemm = {
                np.dtype(np.float32): (sgemm, index, ctypes.c_float),
                np.dtype(np.float64): (dgemm, index, ctypes.c_double),
            }
            batch = {}
            for dtype, letter in ((np.float32, "s"), (np.float64, "d")):
                fn = getattr(lib, f"scipy_cblas_{letter}gemm_batch{suffix}", None)
                if fn is not None:
                    fn.restype = None
                    batch[np.dtype(dtype)] = fn
            count = getattr(lib, f"scipy_openblas_get_num_threads{suffix}", None)
            if count is not None:
                count.restype, count.argtypes = ctypes.c_int, []
            setter = getattr(lib, f"scipy_openblas_set_num_threads{suffix}", None)
            if setter is not None:
                setter.restype, setter.argtypes = None, [ctypes.c_int]
            return gemm, (batch if batch and count is not None else None), count, setter
    return None, None, None, None


_GEMM, _BATCH, _THREADS, _SET_THREADS = _load()


def available() -> bool:
    """Whether the one-call path is in use (NumPy's bundled OpenBLAS was found)."""
    return _GEMM is not None


def threads() -> int:
    """The number of threads NumPy's bundled OpenBLAS uses now (1 when it is not found)."""
    return max(1, int(_THREADS())) if (_GEMM is not None and _THREADS is not None) else 1


_BLOCKS = threads()


def split_blocks() -> int:
    """How many blocks a split product is cut into: the number of threads NumPy's OpenBLAS had
    when backproof was imported, fixed for the life of the process.

    Not the thread count of the moment: the training loops lower that on a busy machine
    (``backproof._threads``), and with one thread ``gemm_batch`` runs the same blocks one
    after the other on the calling thread. The blocks, and so the order of the sums and the
    last bits of every result, stay the same whatever the load.
    """
    return _BLOCKS


def can_set_threads() -> bool:
    """Whether :func:`set_threads` reaches NumPy's BLAS (its bundled OpenBLAS was found)."""
    return _GEMM is not None and _THREADS is not None and _SET_THREADS is not None


def set_threads(n: int) -> None:
    """Set the number of threads of NumPy's bundled OpenBLAS (no effect when it is not found).

    Process-wide, as ``threadpoolctl.threadpool_limits`` does; the training loops set it while
    they run (``backproof._threads``) and put the old count back when they end.
    """
    if can_set_threads():
        _SET_THREADS(max(1, int(n)))


def empty_aligned(shape, dtype, order: str = "C") -> np.ndarray:
    """An uninitialised array whose data start on an :data:`ALIGN`-byte boundary."""
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + ALIGN, np.uint8)
    start = -raw.ctypes.data % ALIGN
    return raw[start : start + nbytes].view(dtype).reshape(shape, order=order)


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


def _row_major(C: np.ndarray, A: np.ndarray, B: np.ndarray):
    """``(M, N, K, ta, lda, a, tb, ldb, b, ldc, c)`` for row-major ``gemm`` computing C = A B, or None.

    ``C`` may be a block of a larger matrix (a leading dimension beyond its width); when its
    columns, not its rows, are contiguous, BLAS computes :math:`C^\top = B^\top A^\top`.
    """
    item = C.itemsize
    for c, a, b in ((C, A, B), (C.T, B.T, A.T)):
        M, N = c.shape
        s0, s1 = c.strides
        ldc = s0 // item if M > 1 else max(1, N)
        if (s1 == item or N == 1) and s0 % item == 0 and ldc >= max(1, N):
            op_a, op_b = _operand(a), _operand(b)
            if op_a is None or op_b is None:
                return None
            return M, N, a.shape[1], op_a[0], op_a[1], a, op_b[0], op_b[1], b, ldc, c
    return None


def _blocks(rows: int, parts: int, unit: int) -> list[tuple[int, int]]:
    """``parts`` nearly equal ranges of ``0..rows``, cut at multiples of ``unit``."""
    cuts = [min(rows, round(rows * i / parts / unit) * unit) for i in range(parts)] + [rows]
    return [(lo, hi) for lo, hi in itertools.pairwise(cuts) if hi > lo]


def _boundaries_aligned(C: np.ndarray, axis: int, ranges) -> bool:
    """Whether cutting the written array ``C`` along ``axis`` at ``ranges`` leaves no cache line
    shared by two blocks (two threads writing one line slow each other down badly)."""
    cut, other, across = C.strides[axis], C.strides[1 - axis], C.shape[1 - axis]
    # a block is one stretch of memory when there is one line across, or when the cut runs
    # along the slow axis of a contiguous C; otherwise it has a boundary in every line across
    one_stretch = across == 1 or abs(other) * across <= abs(cut)
    if not one_stretch and other % ALIGN:
        return False
    return all((C.ctypes.data + lo * cut) % ALIGN == 0 for lo, _ in ranges[1:])


def _batch_call(C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float, beta: float, split: str):
    """The product cut into one block per BLAS thread, in one ``gemm_batch`` call; None if not worth it.

    ``split`` is ``"rows"`` (rows of C and A), ``"cols"`` (columns of C and B) or ``"inner"``
    (the summed dimension: block 0 goes into C, each other block into a scratch array that
    the call then adds to C).
    """
    batch = None if _BATCH is None else _BATCH.get(C.dtype)
    if batch is None:
        return None
    if split == "cols":  # the rows of Cᵀ = Bᵀ Aᵀ
        return _batch_call(C.T, B.T, A.T, alpha, beta, "rows")
    unit = max(1, ALIGN // C.itemsize)
    M, K = A.shape
    N = B.shape[1]
    length = M if split == "rows" else K
    parts = min(split_blocks(), length // unit, MAX_INNER_BLOCKS if split == "inner" else length)
    ranges = _blocks(length, parts, unit) if parts > 1 else []
    if len(ranges) < 2 or min(hi - lo for lo, hi in ranges) * (M * N * K // length) <= _MIN_BLOCK_WORK:
        return None
    if split == "rows":
        if not _boundaries_aligned(C, 0, ranges):
            return None
        scratch = []
        operands = [(C[lo:hi], A[lo:hi], B, beta) for lo, hi in ranges]
    else:  # "inner"
        order = "F" if C.flags.f_contiguous and not C.flags.c_contiguous else "C"
        scratch = [empty_aligned(C.shape, C.dtype, order) for _ in ranges[1:]]
        targets = [C, *scratch]
        operands = [
            (target, A[:, lo:hi], B[lo:hi], beta if target is C else 0.0)
            for target, (lo, hi) in zip(targets, ranges)
        ]
    blocks = [_row_major(c, a, b) for c, a, b, _ in operands]
    if any(b is None for b in blocks):
        return None
    index = _GEMM[C.dtype][1]
    idx = np.dtype(np.int64 if index is ctypes.c_int64 else np.int32)
    groups = len(blocks)  # one group per block: each group's sizes are its own

    def column(position, dtype):
        return np.array([blk[position] for blk in blocks], dtype)

    keep = {
        "ta": column(3, np.int32), "tb": column(6, np.int32),  # enum CBLAS_TRANSPOSE
        "m": column(0, idx), "n": column(1, idx), "k": column(2, idx),
        "lda": column(4, idx), "ldb": column(7, idx), "ldc": column(9, idx),
        "alpha": np.full(groups, alpha, C.dtype),
        "beta": np.array([op[3] for op in operands], C.dtype),
        "a": np.array([blk[5].ctypes.data for blk in blocks], np.uintp),
        "b": np.array([blk[8].ctypes.data for blk in blocks], np.uintp),
        "c": np.array([blk[10].ctypes.data for blk in blocks], np.uintp),
        "size": np.ones(groups, idx),
    }  # fmt: skip

    def p(name):
        return ctypes.c_void_p(keep[name].ctypes.data)

    products = functools.partial(
        batch, ctypes.c_int(_ROW_MAJOR), p("ta"), p("tb"), p("m"), p("n"), p("k"), p("alpha"),
        p("a"), p("lda"), p("b"), p("ldb"), p("beta"), p("c"), p("ldc"), index(groups), p("size"),
    )  # fmt: skip
    if scratch:
        add = np.add

        def call():
            products()
            for part in scratch:
                add(C, part, out=C)

    else:
        call = products
    call.arrays = (A, B, C, keep, scratch)  # type: ignore[attr-defined]  # keeps the memory alive
    call.blocks = groups  # type: ignore[attr-defined]  # a partial takes attributes; mypy does not know
    return call


def bind(
    C: np.ndarray,
    A: np.ndarray,
    B: np.ndarray,
    alpha: float = 1.0,
    beta: float = 1.0,
    split: str | None = None,
) -> Callable[[], None]:
    r"""A call with no arguments that does :math:`C \leftarrow \alpha A B + \beta C` in place.

    ``C`` is writeable and C- or Fortran-contiguous, ``A`` and ``B`` any 2-D layout; with ``beta = 0``,
    ``C``'s old contents are never read. The call holds the three arrays (their memory
    stays valid) and reads whatever they contain when it runs: bind once, call per step.
    With ``split`` (``"rows"``, ``"cols"`` or ``"inner"``) a product large enough is cut into
    one block per BLAS thread (:func:`split_blocks`) along that dimension (at most
    :data:`MAX_INNER_BLOCKS` along the inner one; see the module's docstring). Each block runs
    BLAS's single-threaded code, and an inner cut sums in parts, so results can differ from an
    uncut call in the last bits.
    """
    if not (A.shape[0] == C.shape[0] and B.shape[1] == C.shape[1] and A.shape[1] == B.shape[0]):
        raise ValueError(f"shapes {A.shape} @ {B.shape} do not give {C.shape}")
    found = None if _GEMM is None else _GEMM.get(C.dtype)
    # a read-only C goes to NumPy, which refuses it (BLAS would write through the pointer)
    if (
        found is not None
        and C.flags.writeable
        and (C.flags.c_contiguous or C.flags.f_contiguous)
        and A.dtype == B.dtype == C.dtype
        and min(C.shape + A.shape) > 0
    ):
        call = _batch_call(C, A, B, alpha, beta, split) if split else None
        if call is not None:
            return call
        args = _row_major(C, A, B)
        if args is not None:
            gemm, index, real = found
            M, N, K, ta, lda, a, tb, ldb, b, ldc, c = args
            i, p, flag = index, ctypes.c_void_p, ctypes.c_int
            call = functools.partial(
                gemm, flag(_ROW_MAJOR), flag(ta), flag(tb), i(M), i(N), i(K), real(alpha),
                p(a.ctypes.data), i(lda), p(b.ctypes.data), i(ldb), real(beta), p(c.ctypes.data), i(ldc),
            )  # fmt: skip
            call.arrays = (A, B, C)  # type: ignore[attr-defined]  # keeps the memory alive
            return call
    return functools.partial(_numpy, C, A, B, alpha, beta)


def addmm(C: np.ndarray, A: np.ndarray, B: np.ndarray, alpha: float) -> None:
    r"""In place, :math:`C \leftarrow C + \alpha A B` (``C`` contiguous; ``A``, ``B`` any 2-D layout)."""
    bind(C, A, B, alpha, 1.0)()
