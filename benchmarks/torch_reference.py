r"""The same network and updates in PyTorch on the CPU, for timing side by side.

Float32, samples as rows (PyTorch's convention, its fastest layout), autograd for the
gradients and a hand-written update ``p -= lr/B * grad`` of the summed loss, as the course.
Only imported when torch is installed (``pip install ".[bench]"``).
"""

from __future__ import annotations

import numpy as np
import torch


class TorchShallow:
    def __init__(self, params: dict[str, np.ndarray]):
        self.p = {k: torch.tensor(np.asarray(v, np.float32), requires_grad=True) for k, v in params.items()}

    def step(self, x: torch.Tensor, labels: torch.Tensor, lr: float) -> float:
        p = self.p
        h = torch.relu(x @ p["W1"].T + p["b1"])
        a2 = h @ p["W2"].T + p["b2"]
        loss = torch.nn.functional.cross_entropy(a2, labels, reduction="sum")
        for t in p.values():
            t.grad = None
        loss.backward()
        with torch.no_grad():
            scale = lr / x.shape[0]
            for t in p.values():
                t -= scale * t.grad
        return float(loss.detach())

    def epoch(self, rows: torch.Tensor, labels: torch.Tensor, B: int, lr: float, gen) -> None:
        perm = torch.randperm(rows.shape[0], generator=gen)
        for k in range(0, rows.shape[0], B):
            idx = perm[k : k + B]
            self.step(rows[idx], labels[idx], lr)
