r"""The processes that run a learner's code for :mod:`backproof.check`: a supervisor and its worker.

Started by :class:`backproof.check._sandbox.Learner` as ``python -m backproof.check._worker
CONFIG`` in a new session, with a scrubbed environment. The process started is the
**supervisor**: it makes itself a child subreaper (``PR_SET_CHILD_SUBREAPER``), so every
process the learner's code starts stays its descendant even after ``setsid`` or a double
fork, then forks the **worker** and waits. When the worker ends, when the checker sends
SIGTERM (or SIGINT, SIGHUP), or when the checker's end of the lifeline pipe closes (the
checker died, even of SIGKILL), the supervisor kills every descendant it has (found through
``/proc``, repeatedly until none is left), reaps them and exits, with the worker's own
status when it had one.

The worker confines itself (:mod:`backproof.check._confine`), sends the learner's prints to
/dev/null, and answers the requests that arrive on its request pipe with frames of plain
data (:mod:`backproof.check._protocol`) on a separate reply pipe. It never dies of what the
learner's code does if it can help it: an exception, ``sys.exit()``, a ``MemoryError`` or a
value that is not plain data in one call is answered as an error and the next call is served.
In ``run_all`` loads each cell has its own time limit (``SIGALRM``; the checker's deadline is
the backstop) and reports its start and end, so the checker can show progress.

Non-goals: keeping the worker's own memory safe from the learner's code (they share one
process: whatever the worker sends is treated by the checker as the learner's output).
"""

from __future__ import annotations

import json
import os
import select
import signal
import sys
import time
import traceback

LEARNER_FILE = "<learner>"
_PR_SET_PDEATHSIG, _PR_SET_CHILD_SUBREAPER = 1, 36


def _where(exc: BaseException) -> str:
    """The last line of the learner's own code in the traceback, e.g. `` (In [3], line 12, in softmax)``."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(LEARNER_FILE)]
    if not frames:
        return ""
    f = frames[-1]
    cell = f.filename[len(LEARNER_FILE) :].strip(":") or None
    at = f"{cell}, " if cell else ""
    return f" ({at}line {f.lineno}, in {f.name})"


class _CellTimeout(BaseException):
    pass


def _error(exc: BaseException) -> list:
    if isinstance(exc, SystemExit):
        return ["exit", f"called sys.exit({exc.code!r})"[:200]]
    if isinstance(exc, MemoryError):
        return ["memory", "ran out of memory: a huge allocation (MemoryError)" + _where(exc)]
    if isinstance(exc, RecursionError):
        return ["exception", "RecursionError: infinite recursion" + _where(exc)]
    try:
        text = f"{type(exc).__name__}: {exc}"
    except BaseException:  # a learner's exception whose __str__ fails
        text = type(exc).__name__
    return ["exception", text[:400] + _where(exc)]


def _callables(ns: dict, folder: str | None) -> dict:
    """Name -> [parameter names, number required, global names used] of every top-level function.

    The learner's functions: those of the file itself, and those imported from modules in its folder.
    """
    import inspect

    def own(filename: str) -> bool:
        if filename.startswith(LEARNER_FILE):
            return True
        return bool(folder) and os.path.dirname(os.path.abspath(filename)) == folder

    info = {}
    for name, obj in list(ns.items()):
        try:
            if (
                not isinstance(name, str)
                or name.startswith("__")
                or not callable(obj)
                or isinstance(obj, type)
            ):
                continue
            code = getattr(obj, "__code__", None)
            if code is None or not isinstance(code.co_filename, str) or not own(code.co_filename):
                continue
            params = inspect.signature(obj).parameters.values()
        except Exception:  # a learner's object whose attributes misbehave
            continue
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(
            1
            for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
        used: set[str] = set()
        stack = [code]
        while stack:
            c = stack.pop()
            used.update(c.co_names)
            stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
        info[name] = [names, required, sorted(used)]
    return info


def _run_statement(ns: dict, filename: str, source: str, limit: float | None) -> None:
    def alarm(signum, frame):
        raise _CellTimeout()

    if limit:
        signal.signal(signal.SIGALRM, alarm)
        signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        exec(compile(source, filename, "exec"), ns)
    finally:
        if limit:
            signal.setitimer(signal.ITIMER_REAL, 0)


def serve(requests: int, replies: int) -> None:
    from ._protocol import Unsendable, read_frame, write_frame

    def send(msg) -> None:
        try:
            write_frame(replies, msg)
        except Unsendable as exc:
            write_frame(
                replies,
                {
                    "id": msg["id"],
                    "error": [
                        "unsendable",
                        f"returned {exc}, not plain data: return NumPy arrays, numbers or tuples of them",
                    ],
                },
            )

    ns: dict = {"__name__": "__learner__", "__builtins__": __builtins__}
    while True:
        try:
            msg = read_frame(requests)
        except (EOFError, OSError):
            return
        rid = msg["id"]
        if msg["op"] == "load":
            folder, limit = msg["folder"], msg["cell_limit"]
            if folder and folder not in sys.path:
                sys.path.insert(0, folder)
            notes = []
            for filename, source, what in msg["statements"]:
                if limit:
                    send({"id": rid, "cell": what, "event": "start"})
                t0 = time.monotonic()
                try:
                    _run_statement(ns, filename, source, limit)
                except _CellTimeout:
                    why = f"did not finish within {limit:g} s: stopped"
                except BaseException as exc:
                    why = _error(exc)[1]
                else:
                    why = ""
                if why:
                    notes.append(f"{what} failed: {why}")
                if limit:
                    send(
                        {
                            "id": rid,
                            "cell": what,
                            "event": "failed" if why else "ran",
                            "seconds": time.monotonic() - t0,
                            "why": why,
                        }
                    )
            send({"id": rid, "ok": {"functions": _callables(ns, folder), "notes": notes}})
        elif msg["op"] == "call":
            try:
                if msg["seed"] is not None:
                    import numpy as np

                    np.random.seed(msg["seed"])
                result = ns[msg["name"]](*msg["args"], **msg["kwargs"])
            except BaseException as exc:
                send({"id": rid, "error": _error(exc)})
            else:
                send({"id": rid, "ok": result})


# ---------------------------------------------------------------- the supervisor


def descendants(root: int) -> list[int]:
    r"""Every process whose chain of parents leads to ``root`` (from ``/proc``; [] elsewhere)."""
    children: dict[int, list[int]] = {}
    try:
        entries = os.listdir("/proc")
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, stack = [], list(children.get(root, []))
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _reap_all(worker: int, status: list) -> None:
    while True:
        try:
            pid, st = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == worker and not status:
            status.append(st)


def _kill_all(worker: int, status: list) -> None:
    me = os.getpid()
    for _ in range(400):  # a fork bomb is outrun: each round kills all that exist, then reaps
        alive = [p for p in descendants(me) if p != me]
        if not alive:
            break
        for pid in alive:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.002)
        _reap_all(worker, status)
    _reap_all(worker, status)


def _exit_like(status: list) -> None:
    if status and os.WIFSIGNALED(status[0]):  # die of the same signal, so the checker can name it
        sig = os.WTERMSIG(status[0])
        try:
            import resource

            resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        except (ImportError, ValueError, OSError):
            pass
        signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)
    os._exit(os.WEXITSTATUS(status[0]) if status and os.WIFEXITED(status[0]) else 0)


def main() -> None:
    config = json.loads(sys.argv[1])
    sys.dont_write_bytecode = True
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the process group is all there is
        libc = None
    import numpy  # noqa: F401 - imported before the memory limit, so numpy itself always loads

    from . import _confine, _protocol  # loaded before the learner's code runs

    ids = _confine.nobody_ids(config["readable"])
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    watched = (signal.SIGCHLD, signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
    for sig in watched:
        signal.signal(sig, lambda *a: None)
    signal.set_wakeup_fd(wake_w)
    worker = os.fork()
    if worker == 0:  # ---------------------------------------------- the worker
        signal.set_wakeup_fd(-1)
        for sig in watched:
            signal.signal(sig, signal.SIG_DFL)
        os.close(wake_r)
        os.close(wake_w)
        os.close(config["lifeline"])
        if libc is not None:
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        try:
            if ids is not None:
                for folder, dirs, files in os.walk(config["private"]):
                    for name in [folder, *(os.path.join(folder, n) for n in dirs + files)]:
                        os.lchown(name, *ids)
            held = _confine.confine([config["private"]], config["memory_mb"], ids)
        except Exception as exc:
            _protocol.write_frame(
                config["replies"], {"id": 0, "error": ["exception", f"confining failed: {exc}"]}
            )
            os._exit(3)
        _protocol.write_frame(config["replies"], {"id": 0, "ok": held})
        serve(config["requests"], config["replies"])
        os._exit(0)
    # ---------------------------------------------------------------- the supervisor
    os.close(config["requests"])
    os.close(config["replies"])
    status: list = []
    while True:
        ready = select.select([wake_r, config["lifeline"]], [], [])[0]
        if config["lifeline"] in ready:
            break  # the checker closed it, or died
        signals = os.read(wake_r, 256)
        if any(s != signal.SIGCHLD for s in signals):
            break
        _reap_all(worker, status)
        if status:
            break
    _kill_all(worker, status)
    _exit_like(status)


if __name__ == "__main__":
    main()
