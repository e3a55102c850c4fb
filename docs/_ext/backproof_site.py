r"""The Sphinx extension that computes everything the backproof site shows.

At ``builder-inited`` it writes Markdown fragments and figures into ``docs/_generated/``,
which the pages include:

* every identity of :mod:`backproof.symbolic`, its statement and proof chains as LaTeX made
  from the very SymPy objects that were checked, and its numeric verification; the build
  fails if any identity fails;
* facts and figures about the data (shapes, ranges, image 42 of each split);
* the finite-difference check and the figure of where the textbook −d/y breaks;
* full-batch and minibatch training on the data found (full MNIST when present), with
  curves, tables, a gallery of misclassified digits and a confusion matrix. Training
  results are cached in ``docs/_cache`` keyed by the library's source, the data files and
  the settings, so a rebuild does not retrain unless one of them changed.
"""

from __future__ import annotations

import hashlib
import json
import platform
import sys
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from sphinx.errors import ExtensionError
from sphinx.util import logging

import backproof as bp
from backproof import symbolic as S
from backproof import verify as V
from backproof.model_io import load_model, save_model

log = logging.getLogger(__name__)
DOCS = Path(__file__).resolve().parent.parent
GEN = DOCS / "_generated"
CACHE = DOCS / "_cache"
SEED = 0
RUNS = {
    "full": {"mode": "full", "iterations": 100, "lr": 0.05, "hidden": 64, "seed": SEED, "eval_every": 1},
    "minibatch": {
        "mode": "minibatch",
        "epochs": 5,
        "batch_size": 100,
        "lr": 0.05,
        "hidden": 64,
        "seed": SEED,
        "eval_every": 100,
    },
}
COURSE = json.loads((DOCS / "course_reported.json").read_text())


def fmt(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def sci(x: float) -> str:
    if x == 0:
        return "0"
    m, e = f"{x:.1e}".split("e")
    return rf"{m} \times 10^{{{int(e)}}}"


def write(name: str, text: str) -> None:
    path = GEN / name
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def savefig(fig, name: str) -> str:
    fig.savefig(GEN / name, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return f"/_generated/{name}"


# ----------------------------------------------------------------------------- verification


def aligned(chain: S.Chain) -> str:
    parts = chain.latex()
    body = [f"{parts[0]} &= {parts[1]}"] + [f"&= {p}" for p in parts[2:]]
    return "$$\n\\begin{aligned}\n" + " \\\\\n".join(body) + "\n\\end{aligned}\n$$\n"


def identity_fragments(reports: list[V.Report]) -> None:
    by_name = {r.name: r for r in reports}
    for ident in S.identities():
        r = by_name[ident.name]
        result = ident.prove()
        lines = [f"**Statement** (identity {ident.number}, `{ident.name}`)\n"]
        eqs = ident.statement_latex()
        body = eqs[0] if len(eqs) == 1 else "\\begin{gathered}\n" + " \\\\\n".join(eqs) + "\n\\end{gathered}"
        lines.append("$$\n" + body + "\n$$\n")
        if ident.assumptions:
            lines.append("Assumptions: " + "; ".join(ident.assumptions) + ".\n")
        for chain in ident.chains:
            ok = all(result.chains[chain.title])
            mark = "✓ every step checked equal by SymPy" if ok else "✗ a step failed"
            if chain.show_latex:
                lines.append(f"*Proof, {chain.title}* — {mark}:\n")
                lines.append(aligned(chain))
                reasons = [s.why for s in chain.steps[1:]]
                lines.append("Steps: " + "; ".join(f"({k}) {w}" for k, w in enumerate(reasons, 1)) + ".\n")
            else:
                lines.append(f"*Also proved, {chain.title}* — {mark} (too large to print).\n")
        if result.necessity is not None:
            lines.append(
                "Without the assumption the identity fails: SymPy finds a counterexample "
                f"({'shown' if result.necessity else 'NOT shown'}).\n"
            )
        lines.append(
            f"Against the code (`backproof.{ident.numeric_function}`): largest relative error "
            f"${sci(r.numeric_max_rel_error)}$ in float64 and ${sci(r.numeric_max_rel_error_float32)}$ "
            f"in float32; finite differences ${sci(r.fd_rel_error)}$. Proof time {r.proof_seconds:.2f} s.\n"
        )
        write(f"identity_{ident.name}.md", "\n".join(lines))


def verification_table(reports: list[V.Report]) -> None:
    rows = [
        "| # | identity | proved | float64 error | float32 error | finite differences |",
        "|---|---|---|---|---|---|",
    ]
    for r in reports:
        rows.append(
            f"| {r.number} | {r.title} (`{r.name}`) | {'✓' if r.proved else '✗'} "
            f"{r.proof_seconds:.2f} s | ${sci(r.numeric_max_rel_error)}$ | "
            f"${sci(r.numeric_max_rel_error_float32)}$ | ${sci(r.fd_rel_error)}$ |"
        )
    t = V.TOLERANCE
    rows.append("")
    rows.append(
        f"Tolerances: ${sci(t['float64'])}$ in float64, ${sci(t['float32'])}$ in float32, "
        f"${sci(t['fd'])}$ for finite differences. {sum(r.ok for r in reports)} of {len(reports)} "
        "identities verified during this build."
    )
    write("verification_table.md", "\n".join(rows) + "\n")


# ----------------------------------------------------------------------------- data


def data_name(data: bp.MNISTData) -> str:
    """How the site names its data: the full set, or what the loader says it is."""
    if data.source.kind == "full" and (data.n_train, data.n_test) == (60000, 10000):
        return f"the full MNIST set ({data.source.description})"
    return data.source.description


def data_fragments(data: bp.MNISTData) -> None:
    x, lbl, xt, lblt = data.train_images, data.train_labels, data.test_images, data.test_labels
    fig, axes = plt.subplots(1, 2, figsize=(4.6, 2.6))
    bp.show(x[:, 42], ax=axes[0], title=f"training image 42: {lbl[42]}")
    bp.show(xt[:, 42], ax=axes[1], title=f"test image 42: {lblt[42]}")
    img = savefig(fig, "digits42.png")
    z = bp.normalize(x[:, :1000])
    counts = np.bincount(lbl, minlength=10)
    d = bp.one_hot(lbl[:5])
    text = f"""
The data used for this build: **{data_name(data)}**, {data.n_train:,} training and
{data.n_test:,} test images.

| | training | test |
|---|---|---|
| images | shape `{x.shape}`, dtype `{x.dtype}`, values {x.min()}..{x.max()} | shape `{xt.shape}` |
| labels | shape `{lbl.shape}`, dtype `{lbl.dtype}`, values {lbl.min()}..{lbl.max()} | shape `{lblt.shape}` |
| label of image 42 | {lbl[42]} | {lblt[42]} |

Images per class in the training set: {", ".join(f"{c}: {n:,}" for c, n in enumerate(counts))}.

```{{image}} {img}
:alt: training image 42 and test image 42 with their labels
```

After `normalize`, the first 1,000 images have dtype `{z.dtype}`, minimum {z.min():.1f} and
maximum {z.max():.1f}. The targets of the first five training images, `one_hot(lbl[:5])`,
labels {", ".join(str(v) for v in lbl[:5])}, are the columns of

$$
d = {S.to_latex(S.sp.Matrix(d.astype(int)))}
$$
"""
    write("data_facts.md", text)


# ----------------------------------------------------------------------------- backprop figure


def underflow_figure() -> None:
    gaps = np.linspace(0, 1600, 321)
    rows = []
    for dtype in (np.float64, np.float32):
        errs = []
        for gap in gaps:
            a = np.zeros((10, 1), dtype)
            a[0, 0] = gap  # the network is sure of class 0 ...
            d = np.zeros((10, 1), dtype)
            d[3, 0] = 1  # ... but the label is 3, whose logit lies `gap` below
            y = bp.softmax(a)
            with np.errstate(all="ignore"):
                textbook = bp.softmax_jvp(a, bp.cross_entropy_grad(y, d))
            exact = V._mp(V._softmax_refs()["fused"], a.astype(np.float64), d.astype(np.float64))
            fused = y - d
            e_t = np.max(np.abs(textbook - exact)) / np.max(np.abs(exact))
            e_f = np.max(np.abs(fused - exact)) / np.max(np.abs(exact))
            errs.append((e_t if np.isfinite(e_t) else np.inf, e_f))
        rows.append(np.array(errs))
    fig, ax = plt.subplots(figsize=(6.4, 3.2))
    for errs, name, color in zip(rows, ("float64", "float32"), ("C0", "C1"), strict=True):
        t = errs[:, 0].copy()
        broken = ~np.isfinite(t)
        t[broken] = 10.0
        ax.semilogy(gaps, np.maximum(t, 1e-17), color=color, label=f"textbook $J^T(-d/y)$, {name}")
        ax.semilogy(gaps, np.maximum(errs[:, 1], 1e-17), color=color, ls="--", label=f"fused $y-d$, {name}")
        first = gaps[np.argmax(broken)] if broken.any() else None
        if first is not None:
            ax.axvline(first, color=color, lw=0.6, ls=":")
    ax.set_xlabel("how far the true class's logit lies below the largest (logit gap)")
    ax.set_ylabel("relative error of $\\delta_2$")
    ax.set_ylim(1e-17, 30)
    ax.legend(fontsize=7, loc="center right")
    ax.set_title("NaN/∞ drawn at 10: the textbook chain breaks once y underflows", fontsize=9)
    img = savefig(fig, "underflow.png")
    first64 = gaps[np.argmax(~np.isfinite(rows[0][:, 0]))]
    first32 = gaps[np.argmax(~np.isfinite(rows[1][:, 0]))]
    text = f"""
```{{image}} {img}
:alt: relative error of the textbook and fused gradients against the logit gap
```

Measured during this build against SymPy's exact $J^\\top(-d/y)$ (mpmath, 50 digits): the
textbook chain first returns NaN or ∞ at a logit gap of {first64:.0f} in float64 and
{first32:.0f} in float32, where $y$ of the true class underflows to 0 and $-d/y$ becomes
infinite. The fused $y - d$ stays within ${sci(float(np.max(rows[0][:, 1])))}$ (float64) and
${sci(float(np.max(rows[1][:, 1])))}$ (float32) of the exact value over the whole range.
"""
    write("underflow.md", text)


def fd_fragment(reports) -> None:
    rng = np.random.default_rng(1)
    a, e = rng.standard_normal((10, 5)), rng.standard_normal((10, 5))
    eps = 1e-6
    numeric = (bp.softmax(a + eps * e) - bp.softmax(a - eps * e)) / (2 * eps)
    err = V.rel_error(bp.softmax_jvp(a, e), numeric)
    text = f"""
On 5 random logit columns $a$ and directions $e$ (float64, seed 1), the centred difference
$\\big(g(a + \\epsilon e) - g(a - \\epsilon e)\\big) / 2\\epsilon$ with $\\epsilon = 10^{{-6}}$ agrees
with `softmax_jvp(a, e)` to a relative error of ${sci(err)}$, measured by CS231n's
$\\max |a - n| / \\max(|a| + |n|, 10^{{-8}})$: well below the course's threshold of $10^{{-6}}$.
"""
    write("softmax_fd.md", text)


# ----------------------------------------------------------------------------- training


def source_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(bp.__file__).parent.glob("*.py")):
        h.update(path.name.encode())
        h.update(path.read_bytes())
    h.update(np.__version__.encode())
    return h.hexdigest()


def data_digest(data: bp.MNISTData) -> str:
    h = hashlib.sha256()
    for arr in (data.train_images, data.train_labels, data.test_images, data.test_labels):
        h.update(np.ascontiguousarray(arr[..., ::97]).tobytes())  # every 97th sample: cheap, sensitive
        h.update(str(arr.shape).encode())
    return h.hexdigest()


def train_cached(data, x, xt, key_base: str, name: str) -> tuple[dict, bp.Parameters, bool]:
    cfg = RUNS[name]
    key = hashlib.sha256(json.dumps([key_base, cfg], sort_keys=True).encode()).hexdigest()[:16]
    CACHE.mkdir(exist_ok=True)
    json_path, model_path = CACHE / f"{name}-{key}.json", CACHE / f"{name}-{key}.npz"
    if json_path.exists() and model_path.exists():
        params, _ = load_model(model_path)
        return json.loads(json_path.read_text()), params, True
    kw = {k: v for k, v in cfg.items() if k != "mode"}
    train = bp.train_full_batch if name == "full" else bp.train_minibatch
    result = train(x, data.train_labels, test=(xt, data.test_labels), data=data.describe(), **kw)
    record = result.to_dict()
    json_path.write_text(json.dumps(record))
    save_model(model_path, result.params, {"config": result.config})
    return record, result.params, False


def curves(records: dict) -> str:
    fig, axes = plt.subplots(2, 2, figsize=(9, 5.6))
    for col, name in enumerate(("full", "minibatch")):
        h = records[name]["history"]
        xs = h["step"] if name == "full" else h["epoch"]
        xlabel = "iteration" if name == "full" else "epoch"
        ax = axes[0, col]
        ax.plot(xs, h["train_loss"], label="train")
        ax.plot(xs, h["test_loss"], label="test", ls="--")
        ax.set_ylabel("loss (mean cross-entropy)")
        ax.set_title("full-batch gradient descent" if name == "full" else "minibatch SGD, B = 100")
        ax.legend()
        ax = axes[1, col]
        ax.plot(xs, h["train_error"], label="train")
        ax.plot(xs, h["test_error"], label="test", ls="--")
        ax.set_ylabel("misclassification (%)")
        ax.set_xlabel(xlabel)
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    return savefig(fig, "curves.png")


def results_table(records: dict) -> str:
    rows = [
        "| run | | train loss | train error | test loss | test error |",
        "|---|---|---|---|---|---|",
    ]
    for name, label in (("full", "full-batch, T = 100"), ("minibatch", "minibatch, 5 epochs, B = 100")):
        r = records[name]
        for when in ("initial", "final"):
            m = r[when]
            rows.append(
                f"| {label} | {when} | {fmt(m['train_loss'], 4)} | {fmt(m['train_error'])} % | "
                f"{fmt(m['test_loss'], 4)} | {fmt(m['test_error'])} % |"
            )
        c = COURSE[name]
        rows.append(
            f"| {label} | course, final ({COURSE['source']}) | — | {fmt(c['train_error'])} % | — | "
            f"{fmt(c['test_error'])} % |"
        )
    return "\n".join(rows)


def gallery_and_confusion(params, xt_norm, data) -> tuple[str, str, int]:
    pred = bp.predict(params, xt_norm)
    wrong = np.flatnonzero(pred != data.test_labels)
    show = wrong[:24]
    fig = bp.show_grid(
        data.test_images[:, show],
        titles=[f"#{i}: {data.test_labels[i]}→{pred[i]}" for i in show],
        columns=8,
    )
    gallery = savefig(fig, "misclassified.png")
    cm = np.zeros((10, 10), int)
    np.add.at(cm, (data.test_labels.astype(int), pred), 1)
    fig, ax = plt.subplots(figsize=(5.2, 4.6))
    im = ax.imshow(np.log1p(cm), cmap="Blues")
    for r in range(10):
        for c in range(10):
            ax.text(
                c,
                r,
                str(cm[r, c]),
                ha="center",
                va="center",
                fontsize=7,
                color="white" if cm[r, c] > cm.max() / 3 else "black",
            )
    ax.set_xticks(range(10))
    ax.set_yticks(range(10))
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    ax.set_title("test-set confusion matrix (counts)")
    fig.colorbar(im, ax=ax, label="log(1 + count)")
    confusion = savefig(fig, "confusion.png")
    return gallery, confusion, int(wrong.size)


def training_fragments(data: bp.MNISTData) -> None:
    x, xt = bp.normalize(data.train_images), bp.normalize(data.test_images)
    key_base = source_digest() + data_digest(data)
    records, params, cached = {}, {}, {}
    for name in RUNS:
        start = time.perf_counter()
        records[name], params[name], cached[name] = train_cached(data, x, xt, key_base, name)
        log.info(
            f"backproof site: {name} training {'from cache' if cached[name] else 'run'} "
            f"in {time.perf_counter() - start:.1f} s"
        )
    img = curves(records)
    gallery, confusion, n_wrong = gallery_and_confusion(params["minibatch"], xt, data)
    full, mb = records["full"], records["minibatch"]
    versions = (
        f"backproof {bp.__version__}, NumPy {np.__version__}, SymPy {S.sp.__version__}, "
        f"Python {platform.python_version()}"
    )
    provenance = (
        f"Data: **{data_name(data)}**, {data.n_train:,} training and {data.n_test:,} test "
        f"images. Seed {SEED}. Software: {versions}. Training time on this build machine: "
        f"{full['seconds']:.1f} s for the 100 full-batch iterations (with a test evaluation at each), "
        f"{mb['seconds']:.1f} s for the 5 epochs."
    )
    write("provenance.md", provenance + "\n")
    write("curves.md", f"```{{image}} {img}\n:alt: loss and misclassification curves\n```\n")
    write("results_table.md", results_table(records) + "\n")
    write(
        "results_summary.md",
        f"After 100 full-batch iterations the network misclassifies "
        f"**{fmt(full['final']['train_error'])} %** of the training images and "
        f"**{fmt(full['final']['test_error'])} %** of the test images; after 5 epochs of minibatch SGD, "
        f"**{fmt(mb['final']['train_error'])} %** and **{fmt(mb['final']['test_error'])} %**, "
        f"from {mb['config']['epochs'] * -(-data.n_train // mb['config']['batch_size']):,} small updates "
        f"whose total work equals that of only {mb['config']['epochs']} full-batch iterations. "
        f"The initial loss is "
        f"{fmt(full['initial']['train_loss'], 3)}; in the course's convention, which divides by "
        f"10 N, that is {fmt(full['initial']['train_loss'] / 10, 3)}.\n",
    )
    write(
        "gallery.md",
        f"```{{image}} {gallery}\n:alt: misclassified test digits\n```\n\nThe first 24 of the "
        f"{n_wrong:,} test images that the minibatch-trained network gets wrong, as "
        f"#index: true→predicted.\n\n```{{image}} {confusion}\n:alt: confusion matrix\n```\n",
    )


# ----------------------------------------------------------------------------- the hook


def generate(app) -> None:
    GEN.mkdir(exist_ok=True)
    start = time.perf_counter()
    reports = V.run_all()
    failed = [r.name for r in reports if not r.ok]
    if failed:
        raise ExtensionError(f"verification failed for {', '.join(failed)}: the site is not built")
    verification_table(reports)
    identity_fragments(reports)
    fd_fragment(reports)
    underflow_figure()
    log.info(f"backproof site: verification and figures in {time.perf_counter() - start:.1f} s")
    data = bp.load_dataset()
    data_fragments(data)
    training_fragments(data)
    log.info(f"backproof site: generated content in {time.perf_counter() - start:.1f} s")


def identity_in_docstring(app, what, name, obj, options, lines) -> None:
    """Replace each ``:Identity: name`` line of a docstring by the statement SymPy proved."""
    out = []
    for line in lines:
        stripped = line.strip()
        if not stripped.startswith(":Identity:"):
            out.append(line)
            continue
        ident = S.identity(stripped.split(":", 2)[2].strip())  # KeyError names the valid ones
        eqs = ident.statement_latex()
        body = eqs[0] if len(eqs) == 1 else "\\begin{gathered} " + r" \\ ".join(eqs) + " \\end{gathered}"
        out += [
            f"**Proved by SymPy** as identity {ident.number}, ``{ident.name}`` (see :doc:`/verification`):",
            "",
            ".. math::",
            "",
            f"   {body}",
            "",
        ]
    lines[:] = out


def setup(app):
    app.connect("builder-inited", generate)
    app.connect("autodoc-process-docstring", identity_in_docstring)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}


if __name__ == "__main__":  # regenerate without Sphinx, for a quick look
    generate(None)
    sys.exit(0)
