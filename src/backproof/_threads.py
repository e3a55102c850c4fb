r"""How many BLAS threads a training loop uses: as many as there are cores that other processes leave free.

A minibatch step of the course's network is about 200 µs of work cut into a dozen BLAS calls,
and each call shared between threads ends when its slowest thread ends. When another process
holds a core, the thread waiting for that core waits a whole scheduler time slice (milliseconds)
while its partner spins: a step takes ten times longer, not twice (issue 22 measured 5–13×).
One thread on a busy machine is never held up that way; it loses only the parallelism it
could not use anyway.

:class:`AdaptiveThreads` watches the machine while a loop runs. Every :data:`INTERVAL` seconds
it reads how busy the cores were since its last look (``/proc/stat``, all CPUs) and how much of
that was this process (:func:`os.times`); the difference is the other processes' load, in
cores (the first choice, when the loop starts, counts the other processes' threads running at
that instant). It then sets NumPy's OpenBLAS to the number of free cores (at least 1, at most the
count the loop started with), and puts the count back when the loop ends. So a learner never
sets an environment variable, and a loop started on a quiet machine drops to one thread when
a compilation starts beside it, and back when it ends.

Where ``/proc/stat`` is missing (macOS, Windows) the one-minute load average stands in for the
others' load: slower to follow a change, but in the same units. Where NumPy's bundled OpenBLAS
is not found there is nothing to set, and the class does nothing.

Non-goals: cgroup CPU quotas, more than one BLAS library, threads other than BLAS's.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections.abc import Callable

from . import _blas

__all__ = ["INTERVAL", "AdaptiveThreads", "choose_threads", "cores_busy"]

INTERVAL = 0.25
"""Seconds between looks at the machine (a look costs about 20 µs)."""

SPARE = 0.3
"""A thread is added only for a core at least this much less than fully free: sharing a step's
products with a thread that is descheduled now and then costs more than it gains."""

_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cores() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def cores_busy() -> float | None:
    """Seconds of CPU time all cores have spent busy since boot (``/proc/stat``), or None."""
    try:
        with open("/proc/stat", "rb") as fh:
            fields = fh.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != b"cpu":
        return None
    # user nice system idle iowait irq softirq steal (guest time is already in user)
    ticks = [int(v) for v in fields[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / _TICK


def others_running() -> int | None:
    """Threads of other processes running or ready to run right now (``procs_running`` of
    ``/proc/stat`` less this process's running threads), or None: the instant view a loop
    starts from, before there is an interval to measure."""
    try:
        with open("/proc/stat", "rb") as fh:
            running = next(int(line.split()[1]) for line in fh if line.startswith(b"procs_running"))
        own = 0
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/stat", "rb") as fh:
                own += fh.read().rpartition(b")")[2].split()[0] == b"R"
    except (OSError, StopIteration, ValueError, IndexError):
        return None
    return max(0, running - own)


def own_busy() -> float:
    """Seconds of CPU time this process (all its threads) has used."""
    t = os.times()
    return t.user + t.system


def choose_threads(others: float, available: int, most: int) -> int:
    """Threads for a load of ``others`` cores from other processes, on ``available`` cores.

    The number of cores left free, rounded down unless within :data:`SPARE` of the next one;
    at least 1 and at most ``most``.
    """
    free = available - max(0.0, others)
    return max(1, min(most, math.floor(free + SPARE)))


class AdaptiveThreads:
    """Sets BLAS's threads from the load of the other processes, while a loop runs.

    Use as a context manager and call :meth:`tick` once per step (a clock read unless a look
    is due)::

        with AdaptiveThreads() as threads:
            for batch in batches:
                threads.tick()
                kernel.update(...)

    ``interval`` defaults to :data:`INTERVAL`. ``history`` keeps ``(seconds since start,
    others' load in cores, threads chosen)`` of every look, for the benchmark and for tests.
    ``busy`` and ``own`` read the machine's and the process's CPU seconds (replaceable for
    tests); ``set_threads`` sets BLAS's thread count. With ``enabled=False`` it does nothing.
    """

    def __init__(
        self,
        interval: float | None = None,
        *,
        most: int | None = None,
        busy: Callable[[], float | None] | None = None,
        own: Callable[[], float] | None = None,
        running: Callable[[], int | None] | None = None,
        clock: Callable[[], float] = time.perf_counter,
        set_threads: Callable[[int], object] | None = None,
        enabled: bool = True,
    ) -> None:
        self.interval = INTERVAL if interval is None else interval
        self._most = most
        self._busy = cores_busy if busy is None else busy
        self._own = own_busy if own is None else own
        self._running = others_running if running is None else running
        self._clock = clock
        self._set = _blas.set_threads if set_threads is None else set_threads
        self.history: list[tuple[float, float, int]] = []
        self.threads = 1
        self._active = False
        self.enabled = enabled

    def __enter__(self) -> AdaptiveThreads:
        self._start_threads = _blas.threads()
        self.most = self._start_threads if self._most is None else self._most
        self.available = cores()
        self._active = self.enabled and _blas.can_set_threads() and self.most > 1
        self.threads = self._start_threads
        now = self._clock()
        self._t0 = now
        self._last = (now, self._busy(), self._own())
        self._next = now + self.interval if self._active else math.inf
        if self._active:  # a first choice from the threads running now (or the load average)
            others = self._running() if self._last[1] is not None else None
            self._look(now, None if others is None else float(others))
        return self

    def __exit__(self, *exc) -> None:
        if self._active and self.threads != self._start_threads:
            self._set(self._start_threads)
        self.threads = self._start_threads
        self._active = False  # done: at_start and tick change nothing any more
        self._next = math.inf

    @contextlib.contextmanager
    def at_start(self):
        """Within this block BLAS has the thread count the loop started with (for work whose
        last bits depend on it, such as NumPy's own products when metrics are recorded)."""
        changed = self._active and self.threads != self._start_threads
        if changed:
            self._set(self._start_threads)
        try:
            yield
        finally:
            if changed:
                self._set(self.threads)

    def tick(self) -> None:
        """Once per step: look at the machine when :attr:`interval` has passed."""
        now = self._clock()
        if now >= self._next:
            self._look(now)

    def _others(self, now: float) -> float:
        """The other processes' load since the last look, in cores."""
        then, busy0, own0 = self._last
        busy, own = self._busy(), self._own()
        self._last = (now, busy, own)
        if busy is None or busy0 is None:  # the one-minute load average, less our threads
            try:
                return max(0.0, os.getloadavg()[0] - self.threads)
            except (OSError, AttributeError):
                return 0.0
        elapsed = max(now - then, 1e-9)
        return max(0.0, (busy - busy0) - (own - own0)) / elapsed

    def _look(self, now: float, others: float | None = None) -> None:
        if others is None:
            others = self._others(now)
        want = choose_threads(others, self.available, self.most)
        if want != self.threads:
            self._set(want)
            self.threads = want
        self.history.append((now - self._t0, others, want))
        self._next = now + self.interval
