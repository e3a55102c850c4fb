r"""Confining the worker process before it runs a learner's code (Linux; elsewhere nothing).

Called once in the worker, after it has imported what it needs and before the first line of
the learner's code. Layers, each applied when the system offers it (:func:`confine` returns
which held, and the checker says so in its documentation, never in a verdict):

* **Landlock** (Linux >= 5.13, unprivileged, also binds root): writing, creating, removing,
  renaming or truncating files is allowed only beneath the worker's private temporary folder
  (and ``/dev/null``), so backproof's installed files and the learner's own folder cannot be
  changed. From Landlock ABI 6 (Linux 6.12) the worker also cannot send signals to processes
  outside its domain (the checker) nor connect to their abstract sockets; from ABI 1 it
  cannot ptrace them, which also keeps ``/proc/<checker>/environ`` and ``mem`` closed.
* **An unprivileged user** when started as root and Python, NumPy, backproof (and with
  ``--run-all`` the learner's folder) can be read by everyone: the worker switches to
  ``nobody`` (no capabilities, not the owner of anything). Otherwise, as root, it keeps uid 0
  but drops every capability (bounding set emptied, ``SECBIT_NOROOT`` locked, so an
  ``exec`` gives none back): it still reads what root owns and may change the permission
  bits of root's files (Landlock does not cover ``chmod``), but not their contents.
* **Resource limits**: address space (``--memory``), no core files, at most 64 MiB per file;
  when not root, at most 64 more processes and threads than its user already runs (root is
  exempt from that limit: a fork bomb is then only killed at the end, with the rest).
* ``no_new_privs``, so nothing the learner executes gains privileges.

Non-goals: hiding files from reading (the learner's code may read what its user may read:
the learner's own data); network isolation; Windows and macOS (only the limits apply).
"""

from __future__ import annotations

import ctypes
import os
import stat
import sys

_SYS_CREATE, _SYS_ADD_RULE, _SYS_RESTRICT = 444, 445, 446  # the same on x86-64 and arm64
_PR_SET_NO_NEW_PRIVS = 38
_RULE_PATH_BENEATH = 1
_WRITE_FILE, _REMOVE_DIR, _REMOVE_FILE = 1 << 1, 1 << 4, 1 << 5
_MAKE = sum(1 << b for b in range(6, 13))  # char, dir, reg, sock, fifo, block, sym
_REFER, _TRUNCATE = 1 << 13, 1 << 14
_SCOPE_ABSTRACT_UNIX_SOCKET, _SCOPE_SIGNAL = 1 << 0, 1 << 1


NPROC_MORE = 64  # processes and threads the learner's code may start (when not root)


class _RulesetAttr(ctypes.Structure):
    _fields_ = [
        ("handled_access_fs", ctypes.c_uint64),
        ("handled_access_net", ctypes.c_uint64),
        ("scoped", ctypes.c_uint64),
    ]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def _libc():
    return ctypes.CDLL(None, use_errno=True)


def landlock_abi() -> int:
    r"""The Landlock ABI version this kernel offers, 0 when none (or not Linux)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        libc = _libc()
        libc.syscall.restype = ctypes.c_long
        abi = libc.syscall(ctypes.c_long(_SYS_CREATE), None, ctypes.c_size_t(0), ctypes.c_uint32(1))
    except (OSError, AttributeError):
        return 0
    return max(int(abi), 0)


def _landlock(writable: list[str]) -> str | None:
    abi = landlock_abi()
    if abi < 1:
        return None
    libc = _libc()
    libc.syscall.restype = ctypes.c_long
    handled = _WRITE_FILE | _REMOVE_DIR | _REMOVE_FILE | _MAKE
    if abi >= 2:
        handled |= _REFER
    if abi >= 3:
        handled |= _TRUNCATE
    attr = _RulesetAttr(handled, 0, (_SCOPE_SIGNAL | _SCOPE_ABSTRACT_UNIX_SOCKET) if abi >= 6 else 0)
    size = ctypes.sizeof(_RulesetAttr) if abi >= 6 else 8
    ruleset = libc.syscall(
        ctypes.c_long(_SYS_CREATE), ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0)
    )
    if ruleset < 0:
        return None
    try:
        for path in [*writable, os.devnull]:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                folder = stat.S_ISDIR(os.fstat(fd).st_mode)
                rights = handled if folder else handled & (_WRITE_FILE | _TRUNCATE)
                rule = _PathBeneath(rights, fd)
                if (
                    libc.syscall(
                        ctypes.c_long(_SYS_ADD_RULE),
                        ctypes.c_int(ruleset),
                        ctypes.c_int(_RULE_PATH_BENEATH),
                        ctypes.byref(rule),
                        ctypes.c_uint32(0),
                    )
                    < 0
                ):
                    return None
            finally:
                os.close(fd)
        if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return None
        if libc.syscall(ctypes.c_long(_SYS_RESTRICT), ctypes.c_int(ruleset), ctypes.c_uint32(0)) < 0:
            return None
    finally:
        os.close(ruleset)
    return f"landlock ABI {abi}" + (" (+ signal scope)" if abi >= 6 else "")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def _drop_capabilities() -> bool:
    r"""Root without its powers: empty bounding set, no root privileges on exec, no capabilities."""
    libc = _libc()
    for cap in range(64):
        libc.prctl(24, cap, 0, 0, 0)  # PR_CAPBSET_DROP; past the last capability it fails harmlessly
    libc.prctl(28, 0x2F, 0, 0, 0)  # PR_SET_SECUREBITS: NOROOT, NO_SETUID_FIXUP, KEEP_CAPS_LOCKED (+ locks)
    data = (_CapData * 2)()
    return libc.capset(ctypes.byref(_CapHeader(0x20080522, 0)), data) == 0  # _LINUX_CAPABILITY_VERSION_3


def _world_readable(path: str) -> bool:
    r"""Whether a user who owns nothing can read ``path`` and reach it (every folder above searchable)."""
    path = os.path.realpath(path)
    try:
        st = os.stat(path)
        if not st.st_mode & stat.S_IROTH or (stat.S_ISDIR(st.st_mode) and not st.st_mode & stat.S_IXOTH):
            return False
        parent = os.path.dirname(path)
        while True:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            if parent == os.path.dirname(parent):
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def nobody_ids(readable: list[str]) -> tuple[int, int] | None:
    r"""``(uid, gid)`` the worker takes when started as root, or None when it stays as it is.

    Only when Python, NumPy, backproof and the folders in ``readable`` (the learner's own, for
    ``--run-all``) can be read by everyone: else the worker stays root without capabilities.
    """
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return None
    try:
        import pwd

        entry = pwd.getpwnam("nobody")
        ids = (entry.pw_uid, entry.pw_gid)
    except (ImportError, KeyError):
        ids = (65534, 65534)
    import numpy

    needed = [
        *readable,
        sys.executable,
        os.path.dirname(os.__file__),
        os.path.dirname(numpy.__file__),
        os.path.dirname(os.path.dirname(__file__)),
    ]
    return ids if all(_world_readable(p) for p in needed) else None


def _tasks_of(uid: int) -> int:
    r"""How many processes and threads user ``uid`` runs now (what ``RLIMIT_NPROC`` counts)."""
    n = 0
    for entry in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{entry}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                n += int(fields.get("Threads", "1"))
        except (OSError, ValueError, KeyError):
            continue
    return n


def _limits(megabytes: int) -> None:
    try:
        import resource
    except ImportError:  # not POSIX: no limit, the parent's timeout still applies
        return
    limits = [
        (resource.RLIMIT_AS, megabytes * 2**20),
        (resource.RLIMIT_CORE, 0),
        (resource.RLIMIT_FSIZE, 64 * 2**20),
    ]
    if os.getuid() != 0 and os.path.isdir("/proc"):  # root is exempt from it: a fork bomb is then reaped only
        limits.append((resource.RLIMIT_NPROC, _tasks_of(os.getuid()) + NPROC_MORE))
    for which, value in limits:
        _, hard = resource.getrlimit(which)
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)
        try:
            resource.setrlimit(which, (value, hard))
        except (ValueError, OSError):
            pass


def confine(writable: list[str], megabytes: int, ids: tuple[int, int] | None) -> list[str]:
    r"""Apply the layers of the module docstring; return the names of those that hold."""
    held = []
    if sys.platform.startswith("linux"):
        layer = _landlock(writable)
        if layer:
            held.append(layer)
    if ids is not None:
        os.setgroups([])
        os.setgid(ids[1])
        os.setuid(ids[0])
        held.append("user nobody")
    elif hasattr(os, "geteuid") and os.geteuid() == 0 and sys.platform.startswith("linux"):
        if _drop_capabilities():
            held.append("root without capabilities")
    if sys.platform.startswith("linux") and not held:
        try:
            _libc().prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
        except (OSError, AttributeError):
            pass
    import signal

    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a file over the limit fails to grow, the worker lives
    _limits(megabytes)
    held.append("limits")
    return held
