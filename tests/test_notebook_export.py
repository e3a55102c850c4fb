"""A chapter's download is a plain Jupyter notebook: glued values written in, links to chapters,
no MyST left (``docs/_ext/notebook_export.py``)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
_path = ROOT / "docs" / "_ext" / "notebook_export.py"
_spec = importlib.util.spec_from_file_location("notebook_export", _path)
export = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(export)


def glued(name, text):
    """An output as MyST-NB's ``glue(name, value, display=False)`` leaves it."""
    return nbformat.v4.new_output(
        "display_data",
        data={export.GLUE_PREFIX + "text/plain": text},
        metadata={"scrapbook": {"name": name, "mime_prefix": export.GLUE_PREFIX}},
    )


def chapter():
    code = nbformat.v4.new_code_cell("from myst_nb import glue\n\nglue('err', 1.8456, display=False)")
    code.outputs = [glued("err", "1.8456"), glued("n", "60000")]
    text = (
        "(deep_results)=\n## Results\n\n% LEAD: an internal note\n"
        "The error is {glue:text}`err:.2f` % of {glue:text}`n:,` images; "
        "see {doc}`relu`, {doc}`the data <data>`, {py:func}`backproof.backprop` "
        "and [the proof](softmax.md#label)."
    )
    cells = [code, nbformat.v4.new_markdown_cell(text)]
    return nbformat.v4.new_notebook(cells=cells, metadata={"jupytext": {}})


def test_glued_values_are_written_into_the_text_as_the_page_formats_them():
    nb = export.export(chapter(), {"relu": "ReLU and its directional derivative"})
    text = nb.cells[1].source
    assert "The error is 1.85 % of 60,000 images" in text


def test_cross_references_become_links_to_the_chapters_notebooks_and_api_names_become_code():
    text = export.export(chapter(), {"relu": "ReLU and its directional derivative"}).cells[1].source
    assert "[ReLU and its directional derivative](relu.ipynb)" in text
    assert "[the data](data.ipynb)" in text
    assert "`backproof.backprop`" in text
    assert "[the proof](softmax.ipynb)" in text


def test_no_myst_is_left_labels_comments_and_the_glue_import_are_gone():
    nb = export.export(chapter(), {})
    for cell in nb.cells:
        assert not export.MYST_LEFTOVERS.search(cell.source), cell.source
    assert "LEAD" not in nb.cells[1].source
    assert nb.cells[0].outputs == []  # glued values are in the text, not in outputs Jupyter cannot show
    assert "jupytext" not in nb.metadata
    nbformat.validate(nb)


def test_the_glue_that_replaces_myst_nbs_runs_without_myst_nb_and_shows_only_what_is_displayed(capsys):
    source = export.export(chapter(), {}).cells[0].source
    namespace: dict = {}
    exec(source, namespace)  # defines glue and calls it with display=False: shows nothing
    namespace["glue"]("x", 3, display=False)
    assert capsys.readouterr().out == ""


def test_leftovers_are_found_in_text_that_still_holds_myst():
    for myst in ("{glue:text}`a:.2f`", "{doc}`relu`", "(label)=\n", "from myst_nb import glue", "% note"):
        assert export.MYST_LEFTOVERS.search(myst), myst
    assert not export.MYST_LEFTOVERS.search("Test error 1.85 %, see [ReLU](relu.ipynb).")


def test_values_glued_in_a_removed_cell_come_from_the_glue_file_myst_nb_writes_beside_it():
    nb = chapter()
    nb.cells[0].outputs = []  # a remove-cell: MyST-NB keeps its glued outputs in <page>.glue.json
    glue_json = {"err": glued("err", "1.8456"), "n": glued("n", "60000")}
    text = export.export(nb, {}, glue_json).cells[1].source
    assert "The error is 1.85 % of 60,000 images" in text


def test_the_table_of_contents_becomes_a_numbered_list_of_links_to_the_chapters_notebooks():
    index = "## Chapters\n\n```{toctree}\n:maxdepth: 2\n\ndata\nsoftmax\n```\n"
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(index)])
    text = export.export(nb, {"data": "The data", "softmax": "Softmax"}).cells[0].source
    assert "1. [The data](data.ipynb)\n1. [Softmax](softmax.ipynb)" in text
    assert not export.MYST_LEFTOVERS.search(text)
