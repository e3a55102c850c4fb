r"""The command's standard streams, made safe: writing output never fails the command.

:func:`backproof.cli.main` wraps stdout and stderr in a ``_SafeStream`` for the length of a
command. Characters the stream cannot encode (an ASCII locale, a Windows code page, a folder name
that is not UTF-8) degrade to plain ones (``✓`` to ``ok``, the rest to ``?``); a reader that
closes the pipe (``| head -1``) sends the rest of the output to ``/dev/null`` (the Python
documentation's recipe for SIGPIPE), so the command finishes its work and keeps its files; on a
stderr that is not a terminal (a log, CI) a progress bar's carriage-return refreshes become plain
lines, at most one every ten seconds, plus the last. ``_isatty`` asks whether a stream is a
terminal without failing on a closed or missing one.

Non-goals: colour, paging, log levels; signals (SIGTERM is handled by :mod:`backproof.cli`).
"""

from __future__ import annotations

import io
import os
import re
import time

#: Stand-ins for the characters an ASCII or code-page terminal cannot show.
_PLAIN = str.maketrans({"✓": "ok", "✗": "FAIL", "→": "->", "≈": "~", "−": "-", "…": "...", "×": "x"})
_BAR = re.compile(r"\|[^|]*\|")


class _SafeStream(io.TextIOBase):
    r"""A text stream that never fails the command.

    Characters the stream cannot encode are replaced (``✓`` by ``ok``, the rest by
    ``?``); a reader that closed the pipe makes the rest of the output go to
    ``/dev/null`` (the Python documentation's recipe for SIGPIPE), so the command
    finishes its work and keeps its files. With ``lines=True`` (stderr that is not
    a terminal) a progress bar's carriage-return refreshes become plain lines, at
    most one every ``interval`` seconds, plus the last.
    """

    def __init__(self, stream, *, lines: bool = False, interval: float = 10.0) -> None:
        self._stream = stream
        self._lines = lines
        self._interval = interval
        self._last = -float("inf")
        self._pending = ""
        self.broken = False

    def __getattr__(self, name):
        return getattr(self._stream, name)

    # io.TextIOBase defines these (to fail), so __getattr__ would never be asked for them
    @property
    def encoding(self):
        return getattr(self._stream, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self._stream, "errors", "strict")

    @property
    def buffer(self):
        return self._stream.buffer

    @property
    def closed(self) -> bool:
        return getattr(self._stream, "closed", False)

    def fileno(self) -> int:
        return self._stream.fileno()

    def isatty(self) -> bool:
        try:
            return self._stream.isatty()
        except (ValueError, OSError):
            return False

    def writable(self) -> bool:
        return True

    def _to_devnull(self) -> None:
        self.broken = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self._stream.fileno())
            os.close(devnull)
        except (OSError, ValueError, io.UnsupportedOperation):
            pass

    def _raw_write(self, text: str) -> None:
        if self.broken:
            return
        try:
            self._stream.write(text)
        except UnicodeEncodeError:
            enc = self.encoding or "ascii"
            self._raw_write(text.translate(_PLAIN).encode(enc, "replace").decode(enc))
        except BrokenPipeError:
            self._to_devnull()

    def write(self, text: str) -> int:
        if self._lines and "\r" in text:
            for raw in text.split("\r"):
                part = _BAR.sub(" ", raw).strip()
                if not raw:
                    continue
                if not part:  # blanks: the bar is cleared when it closes; show where it ended
                    if self._pending:
                        self._raw_write(self._pending + "\n")
                        self._pending = ""
                    continue
                now = time.monotonic()
                if now - self._last >= self._interval:
                    self._last = now
                    self._pending = ""
                    self._raw_write(part + "\n")
                else:
                    self._pending = part
            return len(text)
        if self._lines and self._pending and text.startswith("\n"):  # a bar closing: show where it ended
            self._raw_write(self._pending)
            self._pending = ""
        self._raw_write(text)
        return len(text)

    def flush(self) -> None:
        if self.broken:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._to_devnull()
        except (ValueError, OSError):
            pass


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (ValueError, OSError, AttributeError):
        return False
