"""The backproof command end to end."""

import json
import subprocess
import sys

import pytest

from backproof.cli import main
from helpers import write_mnist


@pytest.fixture
def tiny(tmp_path):
    write_mnist(tmp_path, n_train=200, n_test=50)
    return tmp_path


def test_train_minibatch_writes_the_documented_json(tiny, tmp_path, capsys):
    out = tmp_path / "r.json"
    assert (
        main(
            [
                "train",
                "--mode",
                "minibatch",
                "--epochs",
                "2",
                "--batch-size",
                "50",
                "--data",
                str(tiny),
                "--json",
                str(out),
                "--save",
                str(tmp_path / "m.npz"),
            ]
        )
        == 0
    )
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


def test_train_full_batch_prints_the_course_summary(tiny, capsys):
    assert main(["train", "--iterations", "3", "--data", str(tiny)]) == 0
    assert "full-batch gradient descent, T = 3" in capsys.readouterr().out


def test_show_saves_a_png(tiny, tmp_path):
    out = tmp_path / "d.png"
    assert main(["show", "3", "--split", "test", "--data", str(tiny), "--out", str(out)]) == 0
    assert out.read_bytes()[:4] == b"\x89PNG"


def test_the_installed_command_runs_as_a_module(tiny):
    proc = subprocess.run(
        [sys.executable, "-m", "backproof", "train", "--iterations", "1", "--data", str(tiny)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "final" in proc.stdout
