r"""Running the learner's code in a child process, one call at a time, under limits.

:class:`Learner` starts ``python -m backproof.check._worker`` with its working directory in
a fresh temporary folder (so nothing is written where the learner's file lives), sends it the
statements to execute, then one call per request. Each call has a time limit; when it is
exceeded, or the child dies (a crash in C code, ``os._exit``, the memory limit), the child is
killed and a fresh one is started with the same definitions, so the other functions are
still checked.

Non-goals: a security sandbox (see :mod:`backproof.check._worker`); Windows (the time limit
waits on the child's pipe with ``select``, which Windows offers for sockets only).
"""

from __future__ import annotations

import os
import pickle
import select
import signal
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path


class LearnerError(Exception):
    r"""A call into the learner's code did not return a value.

    ``kind`` is ``"exception"``, ``"exit"``, ``"memory"``, ``"unpicklable"`` (the call
    returned), ``"timeout"`` or ``"died"`` (the child had to be restarted).
    """

    def __init__(self, kind: str, message: str):
        self.kind = kind
        self.message = message
        super().__init__(message)

    @property
    def fatal(self) -> bool:
        """True when the child was killed: further calls of the same function are not tried."""
        return self.kind in ("timeout", "died")


class Learner:
    r"""The learner's definitions, loaded in a child process that can be restarted."""

    def __init__(self, statements, folder: str | None, time_limit: float, memory_mb: int, load_limit: float):
        self.statements = statements
        self.folder = folder
        self.time_limit = time_limit
        self.memory_mb = memory_mb
        self.load_limit = load_limit
        self._tmp = tempfile.TemporaryDirectory(prefix="backproof-check-")
        self._proc: subprocess.Popen | None = None
        self.functions: dict = {}
        self.load_notes: list[str] = []
        self.calls = 0
        self.restarts = 0
        self._start()

    # ------------------------------------------------------------------ process
    def _start(self) -> None:
        env = dict(os.environ)
        src = str(Path(__file__).resolve().parents[2])  # the folder holding the backproof package
        env["PYTHONPATH"] = os.pathsep.join([src, *filter(None, [env.get("PYTHONPATH")])])
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = "1"  # tiny problems; one thread keeps the address space small
        env["MPLBACKEND"] = "Agg"
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "backproof.check._worker", str(self.memory_mb)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=self._tmp.name,
            env=env,
            start_new_session=True,  # its own process group: what the learner's code starts dies with it
        )
        reply = self._request(("load", self.statements, self.folder), self.load_limit)
        self.functions, self.load_notes = reply

    def _kill(self) -> None:
        if self._proc is not None:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)  # the group this object started, by its id
            except (ProcessLookupError, PermissionError):
                pass
        if self._proc is not None:
            self._proc.wait()
            for f in (self._proc.stdin, self._proc.stdout):
                if f is not None:
                    f.close()
        self._proc = None

    def restart(self) -> None:
        self._kill()
        self.restarts += 1
        self._start()

    @property
    def scratch(self) -> str:
        r"""A temporary folder that lives as long as this object (the child's working directory)."""
        return self._tmp.name

    def close(self) -> None:
        self._kill()
        self._tmp.cleanup()

    def __enter__(self) -> Learner:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ------------------------------------------------------------------ protocol
    def _pipes(self):
        proc = self._proc
        if proc is None or proc.stdin is None or proc.stdout is None:
            raise LearnerError("died", "")
        return proc.stdin, proc.stdout

    def _read_exact(self, n: int, deadline: float) -> bytes:
        fd = self._pipes()[1].fileno()
        chunks = []
        while n:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                raise LearnerError("timeout", "")
            chunk = os.read(fd, n)
            if not chunk:
                raise LearnerError("died", "")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def _request(self, msg, limit: float):
        data = pickle.dumps(msg, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            stdin = self._pipes()[0]
            stdin.write(struct.pack("<Q", len(data)) + data)
            stdin.flush()
        except (BrokenPipeError, OSError):
            raise LearnerError("died", "") from None
        deadline = time.monotonic() + limit
        (n,) = struct.unpack("<Q", self._read_exact(8, deadline))
        reply = pickle.loads(self._read_exact(n, deadline))
        if reply[0] == "ok":
            return reply[1]
        raise LearnerError(reply[1], reply[2])

    def call(self, name: str, args=(), kwargs=None, seed: int | None = 0, limit: float | None = None):
        r"""``name(*args, **kwargs)`` in the child, with NumPy's global seed set first.

        Raises :class:`LearnerError`; after a timeout or a death the child is restarted.
        """
        limit = self.time_limit if limit is None else limit
        self.calls += 1
        try:
            return self._request(("call", name, tuple(args), dict(kwargs or {}), seed), limit)
        except LearnerError as exc:
            if exc.kind == "timeout":
                exc.message = f"did not return within {limit:g} s (an infinite loop?)"
                self.restart()
            elif exc.kind == "died":
                code = None
                try:
                    code = self._proc.wait(timeout=2) if self._proc is not None else None
                except subprocess.TimeoutExpired:
                    pass
                exc.message = _death(code)
                self.restart()
            raise


def _death(code) -> str:
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the Python process running it was killed by {name}"
    return f"the Python process running it exited (status {code}), e.g. by os._exit()"
