"""Write the site's example of a learner's work, code and derivations, from my_assignment.ipynb.

    python tests/derivations/make_example.py

src/backproof/check/examples/my_work.ipynb is the notebook of my_assignment.ipynb (the code
with its two mistakes) with the learner's derivations in Markdown cells before the code: the
softmax's diagonal (right), its off-diagonal entries (the quotient rule without the square)
and the backward pass in vector form (right).
"""

from __future__ import annotations

from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent.parent
EXAMPLES = ROOT / "src" / "backproof" / "check" / "examples"

DERIVATIONS = [
    "## Q1. The softmax's Jacobian\n\n"
    "With $g_i = \\frac{e^{a_i}}{\\sum_k e^{a_k}}$, by the quotient rule:\n\n"
    "$$\n\\begin{aligned}\n"
    "\\frac{\\partial g_i}{\\partial a_i} &= \\frac{e^{a_i}\\sum_k e^{a_k} - e^{a_i} e^{a_i}}"
    "{\\left(\\sum_k e^{a_k}\\right)^2} \\\\\n"
    "&= g_i - g_i^2 = g_i(1-g_i)\n"
    "\\end{aligned}\n$$\n\n"
    "and for $j \\neq i$ the numerator $e^{a_i}$ does not depend on $a_j$:\n\n"
    "$$\n\\begin{aligned}\n"
    "\\frac{\\partial g_i}{\\partial a_j} &= \\frac{0 - e^{a_i} e^{a_j}}{\\sum_k e^{a_k}} \\\\\n"
    "&= -g_i g_j \\qquad \\text{for } j \\neq i\n"
    "\\end{aligned}\n$$\n",
    "## Q2. Back through the softmax\n\n"
    "$$\\delta = J^T e = \\left(\\mathrm{diag}(g) - g g^T\\right) e"
    " = g \\odot e - \\langle g, e \\rangle g$$\n",
]


def main(examples_dir: Path = EXAMPLES) -> None:
    nb = nbformat.read(str(examples_dir / "my_assignment.ipynb"), as_version=4)
    at = next(n for n, c in enumerate(nb.cells) if c.source.startswith("def softmax("))
    nb.cells[at:at] = [nbformat.v4.new_markdown_cell(text) for text in DERIVATIONS]
    nbformat.write(nb, str(examples_dir / "my_work.ipynb"))


if __name__ == "__main__":
    main()
