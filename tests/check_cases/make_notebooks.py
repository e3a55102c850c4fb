"""Write the notebooks of the check tests and of the site from course_solution.py.

    python tests/check_cases/make_notebooks.py

* tests/check_cases/course_solution.ipynb: the same correct solution as a notebook, one
  function per cell, with a magic, a markdown cell and training cells that load MNIST (which
  the checker does not run); its update_shallow uses the correct variant relup(h, ...).
* src/backproof/check/examples/my_assignment.ipynb: that notebook with two learner's
  mistakes (softmax does not subtract the maximum; update_shallow forgets the 1/N), shown on
  the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def cells(text: str) -> list[str]:
    body = text.split('\nif __name__ == "__main__":')[0]
    return [c.strip() + "\n" for c in re.split(r"\n\n\n(?=def |import )", body) if c.strip()]


def notebook(code: list[str], title: str) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"display_name": "Python 3", "language": "python", "name": "python3"}
    nb.cells.append(
        nbformat.v4.new_markdown_cell(f"# {title}\n\nColumns are samples; `net = (W1, b1, W2, b2)`.")
    )
    nb.cells.append(nbformat.v4.new_code_cell("%matplotlib inline\n" + code[0].split("\n", 2)[2]))
    nb.cells.extend(nbformat.v4.new_code_cell(c) for c in code[1:])
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import MNISTtools\n\n"
            'xtrain, ltrain = MNISTtools.load(dataset="training", path="/srv/datasets/mnist")\n'
            "xtrain = normalize_MNIST_images(xtrain)\n"
            "dtrain = label2onehot(ltrain)\n"
            "print(xtrain.shape, dtrain.shape)"
        )
    )
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "netinit = init_shallow(Ni, Nh, No)\nnettrain = backprop_shallow(xtrain, dtrain, netinit, 20)"
        )
    )
    return nb


EXAMPLES = ROOT / "src" / "backproof" / "check" / "examples"


def main(tests_dir: Path = HERE, examples_dir: Path = EXAMPLES) -> None:
    text = (HERE / "course_solution.py").read_text()
    correct = text.replace("delta1 = relup(a1, W2.T.dot(delta2))", "delta1 = relup(h, W2.T.dot(delta2))")
    assert correct != text
    nbformat.write(
        notebook(cells(correct), "Backprop exercise: a correct solution"), tests_dir / "course_solution.ipynb"
    )
    wrong = correct
    for old, new in (
        ("M = np.max(a, axis=0, keepdims=True)\n    e = np.exp(a - M)", "e = np.exp(a)"),
        ("N = x.shape[1]\n    a1", "a1"),
        ("gamma / N", "gamma"),
    ):
        assert old in wrong, old
        wrong = wrong.replace(old, new)
    examples_dir.mkdir(exist_ok=True)
    nbformat.write(notebook(cells(wrong), "Backprop exercise"), examples_dir / "my_assignment.ipynb")


if __name__ == "__main__":
    main()
