r"""The ``backproof`` command: train, show a digit, verify the mathematics.

``backproof train`` reproduces the course exercise and prints the course-style
summary; ``backproof show`` draws one digit; ``backproof verify`` runs every
symbolic proof and its numeric checks; ``backproof evaluate`` scores a saved model
on the test set. Every error that bad input can cause exits with status 2 and one
line on stderr (``--debug`` shows the traceback).

Nothing is lost, nothing damaged: every output path is checked before any work
(:mod:`backproof._output`), the model is written before the JSON, SIGTERM is
handled like Ctrl-C (temporary files removed, exit 143), a reader that closes the
pipe (``| head -1``) neither loses the saved files nor prints a traceback (the
Python documentation's SIGPIPE recipe), and output that the terminal cannot encode
(an ASCII locale, a Windows code page, a folder name that is not UTF-8) degrades
to plain characters instead of failing (the streams: ``backproof._stream``).

Non-goals: hyper-parameter search, serving predictions.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
import warnings
from pathlib import Path

from ._stream import _isatty, _SafeStream
from .errors import BackproofError, DataWarning, InputError, SampleDataWarning, Terminated

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

    t = sub.add_parser(
        "train",
        help="train a network on MNIST: the course's 784-64-10 by default, any depth with --layers",
        description="Train a network on MNIST and print its loss and error, one line per epoch "
        "(minibatch) or per tenth of the run (full batch), then the summary. The course's "
        "784-64-10 ReLU network by default; any depth with --layers.",
    )
    t.add_argument(
        "--mode",
        choices=("full", "minibatch"),
        default=None,
        help="full-batch gradient descent or minibatch SGD (default: minibatch when --epochs, "
        "--batch-size or --layers is given, else full)",
    )
    t.add_argument(
        "--iterations", type=_int_at_least(0), default=None, help="full-batch updates T (default: 100)"
    )
    t.add_argument("--epochs", type=_int_at_least(0), default=None, help="minibatch epochs (default: 5)")
    t.add_argument(
        "--batch-size", type=_int_at_least(1), default=None, help="minibatch size B (default: 100)"
    )
    t.add_argument("--lr", type=_positive_float, default=0.05, help="learning rate gamma (default: 0.05)")
    t.add_argument("--hidden", type=_int_at_least(1), default=None, help="hidden units Nh (default: 64)")
    _add_depth_arguments(t)
    t.add_argument(
        "--seed",
        type=_int_at_least(0),
        default=0,
        help="seeds the initial weights and the minibatch shuffling: same seed, same run (default: 0)",
    )
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
    t.add_argument("--json", default=None, metavar="OUT", help="write results as JSON")
    t.add_argument("--save", default=None, metavar="MODEL.npz", help="save parameters")
    t.add_argument("--no-progress", action="store_true", help="hide the progress bar")

    s = sub.add_parser("show", help="draw one MNIST digit", description="Draw one MNIST digit and its label.")
    s.add_argument("index", type=_int_at_least(0), help="which image: 0 is the first")
    s.add_argument("--split", choices=("train", "test"), default="train", help="which set (default: train)")
    s.add_argument("--data", type=Path, default=None, help="directory holding the MNIST IDX files")
    s.add_argument(
        "--out",
        default=None,
        metavar="FILE.png",
        help="save to a file (.png is added to a name without it) instead of opening a window",
    )

    v = sub.add_parser("verify", help="prove every identity with SymPy and check it against NumPy")
    v.add_argument("--json", default=None, metavar="OUT", help="also write every identity's record as JSON")
    v.add_argument(
        "--no-cache",
        action="store_true",
        help="prove everything again (by default a proof whose sources are unchanged is read from the cache)",
    )
    v.add_argument(
        "--jobs",
        type=_int_at_least(1),
        default=None,
        metavar="N",
        help="processes proving at once (default 2)",
    )

    e = sub.add_parser("evaluate", help="loss and misclassification of a saved model on the test set")
    e.add_argument("model", type=Path, metavar="MODEL.npz", help="a model written by train --save")
    e.add_argument("--data", type=Path, default=None, help="directory holding the MNIST IDX files")
    e.add_argument("--json", default=None, metavar="OUT", help="write the scores as JSON")

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


#: Flags that belong to one --mode only, and their defaults.
_MODE_FLAGS = {"full": {"iterations": 100}, "minibatch": {"epochs": 5, "batch_size": 100}}


def _infer_mode(args) -> str:
    """--mode as given, else the mode the other flags name: a deeper network or epochs mean minibatch."""
    if args.mode is not None:
        return args.mode
    named = {mode for mode, flags in _MODE_FLAGS.items() for name in flags if getattr(args, name) is not None}
    if len(named) > 1:
        raise InputError(
            "--iterations is for full-batch training, --epochs and --batch-size for minibatch; "
            "give the flags of one mode"
        )
    if named:
        return named.pop()
    return "minibatch" if args.layers is not None else "full"


def _settle_train_flags(args) -> None:
    """Refuse flags that the chosen mode or architecture would silently ignore; fill in defaults."""
    args.mode = _infer_mode(args)
    for mode, flags in _MODE_FLAGS.items():
        for name, default in flags.items():
            if mode != args.mode and getattr(args, name) is not None:
                flag = "--" + name.replace("_", "-")
                raise InputError(
                    f"{flag} applies to --mode {mode}, not --mode {args.mode}; drop it or change --mode"
                )
            if getattr(args, name) is None:
                setattr(args, name, default)
    if args.layers is not None and args.hidden is not None:
        raise InputError("--hidden and --layers both set the hidden size; give the sizes in --layers only")
    if args.hidden is None:
        args.hidden = 64


def _depth_settings(args) -> dict:
    return {"layers": args.layers, "activation": args.activation, "lr_schedule": args.lr_schedule}


def _architecture(config) -> str:
    sizes = "-".join(map(str, config["sizes"]))
    return f"layers {sizes} {config['activation']}, lr schedule {config['lr_schedule']}"


# ------------------------------------------------------------------------------------------------------


def _version() -> str:
    from . import __version__

    return __version__


def _outputs(*pairs: tuple[str | None, str, str | None]):
    """Check every output before any work; refuse two that name the same file."""
    from ._output import check_distinct, check_output

    outs = [None if path is None else check_output(path, flag, suffix=suffix) for path, flag, suffix in pairs]
    check_distinct(*outs)
    return outs


def _not_inputs(outputs, inputs, what: str) -> None:
    from ._output import check_not_input

    check_not_input(outputs, inputs, what)


def _record_printer(args):
    """A line per epoch (minibatch) or per tenth of the run (full batch), as training records them."""
    if args.mode == "minibatch":
        total = f"/{args.epochs}"

        def when(r) -> str | None:
            e = r["epoch"]
            return f"epoch {e:g}{total}" if e == int(e) else f"epoch {e:.2f}{total}"

    else:
        every = max(1, args.iterations // 10)

        def when(r) -> str | None:
            t = r["step"]
            return f"iteration {t}/{args.iterations}" if t % every == 0 or t == args.iterations else None

    def show(r) -> None:
        label = when(r)
        if label is None:
            return
        line = f"{label}: train loss {r['train_loss']:.4f}, error {r['train_error']:.2f}%"
        if "test_loss" in r:
            line += f"; test loss {r['test_loss']:.4f}, error {r['test_error']:.2f}%"
        if args.no_progress or "tqdm" not in sys.modules:
            print(line, flush=True)
        else:  # above the progress bar, which tqdm redraws below it
            sys.modules["tqdm"].tqdm.write(line, file=sys.stdout)

    return show


def _check_evaluate_memory(params, n_samples: int, model) -> None:
    """Refuse, before any work, a model whose evaluation would not fit in the memory available."""
    from .network import _EVAL_BYTES
    from .training import _available_bytes

    weights = sum(w.size + b.size for w, b in zip(params.W, params.b))
    need = 4 * weights + 4 * params.sizes[0] * n_samples + _EVAL_BYTES
    have = _available_bytes()
    if have is not None and need > have:
        raise BackproofError(
            f"evaluating {model} ({'-'.join(map(str, params.sizes))}) needs about {need / 2**30:.1f} GiB of "
            f"memory, more than the {have / 2**30:.1f} GiB available; close other programs or use a "
            "machine with more memory"
        )


def _write_json(out, record) -> None:
    """Strict JSON (no NaN or Infinity, which strict readers reject) through the output helper."""
    from ._output import write_output

    try:
        text = json.dumps(record, indent=2, allow_nan=False, default=_json_default) + "\n"
    except ValueError:
        raise BackproofError(
            f"not writing {out.path}: the results hold NaN or infinite values; try a smaller learning rate"
        ) from None
    except TypeError as exc:
        raise BackproofError(f"not writing {out.path}: {exc}") from None
    data = text.encode("utf-8")

    def write(fh) -> None:
        fh.write(data)

    write_output(out, write)


def _json_default(value):
    """NumPy scalars and arrays as plain JSON numbers and lists (a NumPy integer seed, say)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _versions() -> dict:
    import numpy as np

    return {"backproof": _version(), "numpy": np.__version__, "python": sys.version.split()[0]}


def _train(args) -> int:
    from .mnist import load_dataset
    from .model_io import save_model
    from .preprocess import normalize
    from .training import train_full_batch, train_minibatch

    _settle_train_flags(args)
    json_out, model_out = _outputs((args.json, "--json", None), (args.save, "--save", ".npz"))
    data = load_dataset(args.data)
    _not_inputs((json_out, model_out), data.source.files(), "a data file")
    x, xt = normalize(data.train_images), normalize(data.test_images)
    common = dict(
        lr=args.lr,
        hidden=args.hidden,
        seed=args.seed,
        test=(xt, data.test_labels),
        fused=not args.textbook,
        progress=not args.no_progress,
        data=data.describe(),
        on_record=_record_printer(args),
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
        epochs = f"{args.epochs} epoch" + ("" if args.epochs == 1 else "s")
        what = f"minibatch SGD, {epochs}, B = {args.batch_size}"
    # The model first: a JSON that cannot be written must never cost the trained model.
    if model_out is not None:
        path = save_model(model_out, result.params, {"config": result.config, "data": result.data})
        print(f"model saved to {path}")
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
    if json_out is not None:
        record = result.to_dict()
        record["versions"] = _versions()
        _write_json(json_out, record)
        print(f"results written to {json_out.path}")
    return 0


def _show(args) -> int:
    import matplotlib

    (out,) = _outputs((args.out, "--out", ".png"))
    if out is not None:
        matplotlib.use("Agg")
    elif matplotlib.get_backend().lower() in _NO_WINDOW:
        raise BackproofError(
            "no window can open here (no display); save the picture instead: "
            f"backproof show {args.index} --split {args.split} --out digit.png"
        )
    import matplotlib.pyplot as plt

    from ._output import write_output
    from .display import show
    from .mnist import _read_split, locate_mnist

    source = locate_mnist(args.data, splits=(args.split,))
    _not_inputs((out,), source.files(), "a data file")
    images, labels = _read_split(source, args.split)
    if args.index >= labels.shape[0]:
        raise BackproofError(
            f"index {args.index} is out of range: the {args.split} split has {labels.shape[0]} images"
        )
    show(images[:, args.index], title=f"{args.split} image {args.index}: label {labels[args.index]}")
    print(f"{args.split} image {args.index}: label {labels[args.index]}")
    if out is not None:
        written = write_output(out, lambda fh: plt.savefig(fh, format="png", dpi=100, bbox_inches="tight"))
        print(f"saved to {written}")
    else:
        plt.show()
    return 0


#: Matplotlib backends that draw no window: `plt.show()` would silently do nothing.
_NO_WINDOW = {"agg", "pdf", "ps", "svg", "cairo", "pgf", "template"}


def _verify(args) -> int:
    from .verify import iter_reports, table_footer, table_header, table_row

    (json_out,) = _outputs((args.json, "--json", None))
    print("backproof: proving every identity with SymPy and checking it against NumPy", file=sys.stderr)
    for line in table_header():
        print(line, flush=True)
    reports = []
    options = {"cache": False} if args.no_cache else {}
    if args.jobs is not None:
        options["jobs"] = args.jobs
    with _heartbeat("verify"):
        for r in iter_reports(**options):  # each row as soon as its identity is done
            reports.append(r)
            print(table_row(r), flush=True)
    for line in table_footer(reports):
        print(line)
    if json_out is not None:
        _write_json(json_out, [r.to_dict() for r in reports])
        print(f"report written to {json_out.path}")
    return 0 if all(r.ok for r in reports) else 1


@contextlib.contextmanager
def _heartbeat(what: str, every: float = 10.0):
    """A line on stderr every ``every`` seconds while a long step runs, so a log never goes silent."""
    done = threading.Event()
    start = time.monotonic()

    def beat() -> None:
        while not done.wait(every):
            print(f"backproof: {what}: still working ({time.monotonic() - start:.0f} s)", file=sys.stderr)

    thread = threading.Thread(target=beat, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join()
        print(f"backproof: {what}: done in {time.monotonic() - start:.0f} s", file=sys.stderr)


def _evaluate(args) -> int:
    from .mnist import load_dataset
    from .model_io import load_model
    from .network import evaluate
    from .preprocess import normalize

    (json_out,) = _outputs((args.json, "--json", None))
    _not_inputs((json_out,), [args.model], "the model")
    params, _ = load_model(args.model)
    data = load_dataset(args.data)
    _not_inputs((json_out,), data.source.files(), "a data file")
    images, labels = data.test_images, data.test_labels
    print(f"data: {data.source.description}")
    if data.source.kind == "sample":
        print(
            "note: the offline sample's 'test' images are MNIST training digits; a model trained on "
            "full MNIST has seen them, so this is not a test-set score"
        )
    if params.sizes[0] != images.shape[0]:
        raise BackproofError(
            f"{args.model} takes {params.sizes[0]} inputs but the images have {images.shape[0]} pixels"
        )
    _check_evaluate_memory(params, images.shape[1], args.model)
    loss, error = evaluate(params, normalize(images), labels)
    sizes = " -> ".join(str(n) for n in params.sizes)
    print(f"model {args.model}: {sizes} ({params.activation}); test set: {labels.shape[0]} images")
    print(f"test loss {loss:.4f}, test error {error:.2f}%")
    if json_out is not None:
        record = {
            "model": str(args.model),
            "sizes": list(params.sizes),
            "activation": params.activation,
            "n_test": int(labels.shape[0]),
            "test_loss": float(loss),
            "test_error": float(error),
            "versions": _versions(),
        }
        _write_json(json_out, record)
        print(f"scores written to {json_out.path}")
    return 0


def _on_sigterm(signum, frame):
    raise Terminated()


def main(argv: list[str] | None = None) -> int:
    r"""Entry point of the ``backproof`` command; returns the exit status."""
    out, err = sys.stdout, sys.stderr
    # a closed stdout or stderr (`>&-`): Python sets it to None; the work (and the saved model)
    # must not depend on it, so the output goes nowhere instead
    sys.stdout = _SafeStream(out if out is not None else open(os.devnull, "w"))
    sys.stderr = _SafeStream(
        err if err is not None else open(os.devnull, "w"),
        lines=not _isatty(err),
    )
    installed, previous = False, None
    try:
        previous = signal.signal(signal.SIGTERM, _on_sigterm)
        installed = True
    except ValueError:  # not the main thread: leave signals alone
        pass
    try:
        return _run(argv)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        sys.stdout, sys.stderr = out, err
        if installed:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def _run(argv: list[str] | None) -> int:
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, usage errors: argparse's own status
        return exc.code if isinstance(exc.code, int) else 2
    handlers = {"train": _train, "show": _show, "verify": _verify, "evaluate": _evaluate}
    handler = getattr(args, "run", None) or handlers[args.command]
    with warnings.catch_warnings():
        warnings.simplefilter("always", SampleDataWarning)
        warnings.simplefilter("always", DataWarning)
        warnings.showwarning = _one_line_warning
        try:
            return handler(args)
        except (BackproofError, OSError, ValueError) as exc:
            if args.debug:
                raise
            print(f"backproof: error: {exc}", file=sys.stderr)
            return 2
        except Terminated:
            print("backproof: terminated (SIGTERM); unfinished files removed", file=sys.stderr)
            return 143
        except KeyboardInterrupt:
            print("backproof: interrupted; unfinished files removed", file=sys.stderr)
            return 130


def _one_line_warning(message, category, filename, lineno, file=None, line=None):
    print(f"backproof: warning: {message}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
