"""backproof check for a class: learners' solutions in many styles, graded as a folder and one by one.

Each solution under check_cases/learners/ was written the way learners write (handout
conventions, float64, samples as rows, a class, Python 2 leftovers, a partial notebook, a loop
that never uses its permutation, min-max scaling, messy names). ``MINE`` is our own verdict on
every function of every solution, decided by reading the code; the checker must agree.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from backproof.check import check_file
from backproof.check._specs import COURSE_FUNCTIONS

LEARNERS = Path(__file__).parent / "check_cases" / "learners"
CLASS = LEARNERS / "class"

P, D, W, N = "pass", "differs from the course", "wrong", "not found"


def _verdicts(**changed: str) -> dict[str, str]:
    return {f: changed.get(f, P) for f in COURSE_FUNCTIONS}


# our verdict on every function of every learner (all others: pass)
MINE = {
    "anna_handout": _verdicts(normalize_MNIST_images=D, label2onehot=D, init_shallow=D),
    "ben_float64": _verdicts(normalize_MNIST_images=D),
    "emil_py2": _verdicts(label2onehot=W, backprop_shallow=W, backprop_minibatch_shallow=W),
    "fatima_partial": _verdicts(
        eval_perfs=N, update_shallow=W, backprop_shallow=N, backprop_minibatch_shallow=N
    ),
    "gus_unused_perm": _verdicts(backprop_minibatch_shallow=W),
    "hana_minmax": _verdicts(normalize_MNIST_images=D),
    "ivan_messy": _verdicts(),
    "jade_softmaxp_bug": _verdicts(
        softmaxp=W,
        update_shallow="depends on softmaxp",
        backprop_shallow="depends on softmaxp",
        backprop_minibatch_shallow="depends on softmaxp",
    ),
    "kofi_loss": _verdicts(eval_loss=W),
    "lena_ascent": _verdicts(
        eval_perfs=W,
        update_shallow=W,
        backprop_shallow="depends on update_shallow",
        backprop_minibatch_shallow="depends on update_shallow",
    ),
    "mo": _verdicts(relup=W),
    "nina_empty_batch": _verdicts(backprop_minibatch_shallow=W),
    # checked with --layout rows
    "chen_rows": _verdicts(),
    # checked with --adapter dara_adapter.py: a class-based network; the rest is not written
    "dara_class": _verdicts(
        normalize_MNIST_images=N,
        label2onehot=N,
        onehot2label=N,
        softmaxp=N,
        relup=N,
        eval_loss=N,
        eval_perfs=N,
        backprop_minibatch_shallow=W,
    ),
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from backproof.check import grade_folder

    root = tmp_path_factory.mktemp("grading")
    submissions = root / "submissions"
    shutil.copytree(CLASS, submissions)
    book = grade_folder(submissions, root / "grades", jobs=2, progress=False)
    return submissions, root / "grades", book


@pytest.fixture(scope="module")
def rows_report():
    return check_file(LEARNERS / "rows" / "chen_rows.py", layout="rows")


@pytest.fixture(scope="module")
def adapted_report():
    folder = LEARNERS / "adapted"
    return check_file(folder / "dara_class.py", adapter=folder / "dara_adapter.py")


def test_checker_agrees_with_our_verdict_on_every_function_of_every_learner(
    graded, rows_report, adapted_report
):
    _, _, book = graded
    theirs = {e["learner"]: e["verdicts"] for e in book.entries}
    theirs["chen_rows"] = {f.name: f.verdict for f in rows_report.functions}
    theirs["dara_class"] = {f.name: f.verdict for f in adapted_report.functions}
    assert set(theirs) == set(MINE)
    disagree = [
        (learner, f, MINE[learner][f], theirs[learner][f])
        for learner in MINE
        for f in COURSE_FUNCTIONS
        if MINE[learner][f] != theirs[learner][f]
    ]
    assert not disagree


def test_the_handouts_conventions_are_never_wrong_and_cost_no_score(graded):
    _, _, book = graded
    anna = next(e for e in book.entries if e["learner"] == "anna_handout")
    assert W not in anna["verdicts"].values() and anna["score"] == 1.0
    kinds = {m["mistake"] for m in anna["mistakes"]}
    assert kinds == {"minmax", "sized_by_max", "he_output"}
    assert all(m["verdict"] == D for m in anna["mistakes"])


def test_gradebook_has_one_row_per_learner_one_column_per_function_and_the_score(graded):
    _, out, book = graded
    with (out / "gradebook.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["learner"] for r in rows] == [e["learner"] for e in book.entries]
    assert list(rows[0])[: len(COURSE_FUNCTIONS) + 1] == ["learner", *COURSE_FUNCTIONS]
    jade = next(r for r in rows if r["learner"] == "jade_softmaxp_bug")
    assert jade["softmaxp"] == W and jade["update_shallow"] == "depends on softmaxp"
    assert float(jade["score"]) == pytest.approx(13 / 14, abs=1e-3)  # one mistake, counted once


def test_class_summary_counts_learners_per_mistake_with_the_identity_it_breaks(graded):
    _, out, _ = graded
    text = (out / "summary.md").read_text()
    line = next(row for row in text.splitlines() if "`never_shuffles`" in row)
    assert line.startswith("| 1 |") and "backprop_minibatch_shallow" in line
    jvp = next(row for row in text.splitlines() if "`inner_whole_matrix`" in row)
    assert "softmax_jvp_is_g_times_e_minus_inner_product" in jvp
    assert (out / "summary.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_feedback_is_markdown_per_learner_readable_without_backproof(graded):
    _, out, book = graded
    files = sorted(p.stem for p in (out / "feedback").glob("*.md"))
    assert files == sorted(e["learner"] for e in book.entries)
    gus = (out / "feedback" / "gus_unused_perm.md").read_text()
    assert gus.startswith("# Feedback for gus_unused_perm")
    assert "| `backprop_minibatch_shallow` | wrong |" in gus and "```text" in gus


def test_cli_grades_a_folder_and_says_where_the_results_are(graded, capsys):
    from backproof.cli import main

    submissions, out, _ = graded
    assert main(["check", str(submissions), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"graded {len(list(out.glob('feedback/*.md')))} learners" in text and "gradebook.csv" in text


def test_unaveraged_per_sample_loss_is_wrong_without_a_false_note_about_averaging(graded):
    _, out, _ = graded
    text = (out / "feedback" / "kofi_loss.md").read_text()
    assert "averages over the N samples" not in text
    assert "| `eval_loss` | wrong | returns an array of shape" in text


def test_loop_that_never_uses_its_permutation_is_wrong_at_the_permutation_line():
    report = check_file(CLASS / "gus_unused_perm.py", only=["backprop_minibatch_shallow"])
    (finding,) = [f for f in report["backprop_minibatch_shallow"].findings if not f.passed]
    assert finding.mistake == "never_shuffles"
    assert finding.line == "line 76: perm = permutation(N)   # shuffle every epoch"


def test_python2_leftovers_get_hints_and_cells_are_named_as_jupyter_shows_them(graded):
    _, out, _ = graded
    text = (out / "feedback" / "emil_py2.md").read_text()
    assert "In [2] has a syntax error" in text  # the print statement's cell: Jupyter's In [2]
    assert "xrange is Python 2: write range" in text and "(In [3], line 6, in label2onehot)" in text
    assert "N / B is a float (Python 2 rounded it down)" in text


def test_rows_layout_checks_samples_as_rows_and_is_needed_for_them(rows_report):
    assert rows_report.ok
    plain = check_file(LEARNERS / "rows" / "chen_rows.py", only=["softmax"])
    assert plain["softmax"].verdict == W


def test_adapter_file_checks_a_class_based_network_without_editing_it(adapted_report):
    assert adapted_report["update_shallow"].notes == ["checked through the adapter dara_adapter.py"]
    assert adapted_report["backprop_minibatch_shallow"].findings[-1].mistake == "never_shuffles"


def _namespace(path: Path) -> dict:
    ns: dict = {"__name__": "learner"}
    exec(compile(path.read_text(), str(path), "exec"), ns)
    return ns


def test_in_notebook_check_gives_the_command_lines_verdict_and_counterexample():
    from backproof.check import function

    path = CLASS / "jade_softmaxp_bug.py"
    cli = check_file(path, only=["softmaxp"])["softmaxp"]
    live = function(_namespace(path)["softmaxp"])
    assert live.verdict == cli.verdict == W
    assert live.counterexample == next(f for f in cli.findings if not f.passed).counterexample_values
    shown = live._repr_markdown_()
    assert shown.startswith("**softmaxp: wrong**") and "inner_whole_matrix" not in shown
    assert "over the whole matrix" in str(live) and "your cell, line" in str(live)


def test_in_notebook_check_says_depends_on_for_a_function_failing_through_another():
    from backproof.check import function

    ns = _namespace(CLASS / "jade_softmaxp_bug.py")
    theirs = ns["softmaxp"]
    report = function(ns["update_shallow"])
    assert report.verdict == "depends on softmaxp" and not report.ok
    assert ns["softmaxp"] is theirs  # the course's softmaxp was put in its place only for the re-check


def test_in_notebook_check_maps_names_and_layouts():
    import numpy as np

    from backproof.check import function

    def softmax_rows(a):
        z = np.exp(a - a.max(axis=1, keepdims=True))
        return z / z.sum(axis=1, keepdims=True)

    def relu_prime(a, e):
        return e * (a > 0)

    assert function(softmax_rows, "softmax", layout="rows").verdict == P
    assert function(relu_prime).verdict == P  # relu_prime -> relup
    with pytest.raises(Exception, match="which course function is"):
        function(lambda a: a)


# last: it edits a submission (and puts it back)
def test_regrading_checks_only_the_submissions_that_changed(graded):
    from backproof.check import grade_folder

    submissions, out, first = graded
    again = grade_folder(submissions, out, jobs=2, progress=False)
    assert again.checked == 0 and [e["verdicts"] for e in again.entries] == [
        e["verdicts"] for e in first.entries
    ]
    path = submissions / "kofi_loss.py"
    path.write_text(
        path.read_text().replace("np.sum(d * np.log(y), axis=0)", "np.sum(d * np.log(y)) / y.size")
    )
    changed = grade_folder(submissions, out, jobs=1, progress=False)
    assert changed.checked == 1
    kofi = next(e for e in changed.entries if e["learner"] == "kofi_loss")
    assert kofi["verdicts"]["eval_loss"] == P


LOOP = """        for l in range(NB):
            batch = shuffled[B * l:min(B * (l + 1), N)]"""


@pytest.mark.parametrize(
    ("old", "new", "verdict", "words"),
    [
        (
            LOOP,
            LOOP.replace("shuffled[B * l:min(B * (l + 1), N)]", "np.random.choice(N, B)"),
            W,
            "with_replacement",
        ),
        (
            "shuffled = np.random.permutation(N)",
            "np.random.seed(0); shuffled = np.random.permutation(N)",
            W,
            "same_order",
        ),
        ("for l in range(NB):", "for l in range(N // B):", P, "drops the last N mod B samples"),
    ],
    ids=["batches drawn with replacement", "same order every epoch", "last partial batch dropped"],
)
def test_minibatch_loop_is_judged_by_the_samples_it_visits(tmp_path, old, new, verdict, words):
    text = (CLASS / "jade_softmaxp_bug.py").read_text()
    text = text.replace("inner = np.sum(g * e)", "inner = np.sum(g * e, axis=0)")  # her softmaxp, fixed
    assert old in text
    path = tmp_path / "loop.py"
    path.write_text(text.replace(old, new))
    result = check_file(path, only=["backprop_minibatch_shallow"])["backprop_minibatch_shallow"]
    assert result.verdict == verdict
    said = [f.mistake for f in result.findings] + result.notes
    assert any(words in str(s) for s in said), said


def test_a_class_folder_is_one_learner_per_file_or_per_sub_folder(tmp_path):
    from backproof.check._grade import discover

    (tmp_path / "anna.ipynb").write_text("{}")
    (tmp_path / "anna.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "old.ipynb").write_text("{}")
    mo = tmp_path / "mo"
    mo.mkdir()
    (mo / "helpers.py").write_text("def relu(a):\n    return a\n")
    (mo / "hw.py").write_text("def softmax(a):\n    pass\ndef softmaxp(a, e):\n    pass\n")
    subs = {s.learner: s for s in discover(tmp_path)}
    assert sorted(subs) == ["anna.ipynb", "anna.py", "mo"]
    assert subs["mo"].path.name == "hw.py" and len(subs["mo"].files) == 2 and subs["mo"].shown == "mo/hw.py"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("def softmax(a)\n    return a\n", "syntax error at line 1"),
        ("def my_helper(a):\n    return a\n", "defines none of the course's functions"),
    ],
)
def test_an_adapter_file_that_cannot_be_used_is_refused_with_the_fix(tmp_path, text, words):
    from backproof.check._adapt import AdapterError

    adapter = tmp_path / "adapter.py"
    adapter.write_text(text)
    with pytest.raises(AdapterError, match=words):
        check_file(CLASS / "ivan_messy.py", adapter=adapter, only=["softmax"])


def test_a_float64_normalisation_is_not_wrong_for_being_more_precise_than_float32(tmp_path):
    # found grading the generated class of 200: Ben's notebook got "wrong" for 2u/255 - 1 in float64
    import importlib.util

    import nbformat

    spec = importlib.util.spec_from_file_location("make_class", LEARNERS.parent / "make_class.py")
    make_class = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_class)
    path = tmp_path / "ben.ipynb"
    nbformat.write(make_class.as_notebook((CLASS / "ben_float64.py").read_text(), "# Ben"), str(path))
    result = check_file(path, only=["normalize_MNIST_images"])["normalize_MNIST_images"]
    assert result.verdict == D and "float64" in result.findings[0].differs


def test_generated_inputs_do_not_depend_on_the_modules_loaded_before(tmp_path, monkeypatch):
    # Hypothesis draws constants from "local" modules loaded in the process; a grading worker or a
    # notebook has loaded others than a fresh command line, so those constants are left out
    import importlib

    import numpy as np

    from backproof.check import function

    seen: list = []

    def relu(a):
        seen.append(np.array(a))
        return np.maximum(a, 0)

    assert function(relu).verdict == P
    first, seen[:] = list(seen), []
    (tmp_path / "many_constants.py").write_text(
        "VALUES = [" + ", ".join(f"{k / 7 + 0.001:.6f}" for k in range(-28, 28)) + "]\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.import_module("many_constants")
    assert function(relu).verdict == P
    assert len(seen) == len(first) and all(np.array_equal(a, b) for a, b in zip(seen, first))


def test_an_exercise_stub_is_not_written_yet_not_wrong():
    from backproof import check

    def relup(a, e):
        raise NotImplementedError

    report = check.function(relup)
    assert report.verdict == "not found" and not report.ok
    assert "not written yet" in str(report)

    def relup(a, e):
        raise ValueError("oops")

    assert check.function(relup).verdict == "wrong"
