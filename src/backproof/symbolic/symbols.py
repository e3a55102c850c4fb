r"""The names the layer proofs are written in: index and size symbols, the loss, the activations.

Indices start at 0, as in NumPy. Sizes are positive integer symbols (:math:`m, n, N`, the
widths :math:`n_{l-1}, n_l, n_L` and the depth :math:`L`); :math:`E` is any differentiable
loss and :math:`\sigma` any differentiable activation (an undefined SymPy function). The
activation heads (:class:`LeakyRelu`, :class:`Sigmoid`, :class:`Tanh`, :class:`LeakySlope`)
are display names whose definitions (``LEAKY_DEF``, ``SIGMOID_DEF``, ``TANH_DEF``) the proofs
substitute; the numeric checks evaluate the same definitions.

Non-goals: a symbol table for other modules; every name here means one thing.
"""

from __future__ import annotations

import sympy as sp
from sympy.matrices.expressions.applyfunc import ElementwiseApplyFunction


def _int(name: str):
    return sp.Symbol(name, integer=True)


def _size(name: str):
    return sp.Symbol(name, integer=True, positive=True)


p, q, r, s, t = (_int(v) for v in "pqrst")
E = sp.Symbol("E")  # the loss: any differentiable function of the layer's output
sigma = sp.Function("sigma", real=True)  # any differentiable real activation
_u = sp.Dummy("u")


def elementwise(f, X) -> ElementwiseApplyFunction:
    r""":math:`f(X)` entry by entry."""
    return ElementwiseApplyFunction(f, X)


def derivative_of(f) -> sp.Lambda:
    r""":math:`f'`, as the function :math:`u \mapsto \mathrm{d}f(u)/\mathrm{d}u`."""
    return sp.Lambda(_u, sp.Derivative(f(_u), _u))


def _ones_row(N) -> sp.OneMatrix:
    return sp.OneMatrix(1, N)


def _ones_col(N) -> sp.OneMatrix:
    return sp.OneMatrix(N, 1)


m, n, N = _size("m"), _size("n"), _size("N")
L = _size("L")

# --------------------------------------------------------------------------- activations, by definition

_a = sp.Symbol("a", real=True)
_a_pos, _a_neg = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)
alpha = sp.Symbol("alpha", positive=True)


class LeakyRelu(sp.Function):
    r""":math:`\operatorname{lrelu}_\alpha(a)` (display head; its definition is substituted to check)."""

    def _latex(self, printer, exp=None):
        return rf"\operatorname{{lrelu}}_{{\alpha}}\left({printer._print(self.args[0])}\right)"


class LeakySlope(sp.Function):
    r""":math:`H_\alpha(a)`: 1 for :math:`a > 0`, :math:`\alpha` for :math:`a \le 0` (the convention)."""

    def _latex(self, printer, exp=None):
        return rf"H_{{\alpha}}\left({printer._print(self.args[0])}\right)"


class Sigmoid(sp.Function):
    r""":math:`\operatorname{sigmoid}(a)` (display head)."""

    def _latex(self, printer, exp=None):
        return rf"\operatorname{{sigmoid}}\left({printer._print(self.args[0])}\right)"


class Tanh(sp.Function):
    r""":math:`\tanh(a)` (display head; defined by exponentials, not by SymPy's ``tanh``)."""

    def _latex(self, printer, exp=None):
        power = f"^{{{exp}}}" if exp else ""
        return rf"\tanh{power}\left({printer._print(self.args[0])}\right)"


LEAKY_DEF = sp.Piecewise((_a, _a > 0), (alpha * _a, True))
LEAKY_SLOPE = sp.Piecewise((1, _a > 0), (alpha, True))
SIGMOID_DEF = 1 / (1 + sp.exp(-_a))
TANH_DEF = (sp.exp(_a) - sp.exp(-_a)) / (sp.exp(_a) + sp.exp(-_a))


def softmax_vector(a: sp.Matrix) -> sp.Matrix:
    r"""The softmax of a column of SymPy expressions: :math:`\\exp(a_i) / \sum_j \\exp(a_j)`."""
    total = sum(sp.exp(x) for x in a)
    return sp.Matrix([sp.exp(x) / total for x in a])
