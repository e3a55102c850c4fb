"""The backproof command end to end, and the classes of issue 13 that only the command shows.

Categories: outputs checked before any work; outputs that are not regular files (devices, links,
pipes); the model written before the JSON and never lost; permissions (umask); SIGTERM and kill -9;
a reader that closes the pipe; terminals that cannot encode the output; strict JSON; evaluate.
"""

import json
import os
import signal
import stat
import subprocess
import sys
import time
import types

import numpy as np
import pytest

import backproof.verify
from backproof import load_model
from backproof.cli import main
from helpers import write_mnist


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny")
    write_mnist(directory, n_train=200, n_test=50)
    return directory


def run(*args, timeout=120, env=None, **kwargs):
    """The installed command in a fresh interpreter, as a user runs it."""
    full_env = {**os.environ, "MPLBACKEND": "Agg", **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "backproof", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        **kwargs,
    )


def one_line_error(proc, code=2):
    """The error: one line, the last on stderr (progress lines may come before it), no traceback."""
    assert proc.returncode == code, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.strip().splitlines() if line.startswith("backproof:")]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == lines[0]
    return lines[0]


def test_train_minibatch_writes_the_documented_json(tiny, tmp_path, capsys):
    out = tmp_path / "r.json"
    args = ["train", "--mode", "minibatch", "--epochs", "2", "--batch-size", "50", "--data", str(tiny)]
    assert main([*args, "--json", str(out), "--save", str(tmp_path / "m.npz")]) == 0
    record = json.loads(out.read_text())
    for key in ("config", "data", "history"):
        assert key in record
    for key in ("train_loss", "train_error"):
        assert key in record["initial"]
    for key in ("train_loss", "train_error", "test_loss", "test_error"):
        assert key in record["final"]
    assert record["data"]["n_train"] == 200 and record["config"]["epochs"] == 2
    text = capsys.readouterr().out
    assert "initial" in text and "final" in text and "course's eval_loss" in text
    assert (tmp_path / "m.npz").is_file()


@pytest.mark.parametrize(("epochs", "said"), [("1", "1 epoch,"), ("2", "2 epochs,")])
def test_train_minibatch_summary_says_epoch_or_epochs(tiny, capsys, epochs, said):
    args = ["train", "--mode", "minibatch", "--epochs", epochs, "--batch-size", "50"]
    assert main([*args, "--no-progress", "--data", str(tiny)]) == 0
    assert f"minibatch SGD, {said} B = 50" in capsys.readouterr().out


def test_train_full_batch_prints_the_course_summary(tiny, capsys):
    assert main(["train", "--iterations", "3", "--data", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "full-batch gradient descent, T = 3" in out
    assert "IDX data (not the standard MNIST files)" in out


def test_show_saves_a_png(tiny, tmp_path):
    out = tmp_path / "d.png"
    assert main(["show", "3", "--split", "test", "--data", str(tiny), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_show_out_without_suffix_reports_the_file_it_wrote(tiny, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["show", "42", "--data", str(tiny), "--out", "digit"]) == 0
    assert "saved to digit.png" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["digit.png"]


def test_the_installed_command_runs_as_a_module(tiny):
    proc = run("train", "--iterations", "1", "--data", tiny)
    assert proc.returncode == 0, proc.stderr
    assert "final" in proc.stdout


# ----------------------------------------------------------------------------- evaluate


def test_evaluate_scores_a_saved_model_on_the_test_set(tiny, tmp_path, capsys):
    model = tmp_path / "m.npz"
    assert main(["train", "--iterations", "5", "--data", str(tiny), "--save", str(model)]) == 0
    capsys.readouterr()
    assert main(["evaluate", str(model), "--data", str(tiny), "--json", str(tmp_path / "e.json")]) == 0
    out = capsys.readouterr().out
    assert "test loss" in out and "test error" in out and "784 -> 64 -> 10" in out
    assert out.startswith("data: IDX data (not the standard MNIST files)")  # it says what it scored on
    assert "not a test-set score" not in out  # that note is for the offline sample only
    record = json.loads((tmp_path / "e.json").read_text())
    assert record["n_test"] == 50 and 0 <= record["test_error"] <= 100


@pytest.mark.parametrize("case", ["a folder", "missing", "not a model"])
def test_evaluate_on_a_bad_model_path_names_the_file(tiny, tmp_path, case):
    target = {"a folder": tmp_path, "missing": tmp_path / "nope.npz", "not a model": tmp_path / "x.npz"}[case]
    if case == "not a model":
        target.write_text("hello")
    line = one_line_error(run("evaluate", target, "--data", tiny))
    assert str(target) in line


# ----------------------------------------------------------------------------- outputs checked first


def _unwritable_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root ignores the bits; /sys refuses new files even to root
        return "/sys"
    return str(folder)


OUTPUT_CASES = {
    "json is an existing folder": lambda t: ["--json", str(t)],
    "save is an existing folder": lambda t: ["--save", str(t)],
    "json folder missing": lambda t: ["--json", str(t / "no" / "r.json")],
    "save folder missing": lambda t: ["--save", str(t / "no" / "m.npz")],
    "json folder not writable": lambda t: ["--json", _unwritable_folder(t) + "/r.json"],
    "save folder not writable": lambda t: ["--save", _unwritable_folder(t) + "/m.npz"],
    "json empty": lambda t: ["--json", ""],
    "json dot": lambda t: ["--json", "."],
    "save dot": lambda t: ["--save", "."],
    "json ends with a slash": lambda t: ["--json", str(t / "new") + "/"],
    "json and save the same file": lambda t: ["--json", str(t / "m.npz"), "--save", str(t / "m.npz")],
    "json names the model save adds .npz to": lambda t: ["--json", str(t / "m.npz"), "--save", str(t / "m")],
    "json through a link to the model": lambda t: ["--json", str(t / "link"), "--save", str(t / "m.npz")],
    "symlink loop in the folder": lambda t: ["--json", str(t / "loop" / "r.json")],
    "output is a symlink loop": lambda t: ["--save", str(t / "self.npz")],
    "parent is a file": lambda t: ["--json", str(t / "file" / "r.json")],
    "link to a missing file": lambda t: ["--json", str(t / "dangling")],
}


@pytest.fixture
def out_dir(tmp_path):
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    (tmp_path / "self.npz").symlink_to(tmp_path / "self.npz")
    (tmp_path / "file").write_text("x")
    (tmp_path / "link").symlink_to(tmp_path / "m.npz")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone" / "x")
    return tmp_path


@pytest.mark.parametrize("case", list(OUTPUT_CASES), ids=list(OUTPUT_CASES))
def test_a_bad_output_is_refused_before_any_work(tiny, out_dir, case, capsys):
    outputs = OUTPUT_CASES[case](out_dir)
    before = sorted(p.name for p in out_dir.iterdir())
    code = main(["train", "--iterations", "2", "--data", str(tiny), *outputs])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""  # refused before loading data or training
    assert captured.err.startswith("backproof: error: --") and captured.err.count("\n") == 1
    assert sorted(p.name for p in out_dir.iterdir()) == before  # nothing written, nothing removed


@pytest.mark.parametrize("command", [["show", "0"], ["verify"], ["evaluate", "m.npz"]])
def test_every_command_checks_its_output_before_any_work(tmp_path, command, capsys):
    flag = "--out" if command[0] == "show" else "--json"
    assert main([*command, flag, str(tmp_path)]) == 2
    assert "existing folder" in capsys.readouterr().err


# ----------------------------------------------------------------------------- outputs that are not files


def test_json_to_dev_null_keeps_the_device(tiny):
    proc = run("train", "--iterations", "1", "--data", tiny, "--json", "/dev/null")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_save_to_dev_null_writes_to_the_device_and_creates_no_file_beside_it(tiny):
    proc = run("train", "--iterations", "1", "--data", tiny, "--save", "/dev/null")
    assert proc.returncode == 0, proc.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not os.path.exists("/dev/null.npz")
    assert "/dev/null.npz" not in proc.stdout


def test_an_output_naming_a_missing_device_is_refused_before_any_work(tiny):
    proc = run("train", "--iterations", "1", "--data", tiny, "--json", "/dev/backproof-no-such-device")
    assert proc.returncode == 2
    assert "no such device" in proc.stderr and proc.stdout == ""
    assert not os.path.exists("/dev/backproof-no-such-device")


def test_json_to_dev_stdout_writes_the_json_there_and_keeps_the_link(tiny):
    before = os.readlink("/dev/stdout")
    proc = run("train", "--iterations", "1", "--data", tiny, "--json", "/dev/stdout")
    assert proc.returncode == 0, proc.stderr
    assert "history" in json.loads(proc.stdout[proc.stdout.index("{") : proc.stdout.rindex("}") + 1])
    assert os.path.islink("/dev/stdout") and os.readlink("/dev/stdout") == before


def test_json_to_dev_stdout_redirected_to_a_file_appends_to_that_same_file(tiny, tmp_path):
    log = tmp_path / "log.txt"
    with open(log, "w") as fh:
        inode = os.fstat(fh.fileno()).st_ino
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "backproof",
                "train",
                "--iterations",
                "1",
                "--data",
                str(tiny),
                "--json",
                "/dev/stdout",
            ],
            stdout=fh,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 0, proc.stderr
    assert log.stat().st_ino == inode  # the shell's file, not a new one renamed over it
    text = log.read_text()  # everything, in order: the summary, the JSON, the last line
    assert text.index("final") < text.index('"history"') < text.index("results written to /dev/stdout")
    assert "history" in json.loads(text[text.index("{") : text.rindex("}") + 1])


def test_a_symlink_to_a_file_is_kept_and_its_target_replaced(tiny, tmp_path):
    real = tmp_path / "real.json"
    real.write_text("old")
    (tmp_path / "link.json").symlink_to(real)
    assert (
        main(["train", "--iterations", "1", "--data", str(tiny), "--json", str(tmp_path / "link.json")]) == 0
    )
    assert (tmp_path / "link.json").is_symlink()
    assert "history" in json.loads(real.read_text())


def test_a_json_that_cannot_be_written_never_costs_the_model(tiny, tmp_path):
    model = tmp_path / "m.npz"
    proc = run("train", "--iterations", "3", "--data", tiny, "--save", model, "--json", "/dev/full")
    line = one_line_error(proc)
    assert "/dev/full" in line and "No space left" in line  # a full disk names the file
    params, _ = load_model(model)
    assert params.sizes == (784, 64, 10)


def test_a_full_disk_during_the_model_write_names_the_file_and_keeps_the_old_model(
    tiny, tmp_path, monkeypatch
):
    model = tmp_path / "m.npz"
    assert main(["train", "--iterations", "1", "--data", str(tiny), "--save", str(model)]) == 0
    before = model.read_bytes()

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    assert main(["train", "--iterations", "1", "--data", str(tiny), "--save", str(model)]) == 2
    assert model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


# ----------------------------------------------------------------------------- permissions


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_model_gets_the_permissions_the_umask_allows(tiny, tmp_path, umask, mode):
    model = tmp_path / "m.npz"
    proc = run(
        "train", "--iterations", "1", "--data", tiny, "--save", model, preexec_fn=lambda: os.umask(umask)
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(model.stat().st_mode) == mode


def test_overwriting_a_model_keeps_its_permissions(tiny, tmp_path):
    model = tmp_path / "m.npz"
    model.write_bytes(b"old")
    model.chmod(0o644)
    proc = run(
        "train", "--iterations", "1", "--data", tiny, "--save", model, preexec_fn=lambda: os.umask(0o077)
    )
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(model.stat().st_mode) == 0o644


# ----------------------------------------------------------------------------- signals and pipes


def test_sigterm_during_training_exits_143_with_one_line_and_no_temporary_file(tiny, tmp_path):
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backproof",
            "train",
            "--iterations",
            "100000",
            "--data",
            str(tiny),
            "--save",
            str(tmp_path / "m.npz"),
            "--json",
            str(tmp_path / "r.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().startswith("data:")  # training has started
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 143
    assert err.strip().splitlines()[-1] == "backproof: terminated (SIGTERM); unfinished files removed"
    assert "Traceback" not in err
    assert list(tmp_path.iterdir()) == []


def test_sigterm_while_the_model_is_written_removes_the_temporary_file(tiny, tmp_path, monkeypatch, capsys):
    real_savez = np.savez

    def savez_then_sigterm(fh, **arrays):
        real_savez(fh, **arrays)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1)  # the handler runs here

    monkeypatch.setattr(np, "savez", savez_then_sigterm)
    assert main(["train", "--iterations", "1", "--data", str(tiny), "--save", str(tmp_path / "m.npz")]) == 143
    assert list(tmp_path.iterdir()) == []
    assert "terminated" in capsys.readouterr().err


def test_a_temporary_file_left_by_kill_9_is_removed_by_the_next_save(tiny, tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = tmp_path / f".m.npz.{dead.pid}.backproof-tmp"
    stale.write_bytes(b"\0" * 4096)
    assert main(["train", "--iterations", "1", "--data", str(tiny), "--save", str(tmp_path / "m.npz")]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.npz"]


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_a_reader_that_closes_the_pipe_loses_nothing_and_gets_no_traceback(tiny, tmp_path, unbuffered):
    model = tmp_path / "m.npz"
    env = {**os.environ, "PYTHONUNBUFFERED": unbuffered} if unbuffered else dict(os.environ)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "backproof",
            "train",
            "--iterations",
            "30",
            "--data",
            str(tiny),
            "--save",
            str(model),
            "--json",
            str(tmp_path / "r.json"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    proc.stdout.readline()  # like `| head -1`
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 0, err
    assert "Traceback" not in err and "Exception ignored" not in err and "BrokenPipe" not in err
    load_model(model)
    assert "history" in json.loads((tmp_path / "r.json").read_text())


def test_a_reader_that_closes_the_pipe_at_once_is_no_error(tiny):
    proc = subprocess.run(
        f"{sys.executable} -m backproof train --iterations 2 --data {tiny} | true",
        shell=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception" not in proc.stderr and "error" not in proc.stderr


# ----------------------------------------------------------------------------- terminals


def _fake_verify(monkeypatch, rows=2):
    """verify's work replaced by a table with its marks (test_verify.py runs the real proofs)."""
    reports = [
        types.SimpleNamespace(number=i, ok=i != 2, to_dict=lambda i=i: {"number": i})
        for i in range(1, rows + 1)
    ]

    def row(r):
        return f"{r.number:>2}  identity_{r.number} {'✓' if r.ok else '✗'} → {'ok' if r.ok else 'FAILED'}"

    monkeypatch.setattr(backproof.verify, "iter_reports", lambda: iter(reports))
    monkeypatch.setattr(backproof.verify, "table_header", lambda: [])
    monkeypatch.setattr(backproof.verify, "table_row", row)
    monkeypatch.setattr(backproof.verify, "table_footer", lambda reports: [])


@pytest.mark.parametrize("encoding", ["ascii", "cp1252", "latin-1"])
def test_verify_degrades_on_a_terminal_that_cannot_encode_its_marks(monkeypatch, encoding):
    import io

    _fake_verify(monkeypatch)
    raw = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(raw, encoding=encoding))
    assert main(["verify"]) == 1  # one identity failed (the fake's second)
    sys.stdout.flush()
    text = raw.getvalue().decode(encoding)
    assert "identity_1 ok -> ok" in text and "identity_2 FAIL -> FAILED" in text


def test_verify_under_an_ascii_locale_piped_to_head_prints_and_exits_cleanly():
    """A real C locale and a reader that stops after one line; the proofs are faked to keep it quick
    (test_verify.py runs the real ones)."""
    script = (
        "import sys, types, backproof.verify as V\n"
        "from backproof.cli import main\n"
        "V.iter_reports = lambda: (types.SimpleNamespace(number=i, ok=True) for i in range(20000))\n"
        "V.table_header = lambda: []\n"
        "V.table_row = lambda r: f'identity {r.number} \\u2713'\n"
        "V.table_footer = lambda reports: []\n"
        "sys.exit(main(['verify']))\n"
    )
    env = {**os.environ, "LC_ALL": "C", "LANG": "C", "PYTHONIOENCODING": "ascii", "PYTHONUTF8": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    head = proc.stdout.readline()
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 0, err
    assert head == b"identity 0 ok\n" and "Traceback" not in err and "Exception ignored" not in err
    assert err.startswith("backproof: proving")  # says what it does before the ~20 s of work


def test_a_folder_name_that_is_not_utf8_is_shown_not_fatal(tmp_path):
    odd = os.fsdecode(bytes(tmp_path) + b"/caf\xe9")
    line = one_line_error(run("train", "--data", odd))
    assert "caf" in line


def test_progress_goes_to_stderr_as_lines_when_it_is_not_a_terminal(tiny):
    proc = run("train", "--iterations", "50", "--data", tiny)
    assert proc.returncode == 0
    lines = proc.stderr.splitlines()
    assert lines and all("\r" not in line and "█" not in line for line in lines)
    progress = [line for line in lines if line.startswith("full-batch")]
    assert len(progress) >= 2 and "0/50" in progress[0] and "/50" in progress[-1]


# ----------------------------------------------------------------------------- strict JSON


def test_json_is_strict_and_refuses_nan_after_saving_the_model(tiny, tmp_path, monkeypatch, capsys):
    import backproof.training as training

    real = training.TrainingResult.to_dict

    def with_nan(self):
        record = real(self)
        record["final"]["test_loss"] = float("nan")
        return record

    monkeypatch.setattr(training.TrainingResult, "to_dict", with_nan)
    model, out = tmp_path / "m.npz", tmp_path / "r.json"
    assert (
        main(["train", "--iterations", "1", "--data", str(tiny), "--save", str(model), "--json", str(out)])
        == 2
    )
    assert "NaN" in capsys.readouterr().err
    assert model.is_file() and not out.exists()


def test_with_no_data_anywhere_the_error_is_short_and_agrees_with_the_readme(tmp_path):
    script = (
        "import sys, backproof._download as dl, backproof.mnist as mn\n"
        "from backproof.cli import main\n"
        "dl.MIRRORS = ('http://127.0.0.1:9/',)\n"
        "mn._standard_places = lambda: []\n"
        "mn._sample_location = lambda: None\n"
        "sys.exit(main(['train']))\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "BACKPROOF_MNIST"}
    env["BACKPROOF_CACHE"] = str(tmp_path)
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, env=env
    )
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3 and len(proc.stderr) < 600, proc.stderr
    assert 'pip install -e ".[offline]"' in proc.stderr and "BACKPROOF_MNIST" in proc.stderr


def test_numpy_numbers_in_the_results_are_written_as_plain_json(tiny, tmp_path, monkeypatch):
    import backproof.training as training

    real = training.TrainingResult.to_dict

    def with_numpy(self):
        record = real(self)
        record["config"]["seed"] = np.int64(7)
        record["extra"] = np.arange(3)
        return record

    monkeypatch.setattr(training.TrainingResult, "to_dict", with_numpy)
    out = tmp_path / "r.json"
    assert main(["train", "--iterations", "1", "--data", str(tiny), "--json", str(out)]) == 0
    record = json.loads(out.read_text())
    assert record["config"]["seed"] == 7 and record["extra"] == [0, 1, 2]


def test_a_long_step_prints_a_line_every_interval_so_a_log_never_goes_silent(capsys):
    from backproof.cli import _heartbeat

    with _heartbeat("verify", every=0.05):
        time.sleep(0.3)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) >= 3 and all(line.startswith("backproof: verify: ") for line in lines)
    assert "still working" in lines[0] and lines[-1].startswith("backproof: verify: done in")


# ----------------------------------------------------------------------------- flags the run would ignore


@pytest.mark.parametrize(
    "flags",
    [
        ["--mode", "minibatch", "--iterations", "5"],
        ["--mode", "full", "--epochs", "1"],
        ["--iterations", "5", "--batch-size", "10"],  # flags of both modes, no --mode
        ["--layers", "784,32,10", "--hidden", "16"],
    ],
)
def test_a_flag_the_chosen_run_would_ignore_is_refused_before_any_work(flags, capsys):
    assert main(["train", *flags]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "drop it" in captured.err or "--layers only" in captured.err or "flags of one mode" in captured.err


def test_train_help_shows_each_default():
    proc = run("train", "--help")
    assert proc.returncode == 0
    for default in ("(default: 100)", "(default: 5)", "(default: 0.05)", "(default: 64)", "(default: 0)"):
        assert default in " ".join(proc.stdout.split()), default


def test_show_without_out_and_without_a_display_fails_and_says_how_to_save(tiny):
    proc = run("show", "3", "--data", tiny, env={"MPLBACKEND": "Agg"})
    line = one_line_error(proc)
    assert "--out digit.png" in line and "no display" in line
