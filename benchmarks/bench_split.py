r"""Time the training kernel with and without sharing each layer's products between BLAS threads.

Run from anywhere (the full MNIST set is found as by the library)::

    python benchmarks/bench_split.py               # prints the table
    python benchmarks/bench_split.py --rounds 9

:func:`backproof.kernel.kernel_split` decides, per layer, how :class:`~backproof.kernel.Kernel`
cuts the forward product and the update into one block per BLAS thread. This script trains
one epoch of minibatch SGD on the full training set with each network below, in interleaved
rounds (each round times every variant once, so that a busy machine slows them alike):

* ``auto``: the cuts of ``kernel_split``;
* ``blas``: no cut, OpenBLAS's own threading for every product;
* for the shallow network also each single choice for the hidden layer, ``rows`` and ``inner``.

It prints each variant's median epoch time and its ratio to ``blas`` (the median of the
per-round ratios). Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np

import backproof as bp
from backproof import _blas
from backproof.kernel import Kernel, kernel_split
from backproof.network import init_network

CUTS = {"blas": (None, None), "rows": ("rows", "rows"), "inner": ("inner", "cols")}
CASES = [
    ([784, 64, 10], 100, ["blas", "auto", "rows", "inner"]),
    ([784, 512, 256, 10], 64, ["blas", "auto"]),
    ([784, 256, 128, 10], 64, ["blas", "auto"]),
]


def kernel(sizes, batch: int, variant: str) -> Kernel:
    k = Kernel(init_network(sizes, seed=0), batch)
    if variant != "auto":  # the same cut for every layer but the output layer, which has none
        k.split = [CUTS["blas"]] + [CUTS[variant]] * (len(sizes) - 2) + [CUTS["blas"]]
    return k


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds")
    args = parser.parse_args(argv)

    data = bp.load_dataset()
    rows = np.ascontiguousarray(bp.normalize(data.train_images).T)
    labels = data.train_labels.astype(np.intp)
    N = rows.shape[0]
    rng = np.random.default_rng(0)
    print(
        f"BLAS threads {_blas.threads()}, gemm_batch {'found' if _blas._BATCH else 'missing'}; "
        f"numpy {np.__version__}; {args.rounds} interleaved rounds of one epoch each"
    )
    print(f"{'network':22}{'B':>5}  {'variant':8}{'cuts (forward, update) per layer':44}"
          f"{'median ms':>10}{'/ blas':>8}")  # fmt: skip
    for sizes, batch, variants in CASES:
        kernels = {v: kernel(sizes, batch, v) for v in variants}
        xb = np.empty((batch, rows.shape[1]), np.float32)
        x = xb.T  # one view for every update: a kernel binds its first layer's calls to it
        times: dict[str, list[float]] = {v: [] for v in variants}
        for r in range(args.rounds + 1):  # round 0 warms up (binds, spins up the threads)
            for v, k in kernels.items():
                perm = rng.permutation(N)
                start = time.perf_counter()
                for j in range(0, N - batch + 1, batch):
                    idx = perm[j : j + batch]
                    rows.take(idx, axis=0, out=xb, mode="clip")
                    k.update(x, labels[idx], 0.05 / batch)
                if r:
                    times[v].append(time.perf_counter() - start)
        for v in variants:
            cuts = kernels[v].split[1:] if v != "auto" else kernel_split(sizes, batch)
            shown = ", ".join("-" if f is None else f"{f}/{u}" for f, u in cuts)
            ratio = statistics.median(a / b for a, b in zip(times[v], times["blas"]))
            print(
                f"{'-'.join(map(str, sizes)):22}{batch:5}  {v:8}{shown:44}"
                f"{statistics.median(times[v]) * 1e3:10.1f}{ratio:8.2f}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
