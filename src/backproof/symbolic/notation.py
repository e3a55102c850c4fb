r"""How identities are written: the LaTeX printer and the heads of the displayed statements.

A displayed statement may use the course's notation (:math:`\operatorname{diag}(g)`,
:math:`u \odot v`, :math:`\langle u, v\rangle`, :math:`J^\top`), which SymPy has no
objects for. The heads below print that notation and also *mean* something:
:func:`interpret` turns a displayed expression into explicit SymPy matrices, given what
each display symbol stands for at one size, so that the engine can check the shown
statement against the two ends of a proved chain (see
:meth:`backproof.symbolic.Identity.statement_checks`). A display head is therefore never
only decoration: a typo in a shown statement makes that check fail.

Non-goals: a general matrix-calculus notation; only what the catalogue's statements use.
"""

from __future__ import annotations

import functools
import operator

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = ["Defines", "Diag", "EDiv", "Had", "Inner", "Relu", "Step0", "interpret", "nc", "to_latex"]


class _Printer(LatexPrinter):
    """SymPy's LaTeX, with partial derivatives as fractions, Heaviside as H, the exponential as exp
    and the Kronecker delta as :math:`[i = j]`."""

    def _print_Derivative(self, expr):
        f, (x, count) = expr.expr, expr.variable_count[0]
        if len(expr.variable_count) == 1 and count == 1 and isinstance(f, (sp.Symbol, sp.Indexed)):
            return rf"\frac{{\partial {self._print(f)}}}{{\partial {self._print(x)}}}"
        return super()._print_Derivative(expr)

    def _as_ordered_terms(self, expr, order=None):
        # a sum starts with a positive term when it has one: g_i - d_i, not -d_i + g_i
        terms = list(super()._as_ordered_terms(expr, order=order))
        if isinstance(expr, sp.Add) and terms and terms[0].could_extract_minus_sign():
            first = next((t for t in terms if not t.could_extract_minus_sign()), None)
            if first is not None:
                terms.remove(first)
                terms.insert(0, first)
        return terms

    def _print_KroneckerDelta(self, expr, exp=None):
        # [i = j], not delta_ij: the letter delta is the upstream gradient
        i, j = (self._print(x) for x in expr.args[:2])
        out = rf"\left[{i} = {j}\right]"
        return rf"{out}^{{{exp}}}" if exp is not None else out

    def _print_Heaviside(self, expr):
        return rf"H\left({self._print(expr.args[0])}\right)"

    def _print_exp(self, expr, exp=None):
        # \exp, not e^{...}: in the course's notation e is the incoming gradient
        out = rf"\exp\left({self._print(expr.args[0])}\right)"
        return rf"{out}^{{{exp}}}" if exp is not None else out


def to_latex(expr) -> str:
    r"""LaTeX of a SymPy expression as the site shows it (terms kept in the order written)."""
    return _Printer({"order": "none"}).doprint(expr)


class Defines(sp.Equality):
    r""":math:`\delta_2 \coloneqq y - d`: a definition, shown with :math:`\coloneqq`, not a claim.

    Checked like an equation (its :class:`~backproof.symbolic.Link` ties it to a chain whose
    one step is marked a definition), so that what the reader sees is still what is checked;
    the sign tells the reader that nothing is proved there.
    """

    def _latex(self, printer):
        return rf"{printer._print(self.lhs)} \coloneqq {printer._print(self.rhs)}"


class Diag(sp.Function):
    r""":math:`\operatorname{diag}(g)`: the diagonal matrix of a column."""

    def _latex(self, printer):
        return rf"\operatorname{{diag}}\left({printer._print(self.args[0])}\right)"


class Inner(sp.Function):
    r""":math:`\langle u, v \rangle`: the inner product of two columns."""

    def _latex(self, printer):
        u, v = (printer._print(x) for x in self.args)
        return rf"\left\langle {u}, {v} \right\rangle"


class Had(sp.Function):
    r"""Elementwise product :math:`u \odot v`."""

    def _latex(self, printer):
        u, v = (
            rf"\left({printer._print(x)}\right)" if isinstance(x, (sp.Add, sp.Mul)) else printer._print(x)
            for x in self.args
        )
        return rf"{u} \odot {v}"


class EDiv(sp.Function):
    r"""Elementwise quotient :math:`u / v`."""

    def _latex(self, printer):
        u, v = (printer._print(x) for x in self.args)
        if self.args[0].could_extract_minus_sign():
            return rf"\left({u} / {v}\right)"
        return rf"{u} / {v}"


class Relu(sp.Function):
    r""":math:`\operatorname{relu}(a) = \max(a, 0)`."""

    def _latex(self, printer):
        return rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"


class Step0(sp.Function):
    r"""The Heaviside step with :math:`H(0) = 0`."""

    def _latex(self, printer):
        return rf"H\left({printer._print(self.args[0])}\right)"


def nc(*names):
    """Non-commuting display symbols for vectors and matrices in the statements."""
    out = tuple(sp.Symbol(x, commutative=False) for x in names)
    return out if len(out) > 1 else out[0]


def _elementwise(f, u, v):
    if isinstance(u, sp.MatrixBase) and isinstance(v, sp.MatrixBase):
        return sp.Matrix(u.rows, u.cols, lambda r, c: f(u[r, c], v[r, c]))
    if isinstance(u, sp.MatrixBase):
        return u.applyfunc(lambda x: f(x, v))
    if isinstance(v, sp.MatrixBase):
        return v.applyfunc(lambda x: f(u, x))
    return f(u, v)


def _scalar(x):
    if isinstance(x, sp.MatrixBase) and x.shape == (1, 1):
        return x[0, 0]
    return x


def interpret(expr, meaning: dict):
    r"""The explicit SymPy value of a displayed expression, given what its symbols stand for.

    ``meaning`` maps display symbols (such as the non-commuting :math:`J^\top`) to
    explicit matrices or expressions. Products of non-commuting symbols are matrix
    products in the order written; :class:`Diag`, :class:`Had`, :class:`EDiv`,
    :class:`Inner`, :class:`Relu` and :class:`Step0` are evaluated. Anything else is
    rebuilt from its interpreted arguments.
    """
    if expr in meaning:
        return meaning[expr]
    if isinstance(expr, sp.Tuple):
        return sp.Tuple(*(interpret(x, meaning) for x in expr))
    if isinstance(expr, sp.Equality):
        return (interpret(expr.lhs, meaning), interpret(expr.rhs, meaning))
    if not expr.args:
        return expr
    args = [interpret(x, meaning) for x in expr.args]
    if isinstance(expr, sp.Add):
        return functools.reduce(operator.add, args)
    if isinstance(expr, sp.Mul):
        return functools.reduce(operator.mul, args)
    if isinstance(expr, sp.Pow) and not isinstance(args[0], sp.MatrixBase):
        return args[0] ** args[1]
    if isinstance(expr, Diag):
        return sp.diag(*args[0])
    if isinstance(expr, Had):
        return _elementwise(operator.mul, *args)
    if isinstance(expr, EDiv):
        return _elementwise(operator.truediv, *args)
    if isinstance(expr, Inner):
        return _scalar(args[0].T * args[1])
    if isinstance(expr, Relu):
        return _elementwise(lambda x, _: sp.Max(x, 0), args[0], 0)
    if isinstance(expr, Step0):
        return _elementwise(lambda x, _: sp.Heaviside(x, 0), args[0], 0)
    if isinstance(expr, sp.Derivative):
        return sp.Derivative(args[0], *expr.variable_count)
    return expr.func(*args)
