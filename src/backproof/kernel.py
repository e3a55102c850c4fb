r"""The training kernel: one gradient step of a network of any depth, with no allocation.

:class:`Kernel` runs the arithmetic of :func:`backproof.network.backprop` (the readable
reference, which a test ties it to step by step) with preallocated buffers, ``out=`` arguments,
:math:`\gamma_t/B` folded into :math:`\delta_L`, and every product, the updates
:math:`W_l \mathrel{-}= \delta_l h_{l-1}^\top` and :math:`b_l \mathrel{-}= \delta_l \mathbf{1}`
included, as one BLAS call bound once to its buffers (:mod:`backproof._blas`). Each layer's
memory order is the faster one for its shape (:func:`kernel_layout`), and each thread of BLAS
keeps its part of each weight matrix from step to step (:func:`kernel_split`). Where this
departs from the course's code it departs in memory layout and call count only.

The training loops of :mod:`backproof.training` make one kernel per batch size.

Non-goals: autodiff (the recursion is written out once, here and in ``backprop``), other
losses than the softmax cross-entropy, layers other than dense ones, native code.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from ._blas import ALIGN, bind, empty_aligned
from .activations import LEAKY_RELU_ALPHA
from .errors import InputError
from .network import Parameters

__all__ = ["Kernel", "kernel_layout", "kernel_split"]

# In-place versions of the activations of backproof.activations, for the kernel's buffers.
# forward(h, tmp): h holds a_l and becomes sigma(a_l). backward(delta, h, tmp): delta *= sigma'(a_l),
# written with h = sigma(a_l) only (each sigma' is a function of sigma), so a_l need not be kept;
# ReLU's forward leaves its derivative in tmp instead (tmp is the layer's own, untouched between).


def _relu_forward(h, tmp, zeros=None):
    # max(a, 0) (-inf gives 0, as relu does); keeps [a > 0] as a float mask in tmp.
    # zeros: an array of 0s shaped as h, or None; NumPy's maximum against a whole array is about
    # twice as fast as against a scalar (the same results, signed zeros, inf and NaN included)
    zero = h.dtype.type(0)
    np.maximum(h, zero if zeros is None else zeros, out=h)
    np.greater(h, zero, out=tmp)  # float, not bool: a float x bool product is a casting loop


def _relu_backward(delta, h, tmp):  # [a > 0], from the forward pass; 0 at the kink
    np.multiply(delta, tmp, out=delta)


def _leaky_forward(h, tmp, zeros=None):
    np.multiply(h, h.dtype.type(LEAKY_RELU_ALPHA), out=tmp)
    np.maximum(h, tmp, out=h)  # max(a, alpha a): a for a > 0, alpha a otherwise (0 <= alpha < 1)


def _leaky_backward(delta, h, tmp):  # 1 for a > 0, alpha otherwise (alpha at the kink)
    alpha = h.dtype.type(LEAKY_RELU_ALPHA)
    np.greater(h, 0, out=tmp)
    tmp *= 1 - alpha
    tmp += alpha
    np.multiply(delta, tmp, out=delta)


def _sigmoid_forward(h, tmp, zeros=None):  # sigma(a) = (1 + tanh(a/2)) / 2: no exponential, no overflow
    h *= 0.5
    np.tanh(h, out=h)
    h += 1
    h *= 0.5


def _sigmoid_backward(delta, h, tmp):  # sigma (1 - sigma)
    np.subtract(1, h, out=tmp)
    tmp *= h
    np.multiply(delta, tmp, out=delta)


def _tanh_forward(h, tmp, zeros=None):
    np.tanh(h, out=h)


def _tanh_backward(delta, h, tmp):  # 1 - tanh^2
    np.multiply(h, h, out=tmp)
    np.subtract(1, tmp, out=tmp)
    np.multiply(delta, tmp, out=delta)


_INPLACE = {
    "relu": (_relu_forward, _relu_backward),
    "leaky_relu": (_leaky_forward, _leaky_backward),
    "sigmoid": (_sigmoid_forward, _sigmoid_backward),
    "tanh": (_tanh_forward, _tanh_backward),
}


def kernel_layout(sizes, batch: int) -> str:
    r"""The memory order of each layer's :math:`W_l` and :math:`h_l` in :class:`Kernel`: one letter per layer.

    ``"F"`` (Fortran) for a layer at most as wide as the batch (:math:`n_l \le B`), ``"C"``
    otherwise. A rule of thumb measured on OpenBLAS (the products' speeds for these shapes
    differ by up to a third between orders, ``benchmarks/bench_training.py``). The order changes
    the order of BLAS's sums, so results differ between layouts in the last bits; the rule is
    fixed, so the same sizes, batch and seed give the same result. The output layer's
    :math:`h_L` is C-ordered whatever the letter (see :class:`Kernel`).
    """
    return "".join("F" if int(n) <= batch else "C" for n in list(sizes)[1:])


def kernel_split(sizes, batch: int) -> list[tuple[str | None, str | None]]:
    r"""How :class:`Kernel` shares each layer's forward product and update between BLAS's threads.

    One pair per layer, ``(forward, update)``, for ``backproof._blas.bind(..., split=...)``.
    The aim is that each thread keeps the same part of :math:`W_l` (shape
    :math:`n_l \times n_{l-1}`) in its own cache from step to step, and that as little as
    possible else crosses between the cores; left to itself, OpenBLAS cuts the forward
    product by samples and the update by inputs, so :math:`W_l` crosses every step.

    * ``("inner", "cols")`` when :math:`n_{l-1} \ge 2 n_l`: each thread takes a range of the
      inputs, i.e. columns of :math:`W_l` and rows of :math:`h_{l-1}`; it forms its part of
      :math:`W_l h_{l-1}`, the parts are added, and it updates its columns of :math:`W_l`.
      Each thread reads only its range of every sample's inputs. At most 4 blocks (the
      others' parts are held in scratch arrays of :math:`h_l`'s size).
    * ``("rows", "rows")`` otherwise: each thread takes a range of the units, i.e. rows of
      :math:`W_l` and of :math:`h_l`; each reads the whole :math:`h_{l-1}`.
    * ``(None, None)`` when the batch is large, :math:`B > 4 n_l`: then the batch's numbers
      outweigh :math:`W_l`'s, and BLAS's own split is the better one.

    A rule of thumb from the cross-core traffic of each choice, checked by timing on two
    cores (``benchmarks/bench_split.py``). It changes speed and the last bits only (a block
    runs BLAS's single-threaded code, and the inner cut sums in parts); since a product is cut
    into one block per BLAS thread, the last bits can also differ between machines with
    different numbers of threads (the same machine gives the same result).
    """
    n = [int(v) for v in sizes]
    cuts: list[tuple[str | None, str | None]] = []
    for l in range(1, len(n)):
        if batch > 4 * n[l]:
            cuts.append((None, None))
        elif n[l - 1] >= 2 * n[l]:
            cuts.append(("inner", "cols"))
        else:
            cuts.append(("rows", "rows"))
    return cuts


_SERIAL_WORK = 4 * 65536
"""Multiply-adds up to which OpenBLAS runs a product on one thread whatever its thread count
(``GEMM_MULTITHREAD_THRESHOLD`` × ``SMP_THRESHOLD_MIN`` in its ``interface/gemm.c``)."""


class Kernel:
    r"""One gradient step of a network of any depth for batches of a fixed size, with no allocation.

    :meth:`update` runs the forward pass and applies
    :math:`W_l \leftarrow W_l - \text{scale}\cdot\nabla_{W_l}` in place, with the fused
    :math:`\delta_L = y - d` (:math:`d` given as labels) and the recursion
    :math:`\delta_{l-1} = \sigma'(a_{l-1}) \odot W_l^\top \delta_l`, the arithmetic of
    :func:`backproof.network.backprop`; :meth:`step` does the same and also returns the batch's
    summed loss and number of errors *before* the update.

    Memory layout (the mathematics is unchanged): each :math:`W_l` and each buffer is stored
    in C (row-major) or Fortran (column-major) order, layer by layer, as :func:`kernel_layout`
    decides from the sizes and the batch; the output layer's buffers are always C-ordered, so
    that the softmax's sums over the classes run along contiguous rows. ``x`` is expected to be
    the transposed view of a gathered ``(B, n_0)`` block of rows (Fortran order), as the
    training loops give it. On first use the kernel re-stores any :math:`W_l` that is not in
    its order (same values, same shape, data aligned to 128 bytes) in ``params.W``. Each
    product, including :math:`W_l \mathrel{-}= \delta_l h_{l-1}^\top` and
    :math:`b_l \mathrel{-}= \delta_l \mathbf{1}`, is one BLAS call bound once to its buffers
    (``backproof._blas.bind``); the calls are bound again if the arrays in ``params.W`` or
    ``params.b`` are replaced. A layer's forward product and update are shared between BLAS's
    threads as :func:`kernel_split` says, so that each thread keeps its part of :math:`W_l`.

    Parameters
    ----------
    params : Parameters
        Updated in place: its arrays' values change, and ``params.W[l]`` is replaced by a copy
        in the kernel's order, starting on a 128-byte boundary, when it is not already so (a
        reference to the old array then stops following the training; ``init_network``'s
        arrays are usually replaced). The arrays must be writeable.
    batch : int
        The number of columns of every ``x`` given to :meth:`step` or :meth:`update`. The
        first layer's BLAS calls are bound to ``x``'s memory: passing the same buffer each
        step (``xb.T`` of one gathered ``xb``) is free, other memory binds them again.
    layout : str, optional
        One letter per layer, ``"C"`` or ``"F"``, for :math:`W_l` and :math:`h_l`; by default
        ``kernel_layout(params.sizes, batch)``. Kernels sharing ``params`` should share it.
    """

    def __init__(self, params: Parameters, batch: int, layout: str | None = None) -> None:
        self.params = params
        dt = params.dtype
        n = params.sizes
        L = params.L
        self.layout = kernel_layout(n, batch) if layout is None else layout
        if len(self.layout) != L or set(self.layout) - {"C", "F"}:
            raise InputError(f"layout must be {L} letters C or F, one per layer; got {layout!r}")
        self.forward_act, self.backward_act = _INPLACE[params.activation]
        # (forward, update) cuts per layer, from 1; layer 0 has no products
        self.split = [(None, None), *kernel_split(n, batch)]

        def buffer(l):  # the output layer's in C order; aligned, as bind's blocks are cut at ALIGN
            return empty_aligned((n[l], batch), dt, order="C" if l == L else self.layout[l - 1])

        # h[l] holds a_l, then h_l = sigma(a_l), l = 1..L-1 (h[0] is x, given to step);
        # the last one holds a_L
        self.h: list[Any] = [None] + [buffer(l) for l in range(1, L + 1)]
        self.delta: list[Any] = [None] + [buffer(l) for l in range(1, L + 1)]
        self.tmp: list[Any] = [None] + [buffer(l) for l in range(1, L)]
        self.zeros: list[Any] = [None] + [np.zeros_like(self.tmp[l]) for l in range(1, L)]  # for max(a, 0)
        self.ones = np.ones((batch, 1), dt)
        self.m = np.empty(batch, dt)
        self.s = np.empty(batch, dt)
        self.r = np.empty(batch, dt)
        self.cols = np.arange(batch)
        self.at_label = np.empty(batch, np.intp)  # flat index of each sample's label in delta_L
        self._bound: list = [None] * (2 * L)  # the W and b the calls below are bound to
        self._x: Any = None  # the x the first layer's calls are bound to
        self._x_key: Any = None  # its memory and layout

    def _bind(self, x, moved: bool) -> None:
        """(Re)bind the BLAS calls: all of them when the parameter arrays were replaced
        (``moved``), the first layer's when ``x`` is not the bound one."""
        P, h, delta = self.params, self.h, self.delta
        L = P.L
        if moved:
            for l in range(L):
                for name, arr in ((f"W{l + 1}", P.W[l]), (f"b{l + 1}", P.b[l])):
                    if not arr.flags.writeable:  # BLAS would write through it anyway
                        raise InputError(
                            f"params.{name} is read-only and training updates it in place; "
                            "pass writeable arrays (params.copy())"
                        )
                W = P.W[l]
                if not W.flags[f"{self.layout[l]}_CONTIGUOUS"] or W.ctypes.data % ALIGN:
                    P.W[l] = empty_aligned(W.shape, W.dtype, self.layout[l])
                    P.W[l][...] = W
                if not P.b[l].flags.c_contiguous:
                    P.b[l] = np.ascontiguousarray(P.b[l])
            self._bound = P.W + P.b
            self._bias = [None] + [P.b[l - 1][:, None] for l in range(1, L + 1)]
            # forward a_l = W_l h_(l-1) + (b_l, already in h_l); backward delta_(l-1) = W_l^T delta_l;
            # W_l -= delta_l h_(l-1)^T and b_l -= delta_l 1 (scale is already in delta_l).
            # The forward product and the update are cut into one block per BLAS thread as
            # kernel_split says (when large enough): each thread keeps its part of W_l.
            above = range(2, L + 1)  # layer 1's products involve x: bound below
            split = self.split  # (forward, update) cuts
            self._fwd: list[Any] = [None, None] + [
                bind(h[l], P.W[l - 1], h[l - 1], split=split[l][0]) for l in above
            ]
            self._bwd: list[Any] = [None, None] + [
                bind(delta[l - 1], P.W[l - 1].T, delta[l], 1.0, 0.0) for l in above
            ]
            self._upd: list[Any] = [None, None] + [
                bind(P.W[l - 1], delta[l], h[l - 1].T, -1.0, split=split[l][1]) for l in above
            ]
            self._upd_b: list[Any] = [None] + [
                bind(self._bias[l], delta[l], self.ones, -1.0) for l in range(1, L + 1)
            ]
            self._x = self._x_key = None
        if x is not self._x:
            # another view of the same memory, laid out alike, needs no new calls (the bound
            # calls hold the first view, so that memory cannot have been freed and reused)
            key = (x.__array_interface__["data"][0], x.shape, x.strides, x.dtype)
            if key != self._x_key:
                self._fwd[1] = bind(h[1], P.W[0], x, split=self.split[1][0])
                self._upd[1] = bind(P.W[0], delta[1], x.T, -1.0, split=self.split[1][1])
                self._x_key = key
            self._x = h[0] = x

    def _run(self, x, labels, scale: float, metrics: bool) -> Any:
        """Forward, softmax, backward and update in one pass (a step is ~20 small calls: few frames)."""
        P = self.params
        moved = any(map(operator.is_not, P.W + P.b, self._bound))
        if moved or x is not self._x:
            self._bind(x, moved)
        h, delta, L = self.h, self.delta, P.L
        for l in range(1, L + 1):  # a_l = W_l h_(l-1) + b_l, h_l = sigma(a_l)
            np.copyto(h[l], self._bias[l])
            self._fwd[l]()  # += W_l h_(l-1)
            if l < L:
                self.forward_act(h[l], self.tmp[l], self.zeros[l])
        # softmax: y = exp(a_L - m) / s with m the column maxima and s the sums of exp(a_L - m)
        aL, y, m, s = h[L], delta[L], self.m, self.s
        np.maximum.reduce(aL, axis=0, out=m)  # the ufuncs' own reduce: no wrapper on a hot path
        np.subtract(aL, m, out=y)
        np.exp(y, out=y)
        np.add.reduce(y, axis=0, out=s)
        result: Any
        if metrics:  # E_n = m + log s - a_L[label], and the errors, before the update
            wrong = int(np.count_nonzero(np.argmax(aL, axis=0) != labels))
            result = float(np.sum(np.log(s) + m - aL[labels, self.cols], dtype=np.float64)), wrong
        # delta_L = (y - d) * scale, in place: exp(a_L - m) * (scale / s), then -scale at the labels
        scale = y.dtype.type(scale)
        np.divide(scale, s, out=self.r)
        y *= self.r
        at = self.at_label  # y is C-ordered: (label, column j) is element label * B + j
        np.multiply(labels, y.shape[1], out=at, dtype=np.intp)  # in intp: uint8 labels would wrap
        at += self.cols
        y.reshape(-1)[at] -= scale
        for l in range(L, 0, -1):
            if l > 1:  # delta_(l-1) = sigma'(a_(l-1)) * W_l^T delta_l, before W_l changes
                self._bwd[l]()
                self.backward_act(delta[l - 1], h[l - 1], self.tmp[l - 1])
            self._upd[l]()  # W_l -= delta_l h_(l-1)^T, one BLAS call
            self._upd_b[l]()  # b_l -= delta_l 1, one BLAS call
        if not metrics:
            # whether b_L is finite after the update: a column of a_L with NaN or +inf, or all
            # -inf, makes that column of delta_L NaN, so every entry of b_L, a sum over the
            # columns, is NaN from then on (one scalar read instead of a reduction)
            result = math.isfinite(P.b[-1][0])
        return result

    def keeps_results(self, x) -> bool:
        r"""Whether steps on ``x`` give the same results, to the last bit, whatever number of
        threads BLAS has, so that a loop may choose them from the load (``backproof._threads``).

        True when every forward product and update is cut into blocks (their number,
        ``backproof._blas.split_blocks()``, is fixed for the process, and each block runs BLAS's
        single-threaded code) or is small enough that OpenBLAS never threads it, and so are the
        bias sums. OpenBLAS threads an uncut product with 784 inputs along its sums with two
        threads (measured: the last bits differ from one thread), so a batch larger than
        :math:`4 n_l`, such as the full batch, keeps its thread count. The backward products
        :math:`W_l^\top \delta_l` gave the same bits with one and two threads at every size
        measured (widths 16 to 4,096, batches 16 to 1,000); a test checks the course's and the
        deeper chapter's networks step by step.
        """
        P = self.params
        self._bind(x, True)
        n, b = P.sizes, x.shape[1]
        for l in range(1, P.L + 1):
            work = n[l] * n[l - 1] * b
            for call in (self._fwd[l], self._upd[l]):
                if getattr(call, "blocks", 1) < 2 and work > _SERIAL_WORK:
                    return False
            if n[l] * b > _SERIAL_WORK:  # the bias sums, gemv in OpenBLAS
                return False
        return True

    def update(self, x: np.ndarray, labels: np.ndarray, scale: float) -> bool:
        r"""One update; returns whether :math:`b_L` is still finite after it.

        A NaN or :math:`\pm\infty` among a column's logits (or a column all :math:`-\infty`)
        makes that column of :math:`\delta_L` NaN, and so every entry of :math:`b_L`, which
        sums the columns; so does an update large enough to overflow :math:`b_L` itself.
        """
        return self._run(x, labels, scale, False)

    def step(self, x: np.ndarray, labels: np.ndarray, scale: float) -> tuple[float, int]:
        """One update; returns the batch's summed loss and number of errors before it."""
        return self._run(x, labels, scale, True)
