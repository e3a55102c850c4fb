r"""Time backproof's training against a tuned PyTorch reference and the literal course code, side by side.

Run from anywhere (the full MNIST set is found as by the library: ``$BACKPROOF_MNIST`` ...)::

    python benchmarks/bench_training.py               # prints the table
    python benchmarks/bench_training.py --rounds 5 --json out.json

In one process, in interleaved rounds (each round times every case once, so that a busy
machine slows all cases alike), it times:

* the shallow network 784-64-10 ReLU: backproof's full-batch update on all 60,000 training
  images (its :class:`~backproof.training.Kernel`) and its minibatch epoch (``train_minibatch``,
  B = 100, 600 updates), against the same in PyTorch;
* the deeper network 784-512-256-10 ReLU: a minibatch epoch with B = 64 (938 updates), both;
* the literal course-style code of ``course_literal.py`` (float64, fewer rounds: it is slow).

The PyTorch reference (``torch_reference.py``) is what a strong PyTorch user writes: samples
as rows, ``torch.addmm`` forward, the fused :math:`(y - d)\gamma/B`, in-place ``addmm_``
updates, ``index_select`` into a preallocated batch, and ``torch.set_num_threads`` equal to
the number of threads NumPy's BLAS uses. It prints the median and minimum of each case, the
ratios of medians, and the peak memory (VmHWM) of training each network on the full set,
measured in a fresh subprocess. Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import course_literal as course  # noqa: E402

import backproof as bp  # noqa: E402
from backproof.network import init_network  # noqa: E402
from backproof.training import Kernel  # noqa: E402

SHALLOW = [784, 64, 10]
DEEP = [784, 512, 256, 10]


def blas_threads() -> int:
    """The number of threads NumPy's BLAS uses (threadpoolctl when installed, else the CPU count)."""
    try:
        from threadpoolctl import threadpool_info

        counts = [p["num_threads"] for p in threadpool_info() if p.get("user_api") == "blas"]
        if counts:
            return max(counts)
    except ImportError:
        pass
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def peak_memory_mb(sizes, batch_size: int, epochs: int = 1) -> float:
    """VmHWM of a fresh process that loads the full set and trains ``sizes`` with a test set."""
    code = (
        "import backproof as bp\n"
        "d = bp.load_dataset()\n"
        "x, xt = bp.normalize(d.train_images), bp.normalize(d.test_images)\n"
        f"bp.train_minibatch(x, d.train_labels, layers={list(sizes)}, epochs={epochs}, "
        f"batch_size={batch_size}, lr=0.05, test=(xt, d.test_labels))\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
    )
    # VmHWM, the peak resident set of this process's own memory map (ru_maxrss would carry
    # over the parent's peak across fork and exec)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (each times every case)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-course", action="store_true", help="skip the slow literal course code")
    args = parser.parse_args(argv)

    data = bp.load_dataset()
    x = bp.normalize(data.train_images)
    lbl = data.train_labels.astype(np.intp)
    rows = np.ascontiguousarray(x.T)
    N = rows.shape[0]
    threads = blas_threads()
    cases: dict[str, callable] = {}

    def clock(fn):
        def timed():
            t = time.perf_counter()
            fn()
            return time.perf_counter() - t

        return timed

    # backproof
    full_kernel = Kernel(init_network(SHALLOW, seed=0), N)
    cases["shallow full-batch update: backproof"] = clock(lambda: full_kernel.update(rows.T, lbl, 0.05 / N))

    def epoch(sizes, B):
        return lambda: (
            bp.train_minibatch(x, lbl, layers=sizes, epochs=1, batch_size=B, lr=0.05, seed=0).seconds
        )

    cases["shallow epoch B=100: backproof"] = epoch(SHALLOW, 100)
    cases["deep epoch B=64: backproof"] = epoch(DEEP, 64)

    torch_version = None
    if not args.no_torch:
        try:
            import torch
            from torch_reference import TorchNetwork
        except ImportError:
            torch = None
        if torch is not None:
            torch_version = torch.__version__
            torch.set_num_threads(threads)
            trows, tlbl = torch.from_numpy(rows), torch.from_numpy(lbl.astype(np.int64))
            gen = torch.Generator().manual_seed(0)
            full_t = TorchNetwork(init_network(SHALLOW, seed=0))
            cases["shallow full-batch update: torch"] = clock(lambda: full_t.step(trows, tlbl, 0.05))

            def torch_epoch(sizes, B):
                def run():
                    model = TorchNetwork(init_network(sizes, seed=0))  # set-up outside the clock
                    t = time.perf_counter()
                    model.epoch(trows, tlbl, B, 0.05, gen)
                    return time.perf_counter() - t

                return run

            cases["shallow epoch B=100: torch"] = torch_epoch(SHALLOW, 100)
            cases["deep epoch B=64: torch"] = torch_epoch(DEEP, 64)

    results: dict[str, list[float]] = {name: [] for name in cases}
    for fn in cases.values():  # warm-up: first calls allocate and spin up the thread pools
        fn()
    for _ in range(args.rounds):
        for name, fn in cases.items():
            results[name].append(fn())

    if not args.no_course:  # the literal course code (float64, as its NumPy defaults); slow
        x64 = x.astype(np.float64)
        d64 = bp.one_hot(lbl, dtype=np.float64)
        net = course.init_shallow(784, 64, 10, np.random.default_rng(0))
        rng = np.random.default_rng(0)
        results["shallow full-batch update: course literal"] = [
            clock(lambda: course.full_batch_update(x64, d64, net))() for _ in range(3)
        ]
        results["shallow epoch B=100: course literal"] = [
            clock(lambda: course.minibatch_epoch(x64, d64, net, rng))() for _ in range(2)
        ]

    peak = {"shallow": peak_memory_mb(SHALLOW, 100), "deep": peak_memory_mb(DEEP, 64)}

    print(
        f"machine: {platform.machine()}, {platform.processor() or ''} BLAS threads {threads}; "
        f"backproof {bp.__version__}, numpy {np.__version__}, torch {torch_version or 'not installed'}; "
        f"data: {data.source.description}; {args.rounds} interleaved rounds"
    )
    print(f"{'case':44}{'median ms':>11}{'min ms':>9}  all (ms)")
    summary = {}
    for name, ts in results.items():
        med, lo = statistics.median(ts) * 1e3, min(ts) * 1e3
        summary[name] = {"median_ms": med, "min_ms": lo, "runs": [t * 1e3 for t in ts]}
        print(f"{name:44}{med:11.1f}{lo:9.1f}  {' '.join(f'{t * 1e3:.0f}' for t in ts)}")

    def ratio(what, other="torch"):
        a, b = f"{what}: backproof", f"{what}: {other}"
        if a in summary and b in summary:
            return summary[a]["median_ms"] / summary[b]["median_ms"]
        return None

    targets = {
        "shallow full-batch update": 1.0,
        "shallow epoch B=100": 0.9,
        "deep epoch B=64": 1.0,
    }
    ratios = {}
    print(f"{'ratio of medians, backproof / torch':44}{'ratio':>11}{'target':>9}")
    for what, target in targets.items():
        ratios[what] = value = ratio(what)
        shown = "n/a" if value is None else f"{value:.2f}x"
        print(f"{what:44}{shown:>11}{'<= ' + format(target, '.1f') + 'x':>9}")
    for what in ("shallow full-batch update", "shallow epoch B=100"):
        value = ratio(what, "course literal")
        if value is not None:
            print(f"{what + ': backproof / course literal':44}{value:10.2f}x")
    print(
        f"peak memory (VmHWM) training on the full set with its test set, one epoch: "
        f"shallow {peak['shallow']:.0f} MB, deep 784-512-256-10 {peak['deep']:.0f} MB"
    )
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cases": summary,
                    "ratios_backproof_over_torch": ratios,
                    "peak_memory_mb": peak,
                    "blas_threads": threads,
                    "torch": torch_version,
                    "numpy": np.__version__,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
