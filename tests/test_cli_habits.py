"""The command as a learner uses it (issue 21): flags that imply the mode, a line per epoch, help for
every argument, no output written onto an input, a closed stdout, FIFOs, evaluate's memory."""

import argparse
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import backproof.training
from backproof import load_model, save_model
from backproof.cli import _build_parser, main
from backproof.network import evaluate, init_network
from helpers import write_mnist


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tiny")
    write_mnist(directory, n_train=200, n_test=50)
    return directory


@pytest.fixture(scope="module")
def model(tiny, tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "m.npz"
    args = ["train", "--iterations", "2", "--no-progress", "--data", str(tiny), "--save", str(path)]
    assert main(args) == 0
    return path


def run(*args, env=None, **kwargs):
    return subprocess.run(
        [sys.executable, "-m", "backproof", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg", **(env or {})},
        **kwargs,
    )


# ------------------------------------------------------------------------------ the mode from the flags


def test_layers_with_epochs_trains_by_minibatch_without_naming_the_mode(tiny, capsys):
    args = ["train", "--layers", "784,16,8,10", "--activation", "tanh", "--epochs", "2"]
    assert main([*args, "--batch-size", "50", "--no-progress", "--data", str(tiny)]) == 0
    out = capsys.readouterr().out
    assert "minibatch SGD, 2 epochs, B = 50" in out and "784-16-8-10 tanh" in out


def test_layers_alone_means_minibatch_and_iterations_alone_full_batch(tiny, capsys):
    assert main(["train", "--layers", "784,8,10", "--epochs", "1", "--no-progress", "--data", str(tiny)]) == 0
    assert "minibatch SGD" in capsys.readouterr().out
    assert main(["train", "--iterations", "2", "--no-progress", "--data", str(tiny)]) == 0
    assert "full-batch gradient descent, T = 2" in capsys.readouterr().out


def test_flags_of_both_modes_without_mode_are_refused_with_the_fix(capsys):
    assert main(["train", "--iterations", "3", "--epochs", "2"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "flags of one mode" in err


# ------------------------------------------------------------------------------ a line per epoch


def test_minibatch_prints_a_line_per_epoch_with_train_and_test_figures(tiny, capsys):
    args = ["train", "--epochs", "3", "--batch-size", "50", "--no-progress", "--data", str(tiny)]
    assert main(args) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 0/3", "epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("train loss" in line and "test loss" in line and "%" in line for line in lines)


def test_full_batch_prints_a_line_per_tenth_of_the_run(tiny, capsys):
    assert main(["train", "--iterations", "20", "--no-progress", "--data", str(tiny)]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("iteration ")]
    assert [line.split(":")[0] for line in lines] == [f"iteration {t}/20" for t in range(0, 21, 2)]


# ------------------------------------------------------------------------------ help for every argument


def test_every_argument_of_every_command_has_help():
    parser = _build_parser()
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    missing = [
        f"{name} {action.dest}"
        for name, command in sub.choices.items()
        for action in command._actions
        if not isinstance(action, argparse._HelpAction) and not action.help
    ]
    assert missing == []


def test_train_help_says_it_trains_any_depth():
    out = " ".join(run("train", "--help").stdout.split())
    assert "any depth with --layers" in out and "one line per epoch" in out


# ------------------------------------------------------------------------------ outputs onto inputs


def test_evaluate_refuses_to_write_its_json_onto_the_model_and_keeps_it(model, tiny):
    before = model.read_bytes()
    proc = run("evaluate", model, "--json", model, "--data", tiny)
    assert proc.returncode == 2 and "which this command reads" in proc.stderr
    assert "Traceback" not in proc.stderr and model.read_bytes() == before


def test_a_hard_link_to_the_model_is_the_model(model, tiny, tmp_path):
    link = tmp_path / "other-name.json"
    os.link(model, link)
    proc = run("evaluate", model, "--json", link, "--data", tiny)
    assert proc.returncode == 2 and "the model" in proc.stderr
    assert load_model(model)[0].sizes == (784, 64, 10)


def test_train_refuses_to_write_onto_a_data_file_before_training(tmp_path, capsys):
    write_mnist(tmp_path, n_train=100, n_test=20)
    data_file = tmp_path / "train-labels-idx1-ubyte.gz"
    before = data_file.read_bytes()
    assert main(["train", "--iterations", "1", "--data", str(tmp_path), "--json", str(data_file)]) == 2
    captured = capsys.readouterr()
    assert "a data file" in captured.err and "full-batch" not in captured.out
    assert data_file.read_bytes() == before


def test_show_refuses_to_draw_onto_a_data_file(tmp_path, capsys):
    write_mnist(tmp_path, n_train=10, n_test=10)
    victim = tmp_path / "t10k-images-idx3-ubyte.gz"
    before = victim.read_bytes()
    link = tmp_path / "digit.png"  # a symlink: the file written would be its target
    link.symlink_to(victim)
    assert main(["show", "1", "--split", "test", "--data", str(tmp_path), "--out", str(link)]) == 2
    assert "a data file" in capsys.readouterr().err and victim.read_bytes() == before


def test_devnull_as_json_is_still_allowed_beside_the_model(model, tiny):
    assert run("evaluate", model, "--json", os.devnull, "--data", tiny).returncode == 0


# ------------------------------------------------------------------------------ a closed stdout


def test_a_closed_stdout_never_costs_the_saved_model(tiny, tmp_path):
    out = tmp_path / "m.npz"
    cmd = [sys.executable, "-m", "backproof", "train", "--iterations", "2", "--data", str(tiny)]
    proc = subprocess.run(  # bash runs the command with its stdout closed (>&-)
        ["/bin/bash", "-c", f'"$@" --save "{out}" >&-', "bash", *cmd],
        stderr=subprocess.PIPE,
        text=True,
        timeout=120,
        env={**os.environ, "MPLBACKEND": "Agg"},
    )
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert load_model(out)[0].sizes == (784, 64, 10)


# ------------------------------------------------------------------------------ FIFOs as inputs


def _fifo(path):
    os.mkfifo(path)
    return path


def test_a_fifo_as_model_is_refused_at_once(tmp_path, tiny):
    fifo = _fifo(tmp_path / "m.npz")
    proc = run("evaluate", fifo, "--data", tiny)  # a blocking open would hit run's timeout
    assert proc.returncode == 2 and "not a regular file" in proc.stderr


def test_a_fifo_as_a_file_mirror_is_skipped_with_the_reason(tmp_path, monkeypatch):
    from backproof import mnist

    mirror = tmp_path / "mirror"
    mirror.mkdir()
    for stems in mnist.FILES.values():
        for stem in stems:
            os.mkfifo(mirror / f"{stem}.gz")
    done = threading.Event()

    def attempt():
        with pytest.raises(mnist.DownloadError, match="not a regular file"):
            mnist.download_mnist(tmp_path / "cache", mirrors=[mirror.as_uri() + "/"])
        done.set()

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(30)
    assert done.is_set(), "download_mnist blocked on a FIFO"


def test_read_idx_refuses_a_fifo(tmp_path):
    from backproof.errors import IDXFormatError
    from backproof.idx import read_idx

    with pytest.raises(IDXFormatError, match="not a regular file"):
        read_idx(_fifo(tmp_path / "x.idx"))


# ------------------------------------------------------------------------------ evaluate's memory


def test_evaluate_estimates_memory_before_any_work(model, tiny, monkeypatch, capsys):
    monkeypatch.setattr(backproof.training, "_available_bytes", lambda: 1 << 20)
    assert main(["evaluate", str(model), "--data", str(tiny)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "GiB of memory" in err and "784-64-10" in err


def test_evaluate_in_chunks_gives_the_whole_batch_result(monkeypatch):
    rng = np.random.default_rng(0)
    params = init_network([784, 32, 10], "relu", rng, np.float64)
    x = rng.standard_normal((784, 257))
    labels = rng.integers(0, 10, 257)
    whole = evaluate(params, x, labels)
    import backproof.network

    monkeypatch.setattr(backproof.network, "_EVAL_BYTES", 3 * 42 * 8 * 10)  # 10 samples a chunk
    chunked = evaluate(params, x, labels)
    assert chunked[0] == pytest.approx(whole[0], rel=1e-12) and chunked[1] == pytest.approx(whole[1])


def test_a_model_saved_and_loaded_still_evaluates_the_same(tmp_path):
    rng = np.random.default_rng(1)
    params = init_network([784, 8, 10], "relu", rng, np.float32)
    save_model(tmp_path / "p.npz", params)
    x = rng.standard_normal((784, 40)).astype(np.float32)
    labels = rng.integers(0, 10, 40)
    assert evaluate(load_model(tmp_path / "p.npz")[0], x, labels) == evaluate(params, x, labels)
