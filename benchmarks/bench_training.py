r"""Time backproof's training against a literal course implementation and PyTorch on the CPU.

Run from anywhere (the full MNIST set is found as by the library: ``$BACKPROOF_MNIST`` ...)::

    python benchmarks/bench_training.py            # prints the table
    python benchmarks/bench_training.py --json out.json

It times, in one process and back to back: backproof's full-batch update on all 60,000
training images; its minibatch epoch (B = 100, 600 updates) without and with the per-epoch
evaluation on the training and test sets; the literal course-style code of
``course_literal.py`` (float64, as the course's NumPy defaults), with the images matrix laid
out as backproof loads it and as a C-ordered ``(784, N)`` array; and PyTorch on the CPU
when it is installed (``torch_reference.py``). It prints medians and minima, the ratios, the
ratio to the GEMM bound (the float32 matrix work of an update or epoch at this machine's
measured large-matrix sgemm rate), and the peak memory of full-batch training, measured in a
fresh subprocess. Nothing here is a test: it prints figures.
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
from backproof.training import Kernel, _metrics  # noqa: E402


def timed(fn, repeats: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def flops_per_update(N, Ni=784, Nh=64, No=10) -> float:
    """float32 matrix work of one update on N samples: W1 x, W2 h, grad W2, W2^T delta2, grad W1."""
    return 2.0 * N * (2 * Nh * Ni + 3 * No * Nh)


def sgemm_rate(n=3072, repeats=5) -> float:
    a = np.random.default_rng(0).standard_normal((n, n)).astype(np.float32)
    b = a.copy()
    c = np.empty_like(a)
    best = min(timed(lambda: np.matmul(a, b, out=c), repeats))
    return 2.0 * n**3 / best


def peak_memory_mb(iterations: int = 3) -> float:
    code = (
        "import backproof as bp\n"
        "d = bp.load_dataset()\n"
        "x, xt = bp.normalize(d.train_images), bp.normalize(d.test_images)\n"
        f"bp.train_full_batch(x, d.train_labels, iterations={iterations}, test=(xt, d.test_labels))\n"
        "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
    )
    # VmHWM, the peak resident set of this process's own memory map (ru_maxrss would carry
    # over the parent's peak across fork and exec)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed repeats of each backproof/torch case")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)

    data = bp.load_dataset()
    x, xt = bp.normalize(data.train_images), bp.normalize(data.test_images)
    lbl, lblt = data.train_labels.astype(np.intp), data.test_labels.astype(np.intp)
    rows, rows_t = np.ascontiguousarray(x.T), np.ascontiguousarray(xt.T)
    N = rows.shape[0]
    R = args.repeats
    results: dict[str, list[float]] = {}

    # backproof, full-batch update
    params = bp.init_shallow(seed=0)
    kernel = Kernel(params, N)
    results["backproof full-batch update"] = timed(lambda: kernel.step(rows.T, lbl, 0.05 / N), R)

    # backproof, minibatch epoch (its loop only), then with one evaluation on train and test
    def epoch():
        return bp.train_minibatch(x, lbl, epochs=1, batch_size=100, seed=0).seconds

    epochs = [epoch() for _ in range(R + 1)][1:]
    results["backproof minibatch epoch"] = epochs
    evals = timed(lambda: (_metrics(params, rows, lbl), _metrics(params, rows_t, lblt)), R)
    results["backproof minibatch epoch + evaluation"] = [e + v for e, v in zip(epochs, evals, strict=True)]

    # the literal course implementation (float64, as its NumPy defaults)
    x64 = x.astype(np.float64)
    d64 = bp.one_hot(lbl, dtype=np.float64)
    net = course.init_shallow(784, 64, 10, np.random.default_rng(0))
    rng = np.random.default_rng(0)
    results["course literal full-batch update"] = timed(lambda: course.full_batch_update(x64, d64, net), 3)
    results["course literal minibatch epoch"] = timed(lambda: course.minibatch_epoch(x64, d64, net, rng), 2)
    # the same code on a C-ordered (784, N) matrix, where each minibatch gather is strided
    x64c = np.ascontiguousarray(x64)
    results["course literal, C-ordered x: full-batch"] = timed(
        lambda: course.full_batch_update(x64c, d64, net), 3
    )
    results["course literal, C-ordered x: epoch"] = timed(
        lambda: course.minibatch_epoch(x64c, d64, net, rng), 2
    )

    torch_version = None
    if not args.no_torch:
        try:
            import torch
            from torch_reference import TorchShallow
        except ImportError:
            torch = None
        if torch is not None:
            torch_version = torch.__version__
            trows, tlbl = torch.from_numpy(rows), torch.from_numpy(lbl.astype(np.int64))
            model = TorchShallow(bp.init_shallow(seed=0).arrays())
            gen = torch.Generator().manual_seed(0)
            results["torch full-batch update"] = timed(lambda: model.step(trows, tlbl, 0.05), R)
            results["torch minibatch epoch"] = timed(lambda: model.epoch(trows, tlbl, 100, 0.05, gen), R)

    rate = sgemm_rate()
    gemm_bound = flops_per_update(N) / rate  # seconds; an epoch of 600 x 100 has the same work
    peak = peak_memory_mb()

    print(
        f"machine: {platform.machine()}, {bp.__name__} {bp.__version__}, numpy {np.__version__}, "
        f"torch {torch_version or 'not installed'}; data: {data.source.description}"
    )
    print(
        f"sgemm rate (3072^3, best of 5): {rate / 1e9:.0f} GFLOP/s; "
        f"matrix work of an update or epoch: {flops_per_update(N) / 1e9:.2f} GFLOP "
        f"= {gemm_bound * 1e3:.1f} ms at that rate"
    )
    print(f"{'case':42}{'median ms':>11}{'min ms':>9}{'x GEMM bound':>14}")
    summary = {}
    for name, ts in results.items():
        med, lo = statistics.median(ts) * 1e3, min(ts) * 1e3
        summary[name] = {"median_ms": med, "min_ms": lo, "runs": len(ts)}
        print(f"{name:42}{med:11.1f}{lo:9.1f}{med / (gemm_bound * 1e3):14.2f}")

    def ratio(a, b):
        if a in summary and b in summary:
            return summary[a]["median_ms"] / summary[b]["median_ms"]
        return None

    ratios = {
        "full-batch: backproof / torch": ratio("backproof full-batch update", "torch full-batch update"),
        "minibatch epoch: backproof / torch": ratio("backproof minibatch epoch", "torch minibatch epoch"),
        "full-batch: course literal / backproof": ratio(
            "course literal full-batch update", "backproof full-batch update"
        ),
        "minibatch epoch: course literal / backproof": ratio(
            "course literal minibatch epoch", "backproof minibatch epoch"
        ),
        "epoch: course literal C-ordered / backproof": ratio(
            "course literal, C-ordered x: epoch", "backproof minibatch epoch"
        ),
    }
    for name, value in ratios.items():
        print(f"{name:44}{'n/a' if value is None else f'{value:.2f}x'}")
    print(f"peak memory of full-batch training on the full set (data, test set, 3 updates): {peak:.0f} MB")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cases": summary,
                    "ratios": ratios,
                    "sgemm_gflops": rate / 1e9,
                    "gemm_bound_ms": gemm_bound * 1e3,
                    "peak_memory_mb": peak,
                    "torch": torch_version,
                    "numpy": np.__version__,
                },
                indent=2,
            )
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
