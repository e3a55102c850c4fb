r"""The child process that runs a learner's code for :mod:`backproof.check`.

Started by :class:`backproof.check._sandbox.Learner` as ``python -m backproof.check._worker``.
It speaks length-prefixed pickles on a private copy of stdout, limits its own address space
(``RLIMIT_AS``), sends the learner's prints to /dev/null, and never dies of what the
learner's code does if it can help it: an exception, ``sys.exit()`` or a ``MemoryError`` in
one call is answered as an error and the next call is served.

Non-goals: protection against hostile code (this is a teaching tool: the limits catch
mistakes, a determined program can still escape them).
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import sys
import traceback

LEARNER_FILE = "<learner>"


def _send(out, obj) -> None:
    try:
        data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # the learner returned something that cannot travel
        data = pickle.dumps(("error", "unpicklable", f"returned an object that cannot be copied: {exc}"))
    out.write(struct.pack("<Q", len(data)))
    out.write(data)
    out.flush()


def _recv(inp):
    head = inp.read(8)
    if len(head) < 8:
        return None
    (n,) = struct.unpack("<Q", head)
    return pickle.loads(inp.read(n))


def _where(exc: BaseException) -> str:
    """The last line of the learner's own code in the traceback, e.g. ``line 12, in softmax``."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.startswith(LEARNER_FILE)]
    if not frames:
        return ""
    f = frames[-1]
    cell = f.filename[len(LEARNER_FILE) :].strip(":") or None
    at = f"cell {cell}, " if cell else ""
    return f" ({at}line {f.lineno}, in {f.name})"


def _error(exc: BaseException):
    if isinstance(exc, SystemExit):
        return ("error", "exit", f"called sys.exit({exc.code!r})")
    if isinstance(exc, MemoryError):
        return ("error", "memory", "ran out of memory: a huge allocation (MemoryError)" + _where(exc))
    if isinstance(exc, RecursionError):
        return ("error", "exception", "RecursionError: infinite recursion" + _where(exc))
    return ("error", "exception", f"{type(exc).__name__}: {exc}"[:400] + _where(exc))


def _limit_memory(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no limit, the parent's timeout still applies
        return
    limit = megabytes * 2**20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _callables(ns: dict, folder: str | None) -> dict:
    """Name -> (parameter names, number required, global names used) of every top-level function.

    The learner's functions: those of the file itself, and those imported from modules in its folder.
    """
    import inspect

    def own(filename: str) -> bool:
        if filename.startswith(LEARNER_FILE):
            return True
        return bool(folder) and os.path.dirname(os.path.abspath(filename)) == folder

    info = {}
    for name, obj in ns.items():
        if name.startswith("__") or not callable(obj) or isinstance(obj, type):
            continue
        code = getattr(obj, "__code__", None)
        if code is None or not own(code.co_filename):
            continue
        try:
            params = inspect.signature(obj).parameters.values()
        except (TypeError, ValueError):
            continue
        names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
        required = sum(
            1
            for p in params
            if p.default is p.empty and p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
        used = set()
        stack = [code]
        while stack:
            c = stack.pop()
            used.update(c.co_names)
            stack.extend(k for k in c.co_consts if hasattr(k, "co_names"))
        info[name] = (names, required, sorted(used))
    return info


def serve(inp, out) -> None:
    ns: dict = {"__name__": "__learner__", "__builtins__": __builtins__}
    while True:
        msg = _recv(inp)
        if msg is None:
            return
        kind = msg[0]
        if kind == "load":
            _, statements, folder = msg
            if folder and folder not in sys.path:
                sys.path.insert(0, folder)
            notes = []
            for filename, source, what in statements:
                try:
                    exec(compile(source, filename, "exec"), ns)
                except BaseException as exc:
                    notes.append(f"{what} failed: {_error(exc)[2]}")
            _send(out, ("ok", (_callables(ns, folder), notes)))
        elif kind == "call":
            _, name, args, kwargs, seed = msg
            try:
                if seed is not None:
                    import numpy as np

                    np.random.seed(seed)
                result = ns[name](*args, **kwargs)
            except BaseException as exc:
                _send(out, _error(exc))
            else:
                _send(out, ("ok", result))


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 2048
    sys.dont_write_bytecode = True
    inp = os.fdopen(os.dup(0), "rb")
    out = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    sys.stdin = open(os.devnull)
    sys.stdout = io.TextIOWrapper(open(os.devnull, "wb"))
    import numpy  # noqa: F401 - imported before the memory limit, so numpy itself always loads

    _limit_memory(megabytes)
    serve(inp, out)


if __name__ == "__main__":
    main()
