r"""A PyTorch CPU version of the network, written as a strong PyTorch user would, for timing.

Any depth, any of the four activations. Float32, samples as rows (PyTorch's layout), no
autograd: the forward pass is ``torch.addmm`` (bias + x Wᵀ in one call), the output error is
the fused :math:`(y - d)\,\gamma/B` in place in the softmax buffer, the backward pass and the
updates are in-place ``addmm_`` (``W -= (γ/B) δᵀ h`` in one call), and each batch is gathered
with ``index_select`` into a preallocated buffer. ``torch.set_num_threads`` is set by the
caller to the number of threads NumPy's BLAS uses. Only imported when torch is installed
(``pip install ".[bench]"``).
"""

from __future__ import annotations

import numpy as np
import torch


def _act(name: str):
    """In-place forward ``h = σ(h)`` and backward ``δ *= σ'`` (from h) for each activation."""
    if name == "relu":
        return (lambda h: h.clamp_(min=0)), (lambda delta, h: delta.mul_(h > 0))
    if name == "leaky_relu":
        return (
            lambda h: torch.nn.functional.leaky_relu_(h, 0.01),
            lambda delta, h: delta.mul_(torch.where(h > 0, 1.0, 0.01)),
        )
    if name == "sigmoid":
        return (lambda h: h.sigmoid_()), (lambda delta, h: delta.mul_(h * (1 - h)))
    if name == "tanh":
        return (lambda h: h.tanh_()), (lambda delta, h: delta.mul_(1 - h * h))
    raise ValueError(name)


class TorchNetwork:
    """Parameters as PyTorch's ``Linear`` stores them: ``W`` (n_out, n_in), ``b`` (n_out,)."""

    def __init__(self, params, activation: str = "relu"):
        arrays = params.arrays() if hasattr(params, "arrays") else params
        L = len(arrays) // 2
        self.W = [torch.tensor(np.asarray(arrays[f"W{l}"], np.float32)) for l in range(1, L + 1)]
        self.b = [torch.tensor(np.asarray(arrays[f"b{l}"], np.float32)) for l in range(1, L + 1)]
        self.forward_act, self.backward_act = _act(activation)
        self._buffers: dict[int, tuple] = {}

    def _bufs(self, B: int):
        if B not in self._buffers:
            h = [torch.empty(B, w.shape[0]) for w in self.W]
            delta = [torch.empty(B, w.shape[0]) for w in self.W]
            self._buffers[B] = (h, delta, torch.arange(B), torch.empty(B, self.W[0].shape[1]))
        return self._buffers[B]

    def step(self, x: torch.Tensor, labels: torch.Tensor, lr: float) -> None:
        B = x.shape[0]
        h, delta, rows, _ = self._bufs(B)
        L = len(self.W)
        inp = x
        for l in range(L):
            torch.addmm(self.b[l], inp, self.W[l].t(), out=h[l])
            if l < L - 1:
                self.forward_act(h[l])
            inp = h[l]
        y = delta[L - 1]
        torch.softmax(h[L - 1], 1, out=y)
        y[rows, labels] -= 1.0
        y.mul_(lr / B)  # delta_L = (y - d) γ/B
        for l in range(L - 1, -1, -1):
            below = x if l == 0 else h[l - 1]
            if l > 0:
                torch.mm(delta[l], self.W[l], out=delta[l - 1])
                self.backward_act(delta[l - 1], h[l - 1])
            self.b[l].sub_(delta[l].sum(0))
            self.W[l].addmm_(delta[l].t(), below, alpha=-1.0)

    def epoch(self, rows: torch.Tensor, labels: torch.Tensor, B: int, lr: float, gen) -> None:
        N = rows.shape[0]
        perm = torch.randperm(N, generator=gen)
        for k in range(0, N, B):
            idx = perm[k : k + B]
            xb = self._bufs(idx.shape[0])[3]
            torch.index_select(rows, 0, idx, out=xb)
            self.step(xb, labels.index_select(0, idx), lr)
