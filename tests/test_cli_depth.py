"""``backproof train`` with --layers, --activation and --lr-schedule (networks of any depth)."""

import json

import pytest

from backproof.cli import main
from conftest import write_mnist


@pytest.fixture
def tiny(tmp_path):
    write_mnist(tmp_path, n_train=200, n_test=50)
    return tmp_path


def test_train_records_the_architecture_activation_and_schedule_in_the_json(tiny, tmp_path, capsys):
    out = tmp_path / "r.json"
    argv = ["train", "--mode", "minibatch", "--epochs", "2", "--batch-size", "50", "--data", str(tiny)]
    argv += ["--layers", "784,16,8,10", "--activation", "tanh", "--lr-schedule", "linear", "--json", str(out)]
    assert main(argv) == 0
    config = json.loads(out.read_text())["config"]
    assert config["sizes"] == [784, 16, 8, 10]
    assert config["activation"] == "tanh" and config["lr_schedule"] == "linear" and config["init"] == "glorot"
    assert "layers 784-16-8-10 tanh, lr schedule linear" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--layers", "784,10"], "at least one hidden layer"),
        (["--layers", "784,a,10"], "comma-separated"),
        (["--layers", "100,64,10"], "784 pixels"),
        (["--activation", "softplus"], "invalid choice"),
        (["--lr-schedule", "cosine"], "invalid choice"),
    ],
)
def test_bad_depth_flags_give_one_line_and_status_2(tiny, capsys, flags, message):
    with pytest.raises(SystemExit) as exc:
        code = main(["train", "--iterations", "1", "--data", str(tiny), *flags])
        raise SystemExit(code)
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
