r"""Writing output files without losing work or damaging anything: the one output helper.

Every file backproof writes (``--json`` results, ``--save`` models, ``show --out``
pictures, downloaded data) goes through this module:

* :func:`check_output` looks at a path *before* any work starts and refuses, with
  one line naming the path and the fix, what would fail later: an empty name or
  ``.``, an existing folder, a missing or read-only folder (writability is tried
  by creating and removing a temporary file), a read-only file, a symlink loop.
  :func:`check_distinct` refuses two outputs that name the same file, and
  :func:`check_not_input` an output that is one of the command's inputs (the same
  resolved path, or the same device and inode: a hard link, a bind mount).
* :func:`write_output` writes a regular file atomically: into a temporary file
  beside the target, then renamed over it, so an interrupted write leaves the old
  file intact. It never renames over anything that is not a regular file: a device
  (``/dev/null``, ``/dev/stdout``), a pipe, anything under ``/dev`` or ``/proc`` (where
  ``/dev/stdout`` may lead to the file a shell redirected to) is written directly; a
  symlink to a regular file is followed and its target replaced, the link kept.
  New files get the permissions the umask allows; an overwritten file keeps its own.
* Temporary files carry the writer's process id (``.NAME.PID.backproof-tmp``); one
  left behind by a process that no longer exists (``kill -9``) is removed by
  :func:`sweep_stale` on the next write into that folder.

Non-goals: locking against two backproof processes writing the same file at once
(the last rename wins, and neither file is ever half-written).
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import stat
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from .errors import OutputError

__all__ = [
    "Output",
    "check_distinct",
    "check_not_input",
    "check_output",
    "sweep_stale",
    "temporary_path",
    "write_output",
]

TMP_SUFFIX = ".backproof-tmp"


@dataclass(frozen=True)
class Output:
    r"""An output path that has been checked.

    Attributes
    ----------
    flag : str
        What it is called in messages (``--json``, ``model file``).
    path : pathlib.Path
        The path as the user named it (with any suffix added), for messages.
    target : pathlib.Path
        The file that is written: ``path`` with symlinks to regular files resolved.
    direct : bool
        Written in place (a device, a pipe), not through a temporary file.
    """

    flag: str
    path: Path
    target: Path
    direct: bool


def _text(path: os.PathLike | str) -> str:
    """A path for a message; bytes that are not valid UTF-8 shown escaped, never an error."""
    return os.fsdecode(path).encode("utf-8", "backslashreplace").decode("utf-8")


def cache_folder(name: str) -> Path:
    r"""backproof's cache folder for ``name`` (``"mnist"``, ``"verify"``): ``$BACKPROOF_CACHE/name``,
    else ``name`` in the user cache folder (``platformdirs``). Not created here."""
    override = os.environ.get("BACKPROOF_CACHE")
    if override:
        return Path(override).expanduser() / name
    import platformdirs

    return Path(platformdirs.user_cache_dir("backproof")) / name


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but belongs to someone else
        return True
    return True


def temporary_path(target: Path) -> Path:
    """The temporary file beside ``target`` that this process writes before renaming."""
    return target.with_name(f".{target.name}.{os.getpid()}{TMP_SUFFIX}")


def sweep_stale(directory: Path) -> list[Path]:
    """Remove temporary files in ``directory`` left by backproof processes that no longer exist."""
    removed: list[Path] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        name = entry.name
        if not (name.startswith(".") and name.endswith(TMP_SUFFIX)):
            continue
        pid_text = name[: -len(TMP_SUFFIX)].rpartition(".")[2]
        if not pid_text.isdigit() or _pid_alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _special(p: Path) -> bool:
    """Whether ``p`` lies in /dev or /proc, where backproof writes to what exists and creates nothing."""
    return os.path.abspath(p).startswith(("/dev/", "/proc/"))


def check_output(path: str | os.PathLike, flag: str, *, suffix: str | None = None) -> Output:
    r"""Check, before any work, that ``path`` can be written; return where to write.

    Parameters
    ----------
    path : str or path-like
        As the user gave it.
    flag : str
        Named in messages (``--json``).
    suffix : str, optional
        Appended when the name does not already end with it (``.npz``, ``.png``).

    Raises
    ------
    OutputError
        The path cannot be written, with the reason and the fix.
    """
    raw = os.fspath(path)
    if isinstance(raw, bytes):
        raw = os.fsdecode(raw)
    stripped = raw.rstrip("/")
    if raw.strip() == "" or Path(raw).name in ("", ".", "..") or raw.endswith(("/", os.sep)):
        what = "an empty name" if raw.strip() == "" else f"{_text(raw)!r}, a folder"
        raise OutputError(f"{flag} needs a file name, got {what}; give one such as results/out{suffix or ''}")
    p = Path(stripped)
    try:
        is_dir = p.is_dir()  # before adding a suffix: `--save results` names the folder, not results.npz
    except OSError:
        is_dir = False
    if is_dir:
        raise OutputError(f"{flag} {_text(p)} is an existing folder; give a file name inside it")
    try:
        given = os.stat(p)  # an existing device or pipe (/dev/null) is written as named: no suffix
    except OSError:
        given = None
    as_named = given is not None and (not stat.S_ISREG(given.st_mode) or _special(p))
    if suffix and p.suffix != suffix and not as_named:
        p = p.with_name(p.name + suffix)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(
                f"{flag} {_text(p)}: a symlink loop; remove the link or choose another name"
            ) from None
        if exc.errno == errno.ENOTDIR:
            raise OutputError(
                f"{flag} {_text(p)}: {_text(p.parent)} is a file, not a folder; choose another name"
            ) from None
        raise OutputError(f"{flag} {_text(p)}: cannot be used ({exc.strerror})") from None
    if st is not None and stat.S_ISDIR(st.st_mode):
        raise OutputError(f"{flag} {_text(p)} is an existing folder; give a file name inside it")
    special = _special(p)  # /dev/stdout may lead to a shell's file
    if st is None and special:
        raise OutputError(f"{flag} {_text(p)}: no such device; name an existing one or a regular file")
    if st is not None and (special or not stat.S_ISREG(st.st_mode)):
        if not os.access(p, os.W_OK):
            raise OutputError(f"{flag} {_text(p)} is not writable; choose another name")
        return Output(flag, p, p, direct=True)
    if p.is_symlink() and st is None:
        raise OutputError(
            f"{flag} {_text(p)} is a symlink to a missing file; remove it or choose another name"
        )
    target = Path(os.path.realpath(p))
    folder = target.parent
    try:
        folder_st = os.stat(folder)
    except FileNotFoundError:
        raise OutputError(
            f"{flag} {_text(p)}: folder {_text(p.parent)} does not exist; create it first"
        ) from None
    except OSError as exc:
        raise OutputError(
            f"{flag} {_text(p)}: folder {_text(p.parent)} cannot be used ({exc.strerror})"
        ) from None
    if not stat.S_ISDIR(folder_st.st_mode):
        raise OutputError(f"{flag} {_text(p)}: {_text(p.parent)} is not a folder; choose another name")
    if st is not None and not os.access(target, os.W_OK):
        raise OutputError(f"{flag} {_text(p)} is read-only; make it writable or choose another name")
    probe = temporary_path(target)
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise OutputError(
            f"{flag} {_text(p)}: cannot write in folder {_text(folder)} ({exc.strerror}); "
            "choose a writable folder"
        ) from None
    return Output(flag, p, target, direct=False)


def check_distinct(*outputs: Output | None) -> None:
    """Refuse two outputs that would write the same file (one would silently replace the other)."""
    seen: dict[str, Output] = {}
    for out in outputs:
        if out is None:
            continue
        key = os.path.realpath(out.target)
        if key == os.path.realpath(os.devnull):
            continue
        if key in seen:
            first = seen[key]
            raise OutputError(
                f"{first.flag} {_text(first.path)} and {out.flag} {_text(out.path)} are the same file; "
                "give them different names"
            )
        seen[key] = out


def _same_file(a: os.PathLike | str, b: os.PathLike | str) -> bool:
    """Whether ``a`` and ``b`` are one file: the same resolved path, or the same device and inode."""
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    try:
        return os.path.samestat(os.stat(a), os.stat(b))
    except OSError:
        return False


def check_not_input(outputs, inputs, what: str = "input") -> None:
    r"""Refuse an output that is one of the command's inputs (writing it would destroy the input).

    Parameters
    ----------
    outputs : iterable of Output or None
        Checked outputs (``None`` entries are skipped).
    inputs : iterable of path-like
        Files the command reads: a model, a learner's notebook, the data files.
    what : str
        What the inputs are, for the message (``"the model"``, ``"a data file"``).

    Raises
    ------
    OutputError
        An output names an input, with both names and the fix.
    """
    inputs = [Path(p) for p in inputs if p is not None]
    for out in outputs:
        if out is None or (out.direct and os.path.realpath(out.target) == os.path.realpath(os.devnull)):
            continue
        for src in inputs:
            if _same_file(out.target, src):
                raise OutputError(
                    f"{out.flag} {_text(out.path)} is {what} {_text(src)}, which this command reads; "
                    "writing it would destroy it: choose another name"
                )


def _own_stream(target: Path):
    """sys.stdout or sys.stderr when ``target`` is the very file they write to, else None."""
    try:
        st = os.stat(target)
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):
        try:
            if os.path.samestat(os.fstat(stream.fileno()), st) and hasattr(stream, "buffer"):
                return stream
        except (OSError, ValueError, AttributeError, io.UnsupportedOperation):
            continue
    return None


def _new_mode(target: Path) -> int:
    try:
        st = os.stat(target)
    except OSError:
        return 0o666 & ~_umask()
    return stat.S_IMODE(st.st_mode)


def write_output(out: Output | str | os.PathLike, write: Callable[[BinaryIO], None]) -> Path:
    r"""Write a file through ``write(binary_file)``, atomically when it is a regular file.

    ``out`` is an :class:`Output` from :func:`check_output`, or a path (checked here).
    Returns the path written, as the user named it. Any failure, interruption or
    signal removes the temporary file and leaves the old target untouched.

    Raises
    ------
    OutputError
        The write failed (a full disk, a removed folder...); the message names the file.
    """
    if not isinstance(out, Output):
        out = check_output(out, "output")
    if out.direct:
        stream = _own_stream(out.target)
        try:
            if stream is not None:  # /dev/stdout: through the stream, in order with what it printed
                buffer = io.BytesIO()
                write(buffer)
                stream.flush()
                stream.buffer.write(buffer.getvalue())
                stream.buffer.flush()
                return out.path
            with open(out.target, "ab") as fh:  # append: a device, a pipe, or a file a shell opened
                write(fh)
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write {_text(out.path)}: {exc.strerror or exc}") from None
        return out.path
    target = out.target
    sweep_stale(target.parent)
    tmp = temporary_path(target)
    mode = _new_mode(target)
    try:
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
                os.fchmod(fh.fileno(), mode)
            os.replace(tmp, target)
        except OutputError:
            raise
        except OSError as exc:
            raise OutputError(f"cannot write {_text(out.path)}: {exc.strerror or exc}") from None
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    return out.path


@contextlib.contextmanager
def removed_on_failure(path: Path) -> Iterator[Path]:
    """Yield ``path`` (a temporary file); remove it if the block fails or is interrupted."""
    try:
        yield path
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(path)
        raise
