"""The sandbox of ``backproof check`` against hostile learner files (tests/check_cases/hostile/).

Each attack must end in a "fail", "crashed" or "timed out" verdict for that function, or a
one-line error: never a pass for wrong code, never a traceback, never a process left behind.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import backproof
from backproof.check import _protocol as P
from backproof.check import check_file
from backproof.check._confine import landlock_abi, nobody_ids
from backproof.check._sandbox import marked

HOSTILE = Path(__file__).parent / "check_cases" / "hostile"
SOLUTION = Path(__file__).parent / "check_cases" / "course_solution.py"
SRC = Path(__file__).parent.parent / "src"
PACKAGE = Path(backproof.__file__).parent  # as installed: what the worker imports
LINUX = sys.platform.startswith("linux")
needs_linux = pytest.mark.skipif(not LINUX, reason="the sandbox's layers are Linux's (Landlock, /proc)")
needs_write_guard = pytest.mark.skipif(
    not LINUX or landlock_abi() < 1, reason="no Landlock on this kernel: writes are not confined"
)


def leftovers(owner: int | None = None) -> list[int]:
    """Processes still carrying a worker's mark started by ``owner`` (this process by default)."""
    return marked(f"{owner or os.getpid()}-")


def wait_until(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def hostile(name: str, tmp_path: Path, only: list[str], **limits):
    """Check a hostile file from a private copy of it (its folder: ``tmp_path/learner``)."""
    folder = tmp_path / "learner"
    folder.mkdir(exist_ok=True)
    path = folder / f"{name}.py"
    shutil.copyfile(HOSTILE / f"{name}.py", path)
    limits = {"time_limit": 1.5, "memory_mb": 1024, "load_limit": 10.0, **limits}
    report = check_file(path, only=only, **limits)
    assert wait_until(lambda: not leftovers(), 5), f"processes left: {leftovers()}"
    for r in report.functions:
        assert r.status != "pass", (name, r.name)
    return report


def problems(report, name: str) -> str:
    return " | ".join(f.problem or "" for f in report[name].findings if not f.passed)


def package_state() -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in PACKAGE.rglob("*") if "__pycache__" not in p.parts}


# ---------------------------------------------------------------- the reply channel


def test_a_returned_object_is_never_unpickled_in_the_checker(tmp_path):
    marker = Path("/tmp/backproof-hostile-reduce-ran")
    marker.unlink(missing_ok=True)
    report = hostile("reduce_object", tmp_path, ["softmax", "relu"])
    assert not marker.exists()
    assert report["softmax"].status == "crashed" and "not plain data" in problems(report, "softmax")
    assert report["relu"].status == "crashed" and "dtype object" in problems(report, "relu")


def test_bytes_and_forged_frames_on_the_reply_pipe_are_crashes_of_that_function(tmp_path):
    report = hostile("forged_reply", tmp_path, ["softmax", "relu", "relup", "softmaxp"])
    for name in ("softmax", "relu", "relup", "softmaxp"):
        assert report[name].status == "crashed", name
        assert "not a valid answer" in problems(report, name), name
    assert "more than allowed" in problems(report, "softmaxp")  # refused from its header, not read


def test_patching_numpy_builtins_and_backproof_in_the_worker_changes_no_verdict(tmp_path):
    report = hostile("monkeypatch", tmp_path, ["softmax", "relu"])
    assert report["softmax"].status == "fail" and report["relu"].status == "fail"
    assert "values differ" in problems(report, "softmax")


def test_an_exception_message_cannot_forge_lines_of_the_report(tmp_path):
    report = hostile("forge_report", tmp_path, ["softmax", "relu"])
    text = report.format()
    assert report["softmax"].status == "crashed"
    assert not any(line.startswith(("\u2713 pass", "score 1.00")) for line in text.splitlines())
    assert "\x1b" not in text and "\u2028" not in text and "pass       softmax" not in text


def test_an_array_like_of_another_library_is_converted_in_the_worker(tmp_path):
    path = tmp_path / "tensor.py"
    path.write_text(
        "import numpy as np\n\n\nclass Tensor:\n    def __init__(self, v):\n        self.v = v\n\n"
        "    def __array__(self, dtype=None, copy=None):\n"
        "        return np.asarray(self.v, dtype=dtype)\n\n\n"
        "def relu(a):\n    return Tensor(np.maximum(a, 0))\n"
    )
    assert check_file(path, only=["relu"])["relu"].status == "pass"


def test_huge_prints_are_dropped_and_a_huge_result_is_refused(tmp_path):
    report = hostile("huge_output", tmp_path, ["softmax", "relu"])
    assert report["softmax"].status == "fail" and "shape" in problems(report, "softmax")
    assert report["relu"].status == "crashed" and "more than 64 MB" in problems(report, "relu")


def test_endless_recursion_and_a_segfault_are_crashes_or_a_timeout(tmp_path):
    report = hostile("deep_recursion", tmp_path, ["softmax", "relu", "relup"])
    assert report["softmax"].status == "crashed" and "RecursionError" in problems(report, "softmax")
    assert report["relu"].status in ("crashed", "timed out")
    assert report["relup"].status == "crashed" and "killed by SIGSEGV" in problems(report, "relup")


def test_a_memory_bomb_is_stopped_by_the_limit(tmp_path):
    report = hostile("memory_bomb", tmp_path, ["softmax", "relu"], memory_mb=320)
    assert report["softmax"].status == "crashed" and "MemoryError" in problems(report, "softmax")
    assert report["relu"].status in ("crashed", "timed out")


# ---------------------------------------------------------------- the worker's reach


@needs_write_guard
def test_the_worker_cannot_write_backproofs_files_nor_the_learners_folder(tmp_path):
    before = package_state()
    planted = PACKAGE / "check" / "_hostile_new.py"
    try:
        report = hostile("write_files", tmp_path, ["softmax"])
    finally:
        planted.unlink(missing_ok=True)  # only there if the sandbox failed
    said = problems(report, "softmax")
    assert "RESULT" in said, said
    for attempt in ("backproof-append", "backproof-new", "folder-append", "folder-new"):
        assert f"{attempt}=denied" in said, said
    assert "copy-new=ALLOWED" in said  # its own copy of the folder stays writable
    assert package_state() == before
    assert sorted(p.name for p in (tmp_path / "learner").iterdir()) == ["write_files.py"]
    assert (tmp_path / "learner" / "write_files.py").read_bytes() == (HOSTILE / "write_files.py").read_bytes()


@pytest.mark.skipif(
    not LINUX or (landlock_abi() < 1 and os.geteuid() != 0),
    reason="the checker's /proc/PID/environ is closed by Landlock, or by the capabilities root drops",
)
def test_the_graders_environment_never_reaches_the_report(tmp_path, monkeypatch):
    monkeypatch.setenv("SECRET_GRADER_TOKEN", "s3cr3t-value")
    report = hostile("env_leak", tmp_path, ["softmax"])
    said = problems(report, "softmax")
    assert "LEAK own=none" in said, said
    assert "s3cr3t" not in report.format() and "s3cr3t" not in json.dumps(report.to_dict())


@needs_linux
def test_processes_the_learner_starts_do_not_outlive_the_check(tmp_path):
    report = hostile("fork_setsid", tmp_path, ["softmax"])  # hostile() asserts none is marked
    assert report["softmax"].status == "fail"
    name = f"backproof-hostile-orphan-{os.getpid()}".encode()

    def unmarked() -> list[int]:  # started with an empty environment: found by its name
        found = []
        for entry in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as fh:
                    if name in fh.read():
                        found.append(int(entry))
            except OSError:
                continue
        return found

    assert wait_until(lambda: not unmarked(), 5), unmarked()


@pytest.mark.skipif(
    not LINUX or (os.geteuid() == 0 and nobody_ids([]) is None),
    reason="the worker runs as root here, which RLIMIT_NPROC exempts (the clean-up still reaps a bomb)",
)
def test_a_fork_bomb_is_held_to_a_few_processes_and_reaped(tmp_path):
    report = hostile("fork_bomb", tmp_path, ["softmax"])  # hostile() asserts none is left
    said = problems(report, "softmax")
    assert report["softmax"].status == "crashed" and "FORKS" in said, said
    assert int(said.split("FORKS ")[1].split()[0]) <= 64 and "then" in said


@needs_write_guard
def test_signals_to_the_supervisor_and_the_checker_are_refused(tmp_path):
    if landlock_abi() < 6 and nobody_ids([]) is None:
        pytest.skip("signals are scoped from Landlock ABI 6 (Linux 6.12), or by running as nobody")
    received = []
    previous = signal.signal(signal.SIGTERM, lambda *a: received.append(a))
    try:
        report = hostile("kill_parent", tmp_path, ["softmax"])
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not received
    assert report["softmax"].status == "fail"  # the supervisor lived: the call was answered


def test_an_endless_load_is_stopped_and_every_function_reported(tmp_path):
    start = time.monotonic()
    report = hostile("infinite_load", tmp_path, ["softmax", "relu"], load_limit=1.0)
    assert time.monotonic() - start < 20
    assert all(r.status == "crashed" and "timed out" in r.notes[0] for r in report.functions)


@needs_linux
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_command_while_loading_leaves_no_process(tmp_path, sig):
    path = tmp_path / "infinite_load.py"
    shutil.copyfile(HOSTILE / "infinite_load.py", path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "backproof", "check", str(path), "--only", "softmax"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert wait_until(lambda: len(leftovers(proc.pid)) >= 2, 30), "the worker never started"
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert wait_until(lambda: not leftovers(proc.pid), 10), leftovers(proc.pid)
    assert b"Traceback" not in err
    if sig != signal.SIGKILL:
        assert proc.returncode != 0 and len(err.decode().strip().splitlines()) == 1, err


# ---------------------------------------------------------------- --run-all


def _notebook(path: Path, cells: list[tuple[str, int | None]]) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Assignment 1")]
    nb.cells += [nbformat.v4.new_code_cell(src, execution_count=n) for src, n in cells]
    nbformat.write(nb, str(path))


def test_run_all_runs_each_cell_as_the_learner_did_in_a_copy_of_the_folder(tmp_path):
    (tmp_path / "course" / "hw1").mkdir(parents=True)
    (tmp_path / "course" / "mnist").mkdir()
    np.save(tmp_path / "course" / "mnist" / "scale.npy", np.array([2.0]))
    nb = tmp_path / "course" / "hw1" / "assignment.ipynb"
    _notebook(
        nb,
        [
            ("import numpy as np\nimport a_module_nobody_has", 3),
            ("scale = np.load('../mnist/scale.npy')[0]\nnp.save('weights.npy', np.zeros(2))", 4),
            ("open('../mnist/scale.npy', 'wb').write(b'broken')", 7),
            ("def softmax(a):\n    e = np.exp(a - a.max(axis=0))\n    return e / e.sum(axis=0)", None),
            ("while True:\n    pass", None),
            ("def relu(a):\n    return np.maximum(a, 0) * scale / 2", 9),
        ],
    )
    before = {p: p.read_bytes() for p in (tmp_path / "course").rglob("*") if p.is_file()}
    lines: list[str] = []
    report = check_file(nb, only=["softmax", "relu"], run_all=True, cell_limit=1.0, progress=lines.append)
    assert report["softmax"].status == "pass"  # defined after a failed import and before an endless loop
    notes = " | ".join(report.notes)
    assert "In [3] failed: ModuleNotFoundError" in notes
    if landlock_abi() >= 1:
        assert report["relu"].status == "pass"  # uses `scale`, read from ../mnist
        assert "In [7] failed: PermissionError" in notes  # the original data cannot be written
    else:  # no links out of the copy where writing through them cannot be refused
        assert "paths such as ../mnist do not resolve" in notes and "In [4] failed" in notes
    assert "cell 6 failed: did not finish within 1 s" in notes  # position 6, counting the Markdown cell
    assert "In [4] failed" not in notes or landlock_abi() < 1
    assert "In [9]: ran" in " | ".join(lines) and len(lines) == 6  # one line per cell
    after = {p: p.read_bytes() for p in (tmp_path / "course").rglob("*") if p.is_file()}
    assert after == before  # weights.npy went into the copy
    assert not leftovers()


def test_run_all_leaves_out_a_cell_that_cannot_be_stopped_and_runs_the_rest(tmp_path):
    nb = tmp_path / "nb.ipynb"
    _notebook(
        nb,
        [
            ("import numpy as np", 1),
            ("import signal\nsignal.signal(signal.SIGALRM, signal.SIG_IGN)\nwhile True:\n    pass", 2),
            ("def relu(a):\n    return np.maximum(a, 0)", 3),
        ],
    )
    report = check_file(nb, only=["relu"], run_all=True, cell_limit=0.5)
    assert report["relu"].status == "pass"
    assert any("In [2] did not finish" in n and "left out" in n for n in report.notes), report.notes
    assert not leftovers()


def test_the_copy_of_the_folder_holds_code_copies_and_data_links(tmp_path):
    from backproof.check._sandbox import _shadow

    folder = tmp_path / "course" / "hw"
    (folder / "helpers").mkdir(parents=True)
    (folder / ".git").mkdir()
    (tmp_path / "course" / "mnist").mkdir()
    (folder / "hw.py").write_text("x = 1\n")
    (folder / "helpers" / "util.py").write_text("y = 2\n")
    (folder / ".git" / "HEAD").write_text("ref\n")
    with open(folder / "big.bin", "wb") as fh:
        fh.truncate(17 * 2**20)  # over the 16 MiB copied
    plain = _shadow(folder, tmp_path / "a", run_all=False)
    assert sorted(str(p.relative_to(plain)) for p in plain.rglob("*") if p.is_file()) == [
        "helpers/util.py",
        "hw.py",
    ]
    full = _shadow(folder, tmp_path / "b", run_all=True)
    assert (full / "hw.py").is_file() and not (full / "hw.py").is_symlink()
    assert (full / "big.bin").is_symlink() and (full / ".git").is_symlink()
    assert (full / ".." / "mnist").resolve() == (tmp_path / "course" / "mnist").resolve()
    assert str(full).endswith(str(folder.resolve()))
    closed = _shadow(folder, tmp_path / "c", run_all=True, links=False)  # no Landlock: no way out
    assert not any(p.is_symlink() for p in (tmp_path / "c").rglob("*"))
    assert (closed / "hw.py").is_file() and not (closed / "big.bin").exists()


# ---------------------------------------------------------------- files that used to give tracebacks


def test_a_utf8_byte_order_mark_reads_fine(tmp_path):
    path = tmp_path / "bom.py"
    path.write_bytes(b"\xef\xbb\xbf" + SOLUTION.read_bytes())
    assert check_file(path, only=["relu"])["relu"].status == "pass"


def test_a_cell_whose_source_is_a_number_is_skipped_with_a_note(tmp_path):
    doc = {
        "cells": [
            {"cell_type": "code", "source": 5, "metadata": {}, "outputs": [], "execution_count": 1},
            {
                "cell_type": "code",
                "source": ["import numpy as np\n", "def relu(a):\n", "    return np.maximum(a, 0)\n"],
                "metadata": {},
                "outputs": [],
                "execution_count": 2,
            },
        ],
        "metadata": {},
        "nbformat": 4,
        "nbformat_minor": 4,
    }
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(doc))
    report = check_file(path, only=["relu"])
    assert report["relu"].status == "pass"
    assert any("In [1]: its source is int, not text: skipped" in n for n in report.notes), report.notes


def test_a_100000_term_expression_is_a_one_line_error_or_a_skipped_cell(tmp_path, capsys):
    from backproof.cli import main

    long = "x = " + " + ".join(["1"] * 100_000) + "\n"
    path = tmp_path / "long.py"
    path.write_text(SOLUTION.read_text() + long)
    # Python 3.11 and later cannot parse it (too deep); 3.10's parser can: either way, no traceback
    status = main(["check", str(path), "--only", "relu"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    deep = status == 2
    if deep:
        assert "too deeply nested" in err and len(err.strip().splitlines()) == 1
    else:
        assert status == 0, err
    nb = tmp_path / "long.ipynb"
    _notebook(nb, [(long, 1), ("import numpy as np\ndef relu(a):\n    return np.maximum(a, 0)", 2)])
    report = check_file(nb, only=["relu"])
    assert report["relu"].status == "pass"
    assert any("In [1] cannot be parsed" in n for n in report.notes) == deep


# ---------------------------------------------------------------- --json and the options


def _cli(*argv: str, cwd: Path | None = None, stdout=subprocess.PIPE):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(
        [sys.executable, "-m", "backproof", "check", *argv],
        stdout=stdout,
        stderr=subprocess.PIPE,
        env=env,
        cwd=cwd,
        timeout=120,
    )


@pytest.mark.parametrize("json_arg", ["hw.py", "./hw.py", "link.py", "{folder}", "{folder}/missing/out.json"])
def test_json_that_is_the_checked_file_or_cannot_be_written_is_refused_before_any_code_runs(
    tmp_path, json_arg
):
    path = tmp_path / "hw.py"
    shutil.copyfile(HOSTILE / "infinite_load.py", path)  # would take the whole load limit if it ran
    os.link(path, tmp_path / "link.py")
    start = time.monotonic()
    run = _cli("hw.py", "--json", json_arg.format(folder=tmp_path), cwd=tmp_path)
    assert time.monotonic() - start < 15
    err = run.stderr.decode()
    assert run.returncode == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert path.read_bytes() == (HOSTILE / "infinite_load.py").read_bytes()


def test_json_to_dev_stdout_keeps_the_text_report(tmp_path):
    out = tmp_path / "out.txt"
    with open(out, "wb") as fh:
        run = _cli(str(SOLUTION), "--only", "relu", "--json", "/dev/stdout", stdout=fh)
    assert run.returncode == 0, run.stderr
    text = out.read_text()
    assert text.startswith("backproof check") and "pass       relu" in text
    assert json.loads(text[text.index("\n{") :])["functions"][0]["name"] == "relu"


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["--time-limit", "inf"], "finite"),
        (["--time-limit", "nan"], "positive"),
        (["--memory", "99999999999999"], "--memory 4096"),
        (["--cell-limit", "inf"], "finite"),
    ],
)
def test_absurd_limits_are_one_line_errors_naming_the_fix(option, says, capsys):
    from backproof.cli import main

    assert main(["check", str(SOLUTION), *option]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


# ---------------------------------------------------------------- the protocol itself


def test_plain_values_cross_the_protocol_unchanged():
    value = (np.arange(6.0).reshape(2, 3), [1, 2.5, None, "s"], {"k": np.float32(1.5)}, 1 + 2j)
    doc, data = P.encode(value)
    back = P.decode(doc, data)
    assert np.array_equal(back[0], value[0]) and back[0].dtype == np.float64
    assert back[1] == [1, 2.5, None, "s"] and back[2]["k"] == np.float32(1.5) and back[3] == 1 + 2j


@pytest.mark.parametrize(
    ("doc", "data"),
    [
        (b'{"$array": ["|O8", [1]]}', b"\0" * 8),  # objects
        (b'{"$array": ["<f8", [2]]}', b"\0" * 8),  # fewer bytes than the shape says
        (b'{"$array": ["<f8", [1]]}', b"\0" * 16),  # bytes left over
        (b'{"$array": ["V8", [1]]}', b"\0" * 8),  # a record
        (b'{"__reduce__": 1}', b""),  # an unknown tag
        (b"[" * 100_000, b""),  # nested beyond any limit
        (b"\x80\x04\x95", b""),  # a pickle
    ],
)
def test_the_checker_refuses_every_frame_the_protocol_does_not_allow(doc, data):
    with pytest.raises(P.ProtocolError):
        P.decode(doc, data)


def test_an_oversized_frame_is_refused_from_its_header_without_reading_it():
    r, w = os.pipe()
    try:
        os.write(w, P.MAGIC + (2**31).to_bytes(4, "little") + (2**50).to_bytes(8, "little"))
        with pytest.raises(P.ProtocolError, match="more than allowed"):
            P.read_frame(r, time.monotonic() + 5)
    finally:
        os.close(r)
        os.close(w)


def test_values_that_are_not_plain_data_are_refused_in_the_worker():
    class Thing:
        pass

    for value in (Thing(), np.array([object()]), {1: 2}, Thing, b"bytes"):
        with pytest.raises(P.Unsendable):
            P.encode(value)
