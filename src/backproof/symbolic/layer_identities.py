r"""Backprop through any number of layers, proved by SymPy for symbolic sizes.

The shallow network's recursion is proved in :mod:`backproof.symbolic` on one tiny
network (identity ``network_backprop_equals_sympy_gradient``, 4 → 3 → 3, batch 2). This
module proves the pieces it is made of for every size, and then the recursion for every depth:

* **Linear layer lemma** (:func:`linear_layer_lemma`). For :math:`a = W x + b\mathbb{1}^\top`
  with :math:`W` of shape :math:`(m, n)`, :math:`x` of shape :math:`(n, N)` and any
  differentiable loss :math:`E` of :math:`a` with upstream gradient
  :math:`\delta = \partial E / \partial a`:
  :math:`\partial E/\partial W = \delta x^\top`, :math:`\partial E/\partial b = \delta\mathbb{1}`,
  :math:`\partial E/\partial x = W^\top \delta`.
  **Sizes: symbolic** :math:`m, n, N` (SymPy ``MatrixSymbol`` entries, sums over
  symbolic ranges, range-aware ``KroneckerDelta``). No size is substituted.
* **Elementwise activation lemma** (:func:`activation_lemma`). For :math:`h = \sigma(a)`
  elementwise, :math:`\sigma` any differentiable function and :math:`e = \partial E/\partial h`:
  :math:`\partial E/\partial a = \sigma'(a) \odot e`. **Sizes: symbolic** :math:`m, N`;
  :math:`\sigma` is an undefined SymPy function, so the proof holds for every :math:`\sigma`.
* **Activation derivatives** (:func:`activation_derivatives`), each from its definition,
  for a real scalar :math:`a` (so for every entry of a matrix of any size):
  leaky ReLU :math:`\operatorname{lrelu}_\alpha'(a) = 1` for :math:`a > 0`, :math:`\alpha`
  for :math:`a < 0`, and by backproof's convention :math:`\alpha` at the kink :math:`a = 0`;
  :math:`\operatorname{sigmoid}' = s(1 - s)` with :math:`s = 1/(1 + e^{-a})`;
  :math:`\tanh' = 1 - \tanh^2` with :math:`\tanh a = (e^a - e^{-a})/(e^a + e^{-a})`.
  (ReLU's is identity 7 of :mod:`backproof.symbolic`.)
* **The recursion theorem** (:func:`recursion_theorem`), for a network of :math:`L`
  layers, :math:`L` symbolic: :math:`h_0 = x`, :math:`a_l = W_l h_{l-1} + b_l\mathbb{1}^\top`,
  :math:`h_l = \sigma(a_l)` for :math:`l < L`, :math:`y = g(a_L)` (softmax per column) and
  :math:`E = -\sum_{p,q} d_{p,q} \log y_{p,q}` summed over the batch, each column of
  :math:`d` summing to 1. With :math:`\delta_l = \partial E/\partial a_l`:
  :math:`\delta_L = y - d`; :math:`\delta_{l-1} = \sigma'(a_{l-1}) \odot W_l^\top \delta_l`
  for :math:`2 \le l \le L`; :math:`\nabla_{W_l} = \delta_l h_{l-1}^\top`,
  :math:`\nabla_{b_l} = \delta_l \mathbb{1}` for :math:`1 \le l \le L`.
  An :class:`Induction`, downward on :math:`l`: the base case (:math:`l = L`) is proved from
  the definition of :math:`E` for symbolic class count :math:`n_L` and batch :math:`N`
  (the same result as identity 6, there per column); the inductive step and the
  gradients of layer :math:`l` are the two lemmas instantiated at layer :math:`l`, for
  symbolic widths :math:`n_{l-1}, n_l` and batch :math:`N`.

* **The 3-layer cross-check** (identity ``three_layer_backprop_equals_sympy_gradient``):
  backprop's formulas equal SymPy's derivatives of the whole explicit network
  3 → 2 → 2 → 3 with an undefined activation :math:`\sigma`, for **one sample at that size
  only** (like identity 8 for the shallow network); numerically, ``backprop`` and one step of
  ``train_minibatch`` are compared with SymPy's derivatives for each of the four activations.

**What SymPy checks, and what it does not.** Every step of every chain is checked (by the
trusted core, :mod:`backproof.symbolic.core`: derivatives of entries of symbolic-size matrix
expressions, sums over symbolic ranges, Kronecker deltas). Steps are of three kinds
(``Step.kind``): ``"rewrite"`` (SymPy derives the next line), ``"definition"`` (a definition is
substituted; SymPy checks the substitution) and ``"cited rule"``
(:class:`~backproof.symbolic.rules.CitedStep`: a rule SymPy does not derive for symbolic sizes is
applied; the check is that the step is the one before with exactly the rule's instance
substituted, and for the chain rule that the instance has the rule's form). The cited rules are
objects with a statement and a status (:mod:`backproof.symbolic.rules`): the multivariable chain
rule, "checked for sizes 1 to 3 in each dimension" (each instance the proofs use is checked by
SymPy, for an undefined :math:`E` of all entries, at every such size: :mod:`.chain_rule`); the
network's structure, the induction hypothesis and the induction principle, "cited". ``backproof
verify`` lists them per identity ("proved by SymPy from k cited rules"). The induction is one on
a symbolic layer index :math:`l` (:class:`~backproof.symbolic.recursion.Induction`): :math:`P(l)`
is a SymPy expression in :math:`l`, and the base case and the step are checked to be
:math:`P(L)` and :math:`P(l) \Rightarrow P(l-1)` by substitution; that these give every
:math:`1 \le l \le L` is the induction principle, cited. The cross-checks
(:mod:`backproof.symbolic._layer_numeric`) compare ``backprop`` with SymPy's own derivatives of
whole explicit 3-layer networks (3 → 2 → 2 → 3).

Indices start at 0, as in NumPy: :math:`W_{r,s}` with :math:`0 \le r \le m - 1`. The free
indices of a chain (:math:`r, s`) are assumed to be valid indices of the matrix they index:
SymPy's range-aware Kronecker deltas (``KroneckerDelta(p, r, (0, m - 1))``) carry that
hypothesis, which is what lets a sum over :math:`0 \le p \le m - 1` of :math:`[p = r] f(p)`
collapse to :math:`f(r)` for symbolic :math:`m`.
The Kronecker delta is printed as the Iverson bracket :math:`[p = r]`, since
:math:`\delta` is the upstream gradient.

**Wrong variants.** Each lemma, derivative and theorem part carries realistic wrong
versions (a missing transpose, :math:`a` for :math:`h`, a missing :math:`\sigma'`, the
wrong sum axis, :math:`x^\top\delta` for :math:`\delta x^\top`, ...). :meth:`PointVariant.refute`
evaluates the variant and the true derivative exactly (rational arithmetic) at a random
rational point of a concrete instance (sizes given in the verdict; all sizes 3 so every
variant is well typed and is refuted by value, not by shape; for the sigmoid, tanh and the
softmax the point is :math:`a = \log u` with :math:`u` rational, where every value is
rational) and reports the refutation. The true derivative there is SymPy's
:math:`\mathrm{d}E(X + \epsilon E_{ij})/\mathrm{d}\epsilon` at 0 of the definitions (a
polynomial stands for "any :math:`E`" and "any :math:`\sigma`"), no formula of backprop.
A refutation at one point is a proof that the variant is not an identity; the true
statement is evaluated at the same point and must agree.

**Numeric checks** (:mod:`backproof.symbolic._layer_numeric`, attached to each identity as
:class:`~backproof.symbolic.identity_base.Check`\ s): the NumPy code (``<name>_jvp``, ``backprop``,
one step of ``train_minibatch``) against SymPy's expressions at 50 digits, float64 and float32,
and finite differences. Every identity here is in the catalogue (``backproof verify``,
numbers after the softmax, ReLU and network identities).

**Where each part lives.** This module is the catalogue's entry for the layers (it registers
them, numbers 20 to 26) and re-exports their names. :mod:`.symbols` holds the symbols and the
definitions the proofs and the numeric checks share; :mod:`.indexed` the entrywise checker
(:func:`equal_general`, :class:`IndexedChain`, :class:`Claim`, :class:`LayerIdentity`);
:mod:`.point_refutation` the wrong variants' exact evaluation; :mod:`.layer_lemmas`,
:mod:`.activation_derivatives`, :mod:`.chain_rule`, :mod:`.recursion` and :mod:`.three_layer`
one concept each. :mod:`._layer_numeric` imports only :mod:`.symbols`, so no import circle.

Non-goals: convolutional or recurrent layers, losses other than softmax cross-entropy,
a general theorem prover.
"""

from __future__ import annotations

import functools

from . import symbols as _symbols
from .activation_derivatives import activation_derivatives
from .chain_rule import chain_rule_chain
from .engine import register
from .indexed import Claim, IndexedChain, LayerIdentity, defn, equal_general, normal_form, rewrite, to_latex
from .layer_lemmas import activation_lemma, linear_layer_lemma
from .point_refutation import SQUARE, PointVariant
from .recursion import Induction, LayerMatrix, P, l, n_L, n_l, n_prev, recursion_theorem, width
from .symbols import (
    LEAKY_DEF,
    LEAKY_SLOPE,
    SIGMOID_DEF,
    TANH_DEF,
    E,
    L,
    LeakyRelu,
    LeakySlope,
    N,
    Sigmoid,
    Tanh,
    _a,
    alpha,
    elementwise,
    m,
    n,
    p,
    q,
    r,
    s,
    sigma,
    t,
)
from .three_layer import THREE_LAYER_LABEL, THREE_LAYER_SIZES, three_layer_network
from .three_layer import _three_layer_identity as three_layer_identity

__all__ = [
    "LEAKY_DEF",
    "LEAKY_SLOPE",
    "SIGMOID_DEF",
    "SQUARE",
    "TANH_DEF",
    "THREE_LAYER_LABEL",
    "THREE_LAYER_SIZES",
    "Claim",
    "E",
    "IndexedChain",
    "Induction",
    "L",
    "LayerIdentity",
    "LayerMatrix",
    "LeakyRelu",
    "LeakySlope",
    "N",
    "P",
    "PointVariant",
    "Sigmoid",
    "Tanh",
    "activation_derivatives",
    "activation_lemma",
    "alpha",
    "chain_rule_chain",
    "defn",
    "elementwise",
    "equal_general",
    "l",
    "layer_identities",
    "layer_identity",
    "linear_layer_lemma",
    "m",
    "n",
    "n_L",
    "n_l",
    "n_prev",
    "normal_form",
    "p",
    "q",
    "r",
    "recursion_theorem",
    "rewrite",
    "s",
    "sigma",
    "t",
    "three_layer_identity",
    "three_layer_network",
    "to_latex",
    "width",
]

_ = (_symbols, _a)  # _a: the real scalar of the activation definitions, used by the checks


@functools.lru_cache(maxsize=1)
def layer_identities() -> tuple:
    r"""Every identity of this module: the two lemmas, three derivatives, the recursion theorem."""
    return (linear_layer_lemma(), activation_lemma(), *activation_derivatives(), recursion_theorem())


def layer_identity(name: str):
    r"""The identity of this module called ``name``."""
    for ident in layer_identities():
        if ident.name == name:
            return ident
    names = ", ".join(x.name for x in layer_identities())
    raise KeyError(f"no layer identity {name!r}; they are: {names}")


# Catalogue numbers 20+ (the layers' block); the factories return the cached objects.
register(linear_layer_lemma, order=20)
register(activation_lemma, order=21)
for _order, _q in ((22, 0), (23, 1), (24, 2)):
    register(lambda q=_q: activation_derivatives()[q], order=_order)  # type: ignore[misc]  # the default argument binds q; mypy cannot infer a lambda in a loop
register(recursion_theorem, order=25)
register(three_layer_identity, order=26)
