r"""The ``backproof`` command: train, show a digit, verify the mathematics.

``backproof train`` reproduces the course exercise and prints the course-style
summary; ``backproof show`` draws one digit; ``backproof verify`` runs every
symbolic proof and its numeric checks. Every error that bad input can cause
exits with status 2 and one line on stderr (``--debug`` shows the traceback).

Non-goals: hyper-parameter search, serving predictions.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import warnings
from pathlib import Path

from .errors import BackproofError, SampleDataWarning

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, status 2, as argparse does, but with a hint
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _int_at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, got {value}")
        return value

    return parse


def _positive_float(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="backproof", description="Backpropagation on MNIST, verified by SymPy.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    t = sub.add_parser("train", help="train the shallow network on MNIST")
    t.add_argument("--mode", choices=("full", "minibatch"), default="full")
    t.add_argument("--iterations", type=_int_at_least(0), default=100, help="full-batch updates T")
    t.add_argument("--epochs", type=_int_at_least(0), default=5, help="minibatch epochs")
    t.add_argument("--batch-size", type=_int_at_least(1), default=100, help="minibatch size B")
    t.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate gamma")
    t.add_argument("--hidden", type=_int_at_least(1), default=64, help="hidden units Nh")
    _add_depth_arguments(t)
    t.add_argument("--seed", type=_int_at_least(0), default=0)
    t.add_argument(
        "--eval-every",
        type=_int_at_least(1),
        default=None,
        help="record metrics every this many updates (default: every iteration "
        "for full-batch, every epoch for minibatch)",
    )
    t.add_argument(
        "--textbook",
        action="store_true",
        help="backprop by the chain -d/y through softmax_jvp instead of the fused y - d",
    )
    t.add_argument("--data", type=Path, default=None, help="directory holding the MNIST IDX files")
    t.add_argument("--json", type=Path, default=None, metavar="OUT", help="write results as JSON")
    t.add_argument("--save", type=Path, default=None, metavar="MODEL.npz", help="save parameters")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    s = sub.add_parser("show", help="draw one MNIST digit")
    s.add_argument("index", type=_int_at_least(0))
    s.add_argument("--split", choices=("train", "test"), default="train")
    s.add_argument("--data", type=Path, default=None)
    s.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="FILE.png",
        help="save to a file instead of opening a window",
    )

    v = sub.add_parser("verify", help="prove every identity with SymPy and check it against NumPy")
    v.add_argument("--json", type=Path, default=None, metavar="OUT")

    from .check._cli import add_parser as add_check_parser  # `backproof check` (issue 11), lives in check/

    add_check_parser(sub)
    return parser


# --- networks of any depth (issue 10): --layers, --activation, --lr-schedule --------------------


def _layer_sizes(text):
    try:
        sizes = [int(v) for v in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a comma-separated list of sizes like 784,256,128,10"
        ) from None
    if len(sizes) < 3 or min(sizes) < 1:
        raise argparse.ArgumentTypeError(
            f"need inputs, at least one hidden layer and outputs, like 784,64,10; got {text}"
        )
    return sizes


def _add_depth_arguments(t) -> None:
    t.add_argument(
        "--layers",
        type=_layer_sizes,
        default=None,
        metavar="784,H1,...,10",
        help="layer sizes, inputs to outputs (default: 784,HIDDEN,10)",
    )
    t.add_argument(
        "--activation",
        choices=("relu", "leaky_relu", "sigmoid", "tanh"),
        default="relu",
        help="hidden activation (default relu)",
    )
    t.add_argument(
        "--lr-schedule",
        choices=("constant", "linear"),
        default="constant",
        help="constant gamma, or linear decay gamma_t = gamma (1 - t/T) over the T updates",
    )


def _depth_settings(args) -> dict:
    return {"layers": args.layers, "activation": args.activation, "lr_schedule": args.lr_schedule}


def _architecture(config) -> str:
    sizes = "-".join(map(str, config["sizes"]))
    return f"layers {sizes} {config['activation']}, lr schedule {config['lr_schedule']}"


# ------------------------------------------------------------------------------------------------------


def _version() -> str:
    from . import __version__

    return __version__


def _check_output_path(path: Path | None, flag: str) -> None:
    if path is not None and not path.parent.resolve().is_dir():
        raise BackproofError(f"{flag} {path}: directory {path.parent} does not exist; create it first")


def _train(args) -> int:
    import numpy as np

    from .mnist import load_dataset
    from .model_io import save_model
    from .preprocess import normalize
    from .training import train_full_batch, train_minibatch

    _check_output_path(args.json, "--json")
    _check_output_path(args.save, "--save")
    data = load_dataset(args.data)
    x, xt = normalize(data.train_images), normalize(data.test_images)
    common = dict(
        lr=args.lr,
        hidden=args.hidden,
        seed=args.seed,
        test=(xt, data.test_labels),
        fused=not args.textbook,
        progress=not args.no_progress and sys.stderr.isatty(),
        data=data.describe(),
        **_depth_settings(args),
    )
    print(f"data: {data.source.description}: {data.n_train} training, {data.n_test} test images")
    if args.mode == "full":
        result = train_full_batch(
            x, data.train_labels, iterations=args.iterations, eval_every=args.eval_every or 1, **common
        )
        what = f"full-batch gradient descent, T = {args.iterations}"
    else:
        result = train_minibatch(
            x,
            data.train_labels,
            epochs=args.epochs,
            batch_size=args.batch_size,
            eval_every=args.eval_every,
            **common,
        )
        what = f"minibatch SGD, {args.epochs} epochs, B = {args.batch_size}"
    print(
        f"{what}, lr = {args.lr:g}, {_architecture(result.config)}, "
        f"seed = {args.seed}: {result.seconds:.2f} s"
    )
    print(f"{'':8}{'train loss':>12}{'train error':>13}{'test loss':>12}{'test error':>12}")
    for name, m in (("initial", result.initial), ("final", result.final)):
        print(
            f"{name:8}{m['train_loss']:12.4f}{m['train_error']:12.2f}%"
            f"{m['test_loss']:12.4f}{m['test_error']:11.2f}%"
        )
    print("loss: mean over samples of -sum(d log y); the course's eval_loss is this / 10")
    if args.json is not None:
        record = result.to_dict()
        record["versions"] = {
            "backproof": _version(),
            "numpy": np.__version__,
            "python": sys.version.split()[0],
        }
        _atomic_write_text(args.json, json.dumps(record, indent=2))
        print(f"results written to {args.json}")
    if args.save is not None:
        path = save_model(args.save, result.params, {"config": result.config, "data": result.data})
        print(f"model saved to {path}")
    return 0


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _show(args) -> int:
    import matplotlib

    if args.out is not None:
        matplotlib.use("Agg")
        _check_output_path(args.out, "--out")
    import matplotlib.pyplot as plt

    from .display import show
    from .mnist import load_mnist

    images, labels = load_mnist(args.split, args.data)
    if args.index >= labels.shape[0]:
        raise BackproofError(
            f"index {args.index} is out of range: the {args.split} split has {labels.shape[0]} images"
        )
    show(images[:, args.index], title=f"{args.split} image {args.index}: label {labels[args.index]}")
    print(f"{args.split} image {args.index}: label {labels[args.index]}")
    if args.out is not None:
        plt.savefig(args.out, dpi=100, bbox_inches="tight")
        print(f"saved to {args.out}")
    else:
        plt.show()
    return 0


def _verify(args) -> int:
    from .verify import format_table, run_all

    _check_output_path(args.json, "--json")
    reports = run_all()
    print(format_table(reports))
    if args.json is not None:
        _atomic_write_text(args.json, json.dumps([r.to_dict() for r in reports], indent=2))
        print(f"report written to {args.json}")
    return 0 if all(r.ok for r in reports) else 1


def main(argv: list[str] | None = None) -> int:
    r"""Entry point of the ``backproof`` command; returns the exit status."""
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler = getattr(args, "run", None) or {"train": _train, "show": _show, "verify": _verify}[args.command]
    with warnings.catch_warnings():
        warnings.simplefilter("always", SampleDataWarning)
        warnings.showwarning = _one_line_warning
        try:
            return handler(args)
        except (BackproofError, OSError, ValueError) as exc:
            if args.debug:
                raise
            print(f"backproof: error: {exc}", file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print("backproof: interrupted", file=sys.stderr)
            return 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"backproof: warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
