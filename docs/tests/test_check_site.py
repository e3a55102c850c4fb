"""The site check must fail on a clipped page and on a downloaded notebook that is still MyST.

These tests open tiny sites in headless Chromium with ``check_site.main``, so they run where
the site check runs (``tox -e site-check``, which CI runs with Chromium installed), not in the
per-Python suite. Without Chromium they fail, naming the fix; they never skip.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("check_site", DOCS / "check_site.py")
check_site = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(check_site)

PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<script>
const dark = matchMedia("(prefers-color-scheme: dark)").matches;
document.documentElement.dataset.theme = dark ? "dark" : "light";
</script>
<style>
html[data-theme=dark] body {{ background: #111; color: #eee; }}
.box {{ width: 300px; overflow-x: {overflow}; }}
td {{ white-space: nowrap; padding: 0 1em; }}
</style></head>
<body><main>
<p><a href="_sources/index.ipynb">index.ipynb</a></p>
<div class="cell"><div class="box"><table><tr>
<td>network</td><td>epochs</td><td>train loss</td><td>train error</td><td>test loss</td><td>test error</td>
</tr><tr><td>(784, 512, 256, 10) relu</td><td>20</td><td>0.0012</td><td>0.03 %</td>
<td>0.0654</td><td>1.85 %</td>
</tr></table></div></div>
</main></body></html>
"""


def notebook(markdown: str) -> str:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": markdown}]
    return json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": cells})


def site(tmp_path: Path, overflow: str, markdown: str) -> Path:
    html = tmp_path / "html"
    (html / "_sources").mkdir(parents=True)
    (html / "index.html").write_text(PAGE.format(overflow=overflow), encoding="utf-8")
    (html / "_sources" / "index.ipynb").write_text(notebook(markdown), encoding="utf-8")
    return html


def run(html: Path, capsys) -> tuple[int, str]:
    status = check_site.main(["--html", str(html), "--out", str(html.parent / "shots")])
    out = capsys.readouterr()
    return status, out.out + out.err


def test_a_table_cut_off_by_its_box_fails_the_check_naming_what_is_hidden(tmp_path, capsys):
    status, text = run(site(tmp_path, "hidden", "The error is 1.85 %."), capsys)
    assert status == 1
    assert "clipped at 1280 px: div.box hides" in text
    assert "clipped at 390 px: div.box hides" in text


def test_the_same_table_in_a_box_that_scrolls_passes(tmp_path, capsys):
    status, text = run(site(tmp_path, "auto", "The error is 1.85 %."), capsys)
    assert status == 0, text
    assert "1 pages checked, 0 problems" in text


def test_a_downloaded_notebook_with_myst_roles_and_labels_fails_the_check(tmp_path, capsys):
    myst = "(results)=\n# Results\n\nThe error is {glue:text}`deep_test_error:.2f` %, see {doc}`relu`."
    status, text = run(site(tmp_path, "auto", myst), capsys)
    assert status == 1
    assert "index.ipynb cell 1 (markdown) holds MyST" in text
    assert "{glue:text}`" in text and "{doc}`" in text and "(results)=" in text
