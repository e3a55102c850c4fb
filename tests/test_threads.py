"""backproof._threads: BLAS threads follow the cores other processes leave free, in the training loops."""

from __future__ import annotations

import numpy as np
import pytest

from backproof import _blas, _threads, normalize, train_minibatch
from backproof.kernel import Kernel
from backproof.network import init_network
from backproof.training import _textbook_step


@pytest.mark.parametrize(
    ("others", "available", "most", "want"),
    [
        (0.0, 2, 2, 2),  # a quiet machine: every core
        (0.25, 2, 2, 2),  # a little background noise still leaves a core to share with
        (0.5, 2, 2, 1),  # half a core taken: a second thread would wait for it
        (1.0, 2, 2, 1),
        (2.0, 2, 2, 1),  # two busy processes beside us: one thread, never none
        (9.0, 2, 2, 1),
        (0.0, 8, 4, 4),  # never more than the loop started with
        (2.0, 8, 8, 6),
        (-1.0, 2, 2, 2),  # a clock hiccup giving a negative load counts as none
    ],
)
def test_choose_threads_takes_the_free_cores_at_least_one_at_most_the_start(others, available, most, want):
    assert _threads.choose_threads(others, available, most) == want


class FakeMachine:
    """CPU seconds of the whole machine and of this process, moved forward by hand."""

    def __init__(self) -> None:
        self.now = 0.0
        self.busy = 100.0
        self.own = 10.0
        self.sets: list[int] = []

    def run(self, seconds: float, others: float, ours: float) -> None:
        self.now += seconds
        self.busy += seconds * (others + ours)
        self.own += seconds * ours


@pytest.fixture
def machine(monkeypatch) -> FakeMachine:
    fake = FakeMachine()
    monkeypatch.setattr(_blas, "threads", lambda: 2)
    monkeypatch.setattr(_blas, "can_set_threads", lambda: True)
    monkeypatch.setattr(_threads, "cores", lambda: 2)
    return fake


def _adaptive(fake: FakeMachine, running: int = 0) -> _threads.AdaptiveThreads:
    return _threads.AdaptiveThreads(
        0.25,
        busy=lambda: fake.busy,
        own=lambda: fake.own,
        running=lambda: running,
        clock=lambda: fake.now,
        set_threads=fake.sets.append,
    )


def test_threads_drop_to_one_when_other_processes_take_a_core_and_come_back_when_they_stop(machine):
    with _adaptive(machine) as threads:
        for others, ours, want in [(0.0, 1.9, 2), (2.0, 0.7, 1), (1.6, 0.7, 1), (0.05, 1.0, 2)]:
            machine.run(0.3, others, ours)
            threads.tick()
            assert threads.threads == want
    assert machine.sets == [1, 2]
    # the first look, at the start, counts the threads running then (none here)
    assert [round(o, 2) for _, o, _ in threads.history] == [0.0, 0.0, 2.0, 1.6, 0.05]


def test_a_loop_started_beside_two_running_processes_starts_with_one_thread(machine):
    with _adaptive(machine, running=2) as threads:
        assert threads.threads == 1
        machine.run(0.3, 0.0, 1.0)  # they stopped
        threads.tick()
        assert threads.threads == 2
    assert machine.sets == [1, 2]


def test_the_start_count_is_put_back_when_the_loop_ends_even_on_an_error(machine):
    with pytest.raises(RuntimeError), _adaptive(machine) as threads:
        machine.run(0.3, 2.0, 0.7)
        threads.tick()
        assert threads.threads == 1
        raise RuntimeError("a diverged run")
    assert machine.sets == [1, 2]


def test_no_look_before_the_interval_has_passed(machine):
    with _adaptive(machine) as threads:
        machine.run(0.1, 2.0, 0.7)
        threads.tick()
    assert len(threads.history) == 1 and machine.sets == []  # the look at the start only


def test_without_proc_stat_the_load_average_stands_in(machine, monkeypatch):
    monkeypatch.setattr(_threads.os, "getloadavg", lambda: (3.5, 3.0, 3.0))
    sets: list[int] = []
    with _threads.AdaptiveThreads(0.25, busy=lambda: None, clock=lambda: 0.0, set_threads=sets.append) as t:
        pass
    assert t.history[0][1:] == (1.5, 1) and sets == [1, 2]


def test_nothing_is_set_when_numpys_openblas_is_not_found(monkeypatch):
    monkeypatch.setattr(_blas, "_GEMM", None)
    with _threads.AdaptiveThreads(0.0) as threads:
        threads.tick()
    assert threads.history == []


def test_the_running_threads_of_other_processes_are_counted_without_our_own():
    running = _threads.others_running()
    assert running is None or running >= 0


def test_the_machine_readings_are_cpu_seconds_that_grow():
    import time

    busy, own = _threads.cores_busy(), _threads.own_busy()
    deadline = time.monotonic() + 5.0
    while _threads.own_busy() == own and time.monotonic() < deadline:  # clock ticks of 10 ms
        sum(i * i for i in range(20_000))
    assert _threads.own_busy() > own
    if busy is not None:  # Linux
        assert _threads.cores_busy() >= busy > 0  # (/proc/stat and os.times tick apart)


def test_set_threads_reaches_numpys_openblas():
    if not _blas.can_set_threads():
        pytest.skip("NumPy's bundled OpenBLAS is not found: there is nothing to set")
    start = _blas.threads()
    try:
        _blas.set_threads(1)
        assert _blas.threads() == 1
    finally:
        _blas.set_threads(start)
    assert _blas.threads() == start


@pytest.mark.parametrize(("sizes", "batch"), [([784, 64, 10], 100), ([784, 512, 256, 10], 64)])
def test_the_course_and_deeper_networks_steps_are_the_same_to_the_last_bit_with_one_or_two_threads(
    blas_path, sizes, batch
):
    rng = np.random.default_rng(21)  # (on the NumPy path set_threads has nothing to set)
    xs = [np.asfortranarray(rng.uniform(0, 1, (784, batch)).astype(np.float32)) for _ in range(3)]
    lbls = [rng.integers(0, 10, batch) for _ in range(3)]
    start = _blas.threads()
    runs = []
    try:
        for pattern in ((2, 2, 2), (1, 2, 1)):
            p = init_network(sizes, seed=3)
            kernel = Kernel(p, batch)
            assert kernel.keeps_results(xs[0]) == (blas_path == "split")
            for threads, x, lbl in zip(pattern, xs, lbls):
                _blas.set_threads(threads)
                kernel.update(x, lbl, 0.01)
            runs.append(p)
    finally:
        _blas.set_threads(start)
    if blas_path == "split":  # the blocks stay the same whatever the thread count
        for name, value in runs[0].arrays().items():
            np.testing.assert_array_equal(getattr(runs[1], name), value)
    q = init_network(sizes, seed=3)
    for x, lbl in zip(xs, lbls):
        _textbook_step(q, x, lbl, 0.01, fused=True)
    for name, value in q.arrays().items():
        np.testing.assert_allclose(getattr(runs[1], name), value, rtol=1e-4, atol=1e-5)


def test_a_full_batch_kernel_keeps_its_thread_count_as_blas_threads_its_products_itself():
    rng = np.random.default_rng(22)
    x = np.asfortranarray(rng.uniform(0, 1, (784, 4000)).astype(np.float32))
    assert not Kernel(init_network([784, 64, 10], seed=0), 4000).keeps_results(x)


def test_a_training_run_beside_busy_processes_uses_one_thread_and_gives_the_count_back(sample, monkeypatch):
    if not _blas.can_set_threads():
        pytest.skip("NumPy's bundled OpenBLAS is not found: there is nothing to set")
    x, lbl = normalize(sample[0][:, :1000]), sample[1][:1000]
    start = _blas.threads()
    sets: list[int] = []
    real = _blas.set_threads
    monkeypatch.setattr(_blas, "set_threads", lambda n: (sets.append(n), real(n)))
    monkeypatch.setattr(_blas, "threads", lambda: 2 if not sets else sets[-1])
    monkeypatch.setattr(_blas, "split_blocks", lambda: 2)  # as on two cores, whatever CI has
    fake = {"busy": 0.0}

    def busy() -> float:  # every look finds the other processes using all the cores and more
        fake["busy"] += 100.0
        return fake["busy"]

    monkeypatch.setattr(_threads, "cores_busy", busy)
    monkeypatch.setattr(_threads, "others_running", lambda: 3)
    monkeypatch.setattr(_threads, "INTERVAL", 0.0)
    result = train_minibatch(x, lbl, epochs=1, batch_size=200, lr=0.05, seed=0)
    assert result.threads and all(chosen == 1 for _, _, chosen in result.threads)
    assert sets == [1, 2]
    monkeypatch.undo()
    assert _blas.threads() == start


def test_metrics_are_recorded_with_the_thread_count_the_loop_started_with(machine):
    with _adaptive(machine, running=2) as threads:
        assert threads.threads == 1
        with threads.at_start():  # NumPy's own products: their last bits depend on the count
            assert machine.sets == [1, 2]
        assert machine.sets == [1, 2, 1] and threads.threads == 1
    assert machine.sets == [1, 2, 1, 2]


def test_after_the_loop_recording_metrics_leaves_the_start_count_in_place(machine):
    with _adaptive(machine, running=2) as threads:
        pass
    with threads.at_start():  # the final record, after the loop
        pass
    assert machine.sets == [1, 2]
