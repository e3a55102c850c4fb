r"""Time backproof's training against PyTorch, JAX and the GEMM limit, on a quiet and a loaded machine.

Run from anywhere (the full MNIST set is found as by the library: ``$BACKPROOF_MNIST`` ...)::

    python benchmarks/bench_training.py                  # the table, quiet and loaded
    python benchmarks/bench_training.py --rounds 3 --scaling --json out.json

Cases: the shallow network 784-64-10 ReLU's full-batch update on all 60,000 training images
(backproof's :class:`~backproof.kernel.Kernel`, which keeps its thread count there, as
``train_full_batch`` does), its minibatch epoch (``train_minibatch``, B = 100, 600 updates), and the deeper
784-512-256-10 ReLU's epoch (B = 64, 938 updates), each also in

* PyTorch (``torch_reference.py``: samples as rows, ``addmm``, fused :math:`(y - d)\gamma/B`,
  in-place ``addmm_``, ``index_select``; ``torch.set_num_threads`` = NumPy's BLAS threads);
* JAX (``jax_reference.py``: ``jax.grad`` of the loss, a jitted step for the full batch, the
  whole epoch in one jitted ``lax.scan``);
* the literal course code (``course_literal.py``, float64; with ``--course``, slow).

Rounds are interleaved (each round times every case once, each round starting with another
library), and every round runs twice: quiet, then **loaded**, with ``--load`` (default 2) busy
processes (``python -c "while True: pass"``) started beside it and stopped after (and then
:data:`SETTLE` seconds of rest). So a busy spell of the shared machine slows every case of a
round alike. Each case starts after :data:`PAUSE` seconds of rest, so that the threads of the
case before it have stopped spinning, and a full-batch case is the mean of :data:`FULL_UPDATES`
updates. Every ratio printed (loaded over quiet, backproof over PyTorch and JAX, a case over
its GEMM limit) is taken within each round and the median over the rounds is shown with the
range: the two sides of a ratio were measured under the same load.

Beside each case it prints the time of the case's own matrix products alone, at the rate BLAS
gives them in the same round (:func:`backproof.experiments.gemm_step_seconds`, the best of one
thread and all threads), and the ratio to it; a breakdown of the rest of a minibatch step; the
peak memory (VmHWM) of training on the full set in a fresh process (shallow, deep, and
784-4096-4096-10); and with ``--scaling`` the table of "How cost grows" with a PyTorch column.
Nothing here is a test: it prints figures.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import backproof as bp
from backproof import _blas, experiments
from backproof.kernel import Kernel
from backproof.network import init_network

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import course_literal as course  # noqa: E402 - a sibling file of this script, found once HERE is on the path

SHALLOW = [784, 64, 10]
DEEP = [784, 512, 256, 10]
WIDE = [784, 4096, 4096, 10]
FULL, SHALLOW_EPOCH, DEEP_EPOCH = (
    "full-batch update 784-64-10",
    "epoch 784-64-10 B=100",
    "epoch 784-512-256-10 B=64",
)
TARGET_GEMM = {FULL: 1.3, SHALLOW_EPOCH: 1.6, DEEP_EPOCH: 1.15}


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "load average {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def peak_memory_mb(sizes, batch_size: int, steps: int | None = None) -> float:
    """VmHWM of a fresh process that loads the full set and trains ``sizes`` with a test set:
    one epoch, or (``steps``) the set-up and evaluation of ``train_minibatch`` and then that
    many steps of its kernel on gathered batches (for a network too slow to train an epoch)."""
    if steps is None:
        run = (
            f"bp.train_minibatch(x, d.train_labels, layers={list(sizes)}, epochs=1, "
            f"batch_size={batch_size}, lr=0.05, test=(xt, d.test_labels))\n"
        )
    else:
        run = (
            "import numpy as np\n"
            "from backproof.kernel import Kernel\n"
            f"r = bp.train_minibatch(x, d.train_labels, layers={list(sizes)}, epochs=0, "
            f"batch_size={batch_size}, test=(xt, d.test_labels))\n"
            f"k = Kernel(r.params, {batch_size})\n"
            f"xb = np.empty(({batch_size}, 784), np.float32)\n"
            "rows = np.ascontiguousarray(x.T)\n"
            f"for s in range({steps}):\n"
            f"    idx = np.arange(s * {batch_size}, (s + 1) * {batch_size})\n"
            "    rows.take(idx, axis=0, out=xb)\n"
            "    k.update(xb.T, d.train_labels[idx], 1e-3)\n"
        )
    code = (
        "import backproof as bp\n"
        "d = bp.load_dataset()\n"
        "x, xt = bp.normalize(d.train_images), bp.normalize(d.test_images)\n"
        + run
        + "print(next(l for l in open('/proc/self/status') if l.startswith('VmHWM')).split()[1])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024.0


def start_load(n: int) -> list[subprocess.Popen]:
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(n)]
    time.sleep(0.5)  # let them take their cores
    return procs


SETTLE = 3.0
PAUSE = 0.5
"""Seconds of rest before each timed case: the previous case's worker threads (BLAS's, PyTorch's
OpenMP, XLA's pool) stop spinning, so that no case is slowed by the one before it."""
FULL_UPDATES = 3
"""Full-batch updates timed per case and round (their mean): one alone is a short, noisy timing."""
"""Seconds to wait after the busy processes stop: on the shared virtual machine the first
second or two after a busy spell run slower (measured: a quiet full-batch update at 2-3 times
its time), and that must not fall on whichever case happens to come first."""


def stop_load(procs) -> None:
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    if procs:
        time.sleep(SETTLE)


def breakdown(rows, lbl, sizes, B: int, steps: int = 200) -> dict[str, float]:
    """Microseconds per minibatch step spent in each part, each part timed alone on the kernel's
    own buffers: the products (BLAS gemm), the bias copies and sums, the activations, the
    softmax with δ_L, the gather of the batch; "Python and the rest" is what the whole step
    in the loop takes beyond their sum. "The loop without its gather" runs the same loop on the
    batch already gathered: the whole step less it is what the gather costs inside the loop,
    where it also pushes the products' data out of the caches."""
    kernel = Kernel(init_network(sizes, seed=0), B)
    xb = np.empty((B, rows.shape[1]), np.float32)
    x = xb.T
    perm = np.random.default_rng(0).permutation(rows.shape[0])
    labels = lbl[perm]
    rows.take(perm[:B], axis=0, out=xb, mode="clip")
    kernel.update(x, labels[:B], 0.0)
    h, delta, tmp, L = kernel.h, kernel.delta, kernel.tmp, kernel.params.L

    def per_step(fn) -> float:
        fn()
        best = float("inf")
        for _ in range(3):
            t = time.perf_counter()
            for s in range(steps):
                fn(s)
            best = min(best, (time.perf_counter() - t) / steps)
        return best * 1e6

    def products(s=0):
        for l in range(1, L + 1):
            kernel._fwd[l]()
        for l in range(L, 0, -1):
            if l > 1:
                kernel._bwd[l]()
            kernel._upd[l]()

    def bias(s=0):
        for l in range(1, L + 1):
            np.copyto(h[l], kernel._bias[l])
            kernel._upd_b[l]()

    def activations(s=0):
        for l in range(1, L):
            kernel.forward_act(h[l], tmp[l], kernel.zeros[l])
            kernel.backward_act(delta[l], h[l], tmp[l])

    def softmax(s=0):
        aL, y, m, sums = h[L], delta[L], kernel.m, kernel.s
        np.maximum.reduce(aL, axis=0, out=m)
        np.subtract(aL, m, out=y)
        np.exp(y, out=y)
        np.add.reduce(y, axis=0, out=sums)
        np.divide(np.float32(1e-3), sums, out=kernel.r)
        y *= kernel.r
        at = kernel.at_label
        np.multiply(labels[:B], y.shape[1], out=at, dtype=np.intp)
        at += kernel.cols
        y.reshape(-1)[at] -= np.float32(1e-3)

    n_batches = rows.shape[0] // B

    def gather(s=0):
        rows.take(perm[(s % n_batches) * B :][:B], axis=0, out=xb, mode="clip")

    def loop(s=0):
        k = (s % n_batches) * B
        idx = perm[k : k + B]
        rows.take(idx, axis=0, out=xb, mode="clip")
        kernel.update(x, labels[k : k + B], 0.0)

    def loop_no_gather(s=0):  # the same loop on the batch already in xb: what the gather costs in it
        k = (s % n_batches) * B
        kernel.update(x, labels[k : k + B], 0.0)

    # the calls were bound by the update above. All of BLAS's threads, as a training loop on a
    # quiet machine has them (the breakdown runs right after the loaded rounds, when a look at
    # the machine could still see their load)
    with np.errstate(over="ignore", invalid="ignore"):
        parts = {
            "products (gemm)": per_step(products),
            "bias copies and sums": per_step(bias),
            "activations": per_step(activations),
            "softmax and delta_L": per_step(softmax),
            "gather of the batch": per_step(gather),
        }
        whole = per_step(loop)
        no_gather = per_step(loop_no_gather)
    parts["Python and the rest"] = whole - sum(parts.values())
    parts["whole step in the loop"] = whole
    parts["the loop without its gather"] = no_gather
    parts["BLAS threads"] = _blas.threads()
    return parts


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds (each quiet, then loaded)")
    parser.add_argument(
        "--load", type=int, default=2, help="busy processes beside the loaded rounds (0: none)"
    )
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--no-torch", action="store_true")
    parser.add_argument("--no-jax", action="store_true")
    parser.add_argument("--course", action="store_true", help="also the slow literal course code (quiet)")
    parser.add_argument("--scaling", action="store_true", help="also the table of 'How cost grows'")
    parser.add_argument("--no-memory", action="store_true")
    args = parser.parse_args(argv)

    print(f"start: {uptime()}", flush=True)
    data = bp.load_dataset()
    x = bp.normalize(data.train_images)
    lbl = data.train_labels.astype(np.intp)
    rows = np.ascontiguousarray(x.T)
    N = rows.shape[0]
    threads = _blas.threads()
    cases: dict[tuple[str, str], callable] = {}

    # backproof: the full-batch update under the training loops' adaptive threads
    full_kernel = Kernel(init_network(SHALLOW, seed=0), N)

    def full_update():  # the full-batch loop keeps its thread count (Kernel.keeps_results)
        t = time.perf_counter()
        for _ in range(FULL_UPDATES):
            full_kernel.update(rows.T, lbl, 0.05 / N)
        return (time.perf_counter() - t) / FULL_UPDATES

    def epoch(sizes, B):
        def run():
            r = bp.train_minibatch(x, lbl, layers=sizes, epochs=1, batch_size=B, lr=0.05, seed=0)
            if os.environ.get("BENCH_DEBUG"):
                print(sizes, f"{r.seconds * 1e3:.0f} ms", r.threads, flush=True)
            return r.seconds

        return run

    cases[FULL, "backproof"] = full_update
    cases[SHALLOW_EPOCH, "backproof"] = epoch(SHALLOW, 100)
    cases[DEEP_EPOCH, "backproof"] = epoch(DEEP, 64)

    versions = {"numpy": np.__version__, "torch": None, "jax": None}
    if not args.no_torch:
        try:
            import torch
            from torch_reference import TorchNetwork
        except ImportError:
            torch = None
        if torch is not None:
            versions["torch"] = torch.__version__
            torch.set_num_threads(threads)
            trows, tlbl = torch.from_numpy(rows), torch.from_numpy(lbl.astype(np.int64))
            gen = torch.Generator().manual_seed(0)
            full_t = TorchNetwork(init_network(SHALLOW, seed=0))

            def torch_full():
                t = time.perf_counter()
                for _ in range(FULL_UPDATES):
                    full_t.step(trows, tlbl, 0.05)
                return (time.perf_counter() - t) / FULL_UPDATES

            def torch_epoch(sizes, B):
                def run():
                    model = TorchNetwork(init_network(sizes, seed=0))  # set-up outside the clock
                    t = time.perf_counter()
                    model.epoch(trows, tlbl, B, 0.05, gen)
                    return time.perf_counter() - t

                return run

            cases[FULL, "torch"] = torch_full
            cases[SHALLOW_EPOCH, "torch"] = torch_epoch(SHALLOW, 100)
            cases[DEEP_EPOCH, "torch"] = torch_epoch(DEEP, 64)
    if not args.no_jax:
        try:
            import jax
            import jax.numpy as jnp
            from jax_reference import JaxNetwork
        except ImportError:
            jax = None
        if jax is not None:
            versions["jax"] = jax.__version__
            jrows, jlbl = jnp.asarray(rows), jnp.asarray(lbl.astype(np.int32))
            full_j = JaxNetwork(init_network(SHALLOW, seed=0))
            jrng = np.random.default_rng(0)

            def jax_full():
                t = time.perf_counter()
                for _ in range(FULL_UPDATES):
                    full_j.step(jrows, jlbl, 0.05)
                return (time.perf_counter() - t) / FULL_UPDATES

            def jax_epoch(sizes, B):
                def run():
                    model = JaxNetwork(init_network(sizes, seed=0))
                    t = time.perf_counter()
                    model.epoch(jrows, jlbl, B, 0.05, jrng)
                    return time.perf_counter() - t

                return run

            cases[FULL, "jax"] = jax_full
            cases[SHALLOW_EPOCH, "jax"] = jax_epoch(SHALLOW, 100)
            cases[DEEP_EPOCH, "jax"] = jax_epoch(DEEP, 64)

    # the GEMM limit: each case's own products alone, timed in every quiet round
    gemm_kernels = {
        FULL: (full_kernel, rows, lbl, 1.0),
        SHALLOW_EPOCH: (*experiments._random_kernel(SHALLOW, 100), N / 100),
        DEEP_EPOCH: (*experiments._random_kernel(DEEP, 64), N / 64),
    }

    def gemm_limit(case):
        kernel, xb, labels, count = gemm_kernels[case]
        repeats, windows = (1, 3) if case == FULL else (10, 10)
        return experiments.gemm_step_seconds(kernel, xb, labels, repeats, windows) * count

    flops = {
        FULL: experiments.step_flops(SHALLOW, N),
        SHALLOW_EPOCH: experiments.step_flops(SHALLOW, 100) * N / 100,
        DEEP_EPOCH: experiments.step_flops(DEEP, 64) * N / 64,
    }

    for fn in cases.values():  # warm-up: first calls allocate, compile (JAX) and spin up threads
        fn()
    conditions = ["quiet"] + (["loaded"] if args.load else [])
    results = {(case, who, cond): [] for (case, who) in cases for cond in conditions}
    gemm = {case: [] for case in gemm_kernels}
    loads = {cond: [] for cond in conditions}
    whos = list(dict.fromkeys(who for _, who in cases))
    for r in range(args.rounds):
        # each round starts with another library, so that none is always first after a change
        first = whos[r % len(whos) :] + whos[: r % len(whos)]
        order = [(key, fn) for who in first for key, fn in cases.items() if key[1] == who]
        for cond in conditions:
            procs = start_load(args.load) if cond == "loaded" else []
            try:
                loads[cond].append(os.getloadavg()[0])
                for (case, who), fn in order:
                    time.sleep(PAUSE)
                    results[case, who, cond].append(fn())
                if cond == "quiet":
                    for case in gemm:
                        gemm[case].append(gemm_limit(case))
            finally:
                stop_load(procs)
            print(f"round {r + 1} {cond} done: {uptime()}", flush=True)

    course_ms = {}
    if args.course:
        x64, d64 = x.astype(np.float64), bp.one_hot(lbl, dtype=np.float64)
        net = course.init_shallow(784, 64, 10, np.random.default_rng(0))
        rng = np.random.default_rng(0)
        t = time.perf_counter()
        course.full_batch_update(x64, d64, net)
        course_ms[FULL] = (time.perf_counter() - t) * 1e3
        t = time.perf_counter()
        course.minibatch_epoch(x64, d64, net, rng)
        course_ms[SHALLOW_EPOCH] = (time.perf_counter() - t) * 1e3

    parts = {
        name: breakdown(rows, lbl, sizes, B)
        for name, sizes, B in (("784-64-10 B=100", SHALLOW, 100), ("784-512-256-10 B=64", DEEP, 64))
    }
    peak = {}
    if not args.no_memory:
        peak = {
            "784-64-10": peak_memory_mb(SHALLOW, 100),
            "784-512-256-10": peak_memory_mb(DEEP, 64),
            "784-4096-4096-10 (20 steps)": peak_memory_mb(WIDE, 100, steps=20),
        }

    # ------------------------------------------------------------------ the table
    # Every ratio is taken within a round (the two times were measured minutes apart at most,
    # under the same load) and then the median over the rounds is shown, with the range: a
    # busy spell of the shared machine then moves both sides of a ratio alike.
    med = {key: statistics.median(ts) * 1e3 for key, ts in results.items()}

    def per_round(num, den) -> list[float]:
        return [a / b for a, b in zip(num, den)]

    def shown(values) -> str:
        m = statistics.median(values)
        return f"{m:.2f}x" + (f" ({min(values):.2f}-{max(values):.2f})" if len(values) > 1 else "")

    print()
    print(
        f"machine: {platform.machine()} {platform.processor() or ''}, {os.cpu_count()} CPUs, BLAS threads "
        f"at most {threads}; backproof {bp.__version__}, numpy {versions['numpy']}, torch "
        f"{versions['torch'] or 'not installed'}, jax {versions['jax'] or 'not installed'}; "
        f"{args.rounds} interleaved rounds, loaded = {args.load} busy processes beside; "
        f"1-min load average at the rounds' starts: "
        + "; ".join(f"{c} {min(v):.1f}-{max(v):.1f}" for c, v in loads.items())
    )
    print(
        f"\n{'case':30}{'who':>10}"
        + "".join(f"{c + ' ms':>12}" for c in conditions)
        + f"{'loaded/quiet':>24}  all quiet | loaded (ms)"
    )
    summary: dict = {}
    for case, who in cases:
        row = [med[case, who, c] for c in conditions]
        ratio = "-"
        if len(row) > 1:
            slowdown = per_round(results[case, who, "loaded"], results[case, who, "quiet"])
            summary.setdefault(case, {})[f"{who}_loaded_over_quiet"] = statistics.median(slowdown)
            ratio = shown(slowdown)
        runs = " | ".join(" ".join(f"{t * 1e3:.0f}" for t in results[case, who, c]) for c in conditions)
        print(f"{case:30}{who:>10}" + "".join(f"{v:12.1f}" for v in row) + f"{ratio:>24}  {runs}")
    print("(times: medians over the rounds; ratios: the median of the per-round ratios, and their range)")
    print(
        f"\n{'backproof over':30}"
        + "".join(f"{'torch ' + c:>22}{'jax ' + c:>22}{'faster ' + c:>22}" for c in conditions)
    )
    for case in gemm:
        cells = []
        for c in conditions:
            mine = results[case, "backproof", c]
            refs = [results[case, w, c] for w in ("torch", "jax") if (case, w, c) in results]
            for who in ("torch", "jax"):
                if (case, who, c) in results:
                    value = per_round(mine, results[case, who, c])
                    summary.setdefault(case, {})[f"vs_{who}_{c}"] = statistics.median(value)
                    cells.append(shown(value))
                else:
                    cells.append("n/a")
            if refs:  # the faster reference in each round
                value = per_round(mine, [min(ts) for ts in zip(*refs)])
                summary.setdefault(case, {})[f"vs_faster_{c}"] = statistics.median(value)
                cells.append(shown(value))
            else:
                cells.append("n/a")
        print(f"{case:30}" + "".join(f"{cell:>22}" for cell in cells))
    print("(faster: the faster of torch and jax in the same round; target <= 1.0x)")
    print(
        f"\n{'GEMM limit (quiet rounds)':30}{'GFLOP':>8}{'gemm ms':>10}{'GFLOP/s':>9}"
        f"{'backproof ms':>14}{'over gemm':>24}{'target':>8}{'torch over gemm':>24}{'jax over gemm':>24}"
    )
    for case in gemm:
        g = statistics.median(gemm[case]) * 1e3
        b = med[case, "backproof", "quiet"]
        over = per_round(results[case, "backproof", "quiet"], gemm[case])
        summary.setdefault(case, {}).update(gemm_ms=g, over_gemm=statistics.median(over))
        references = []
        for who in ("torch", "jax"):
            if (case, who, "quiet") in results:
                theirs = per_round(results[case, who, "quiet"], gemm[case])
                summary[case][f"{who}_over_gemm"] = statistics.median(theirs)
                references.append(shown(theirs))
            else:
                references.append("n/a")
        print(
            f"{case:30}{flops[case] / 1e9:8.2f}{g:10.1f}{flops[case] / g / 1e6:9.1f}{b:14.1f}"
            f"{shown(over):>24}{'<= ' + str(TARGET_GEMM[case]):>8}"
            + "".join(f"{cell:>24}" for cell in references)
        )
    print(
        "(gemm ms: the case's matrix products alone, timed in each quiet round after its cases, "
        "best of 1 thread and all threads, best of several short windows; median over the rounds. "
        "torch and jax over gemm: the references' times over the same limit, in the same rounds)"
    )
    if course_ms:
        for case, ms in course_ms.items():
            print(
                f"{case}: backproof / course literal = {med[case, 'backproof', 'quiet'] / ms:.2f}x "
                f"(course {ms:.0f} ms)"
            )
    print(
        "\nwhere a minibatch step's time goes (µs per step, each part timed alone, best of 3; "
        "the rest is the whole step in the loop less the parts: Python's work per step, and how much "
        "slower or faster the parts run in the loop, where they share the caches; the whole step less "
        "the loop without its gather is what the gather costs in the loop)"
    )
    names = list(next(iter(parts.values())))
    print(f"{'part':28}" + "".join(f"{n:>22}" for n in parts))
    for name in names:
        print(f"{name:28}" + "".join(f"{p[name]:22.1f}" for p in parts.values()))
    if peak:
        print(
            "\npeak memory (VmHWM) training on the full set with its test set: "
            + ", ".join(f"{k} {v:.0f} MB" for k, v in peak.items())
        )

    scaling_rows = []
    if args.scaling:
        scaling_rows = scaling_table(versions["torch"] is not None)
    print(f"\nend: {uptime()}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "runs_ms": {" | ".join(k): [t * 1e3 for t in v] for k, v in results.items()},
                    "gemm_ms": {k: [t * 1e3 for t in v] for k, v in gemm.items()},
                    "summary": summary,
                    "breakdown_us": parts,
                    "peak_memory_mb": peak,
                    "loadavg": loads,
                    "scaling": scaling_rows,
                    "versions": versions,
                    "blas_threads": threads,
                },
                indent=2,
            )
        )
    return 0


def torch_step_seconds(sizes, B: int, rounds: int = 3) -> float:
    """Best mean time of a PyTorch minibatch step (gather and update) on random pixels, over as
    many steps as the site's scaling table times backproof (``experiments.scaling_steps``)."""
    import torch
    from torch_reference import TorchNetwork

    steps = experiments.scaling_steps(sizes, B)
    rng = np.random.default_rng(0)
    trows = torch.from_numpy(rng.uniform(0, 1, (4_000, sizes[0])).astype(np.float32))
    tlbl = torch.from_numpy(rng.integers(0, sizes[-1], 4_000))
    model = TorchNetwork(init_network(sizes, seed=0))
    xb = torch.empty(B, sizes[0])
    best = float("inf")
    for r in range(rounds + 1):
        t = time.perf_counter()
        for s in range(steps):
            k = (s * B) % (trows.shape[0] - B)  # as experiments.time_steps walks its 4,000 rows
            idx = torch.arange(k, k + B)
            torch.index_select(trows, 0, idx, out=xb)
            model.step(xb, tlbl.index_select(0, idx), 1e-3)
        if r:
            best = min(best, (time.perf_counter() - t) / steps)
    return best


def scaling_table(with_torch: bool) -> list[dict]:
    """The "How cost grows" table (backproof and the GEMM limit as on the site, and PyTorch)."""
    sizes_list = [experiments.width_sizes(w) for w in experiments.SCALING_WIDTHS] + [
        experiments.depth_sizes(L) for L in experiments.SCALING_DEPTHS
    ]
    rows = experiments.scaling(sizes_list)
    B = experiments.SCALING_BATCH
    print(f"\nhow cost grows: estimated epoch (60,000 samples, B = {B}) from a few steps per network")
    print(
        f"{'network':34}{'GFLOP/step':>11}{'gemm s':>9}{'backproof s':>13}{'/gemm':>7}{'torch s':>9}"
        f"{'bp/torch':>10}"
    )
    for row in rows:
        torch_s = torch_step_seconds(row["sizes"], B) * experiments.EPOCH_SAMPLES / B if with_torch else None
        row["torch_epoch_s"] = torch_s
        shown = f"{torch_s:9.2f}{row['epoch_s'] / torch_s:9.2f}x" if torch_s else f"{'n/a':>9}{'n/a':>10}"
        print(
            f"{'-'.join(map(str, row['sizes'])):34}{row['flops'] / 1e9:11.3f}{row['gemm_epoch_s']:9.2f}"
            f"{row['epoch_s']:13.2f}{row['ratio']:6.2f}x{shown}"
        )
    return rows


if __name__ == "__main__":
    sys.exit(main())
