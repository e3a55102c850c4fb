r"""SymPy proofs of every identity backprop through the network rests on, with their wrong versions.

The package holds four kinds of thing:

* the trusted core, ``backproof.symbolic.core``: the one module that decides whether a
  step follows (``check_step``, a closed set of relations
  ``RELATIONS``, fresh-name definitions, cited ``Rule`` objects, bound variables renamed
  apart, side conditions, case splits that cover the domain, consistent assumptions);
* the refuter, ``backproof.symbolic.refuter``: :func:`refute` finds a point where a claim
  fails (sizes 2 to 12, several seeds and points, equal indices, logits near equal and far
  apart), evaluated exactly; it can only reject;
* the proof engine, which only builds terms and asks the core: ``backproof.symbolic.chain``
  (:class:`Step`, a definitional unfolding or a substantive rewrite; :class:`Chain`;
  ``check_step``, the core's verdict on one step with the refuter's counterexample),
  ``backproof.symbolic.identity_base`` (:class:`Identity` with its :class:`Variant`\ s,
  :class:`Check`\ s and :class:`Link`\ s) and :mod:`backproof.symbolic.engine`, the catalogue's
  registry (:func:`register` / :func:`identities`);
* the notation, :mod:`backproof.symbolic.notation`: the LaTeX printer and the display
  heads (:math:`\operatorname{diag}`, :math:`\odot`, :math:`\langle\cdot,\cdot\rangle`)
  that :func:`~backproof.symbolic.notation.interpret` evaluates, so that a shown
  statement is checked against the chain it summarises;
* the catalogue: :mod:`~backproof.symbolic.softmax_identities` (softmax and
  cross-entropy, symbolic :math:`n`), :mod:`~backproof.symbolic.relu_identities`,
  :mod:`~backproof.symbolic.network_identities` (the whole network, one training step).

The identities, in catalogue order (``backproof verify`` prints the same list):

1. :math:`\partial g_i/\partial a_i = g_i(1-g_i)`;
2. :math:`\partial g_i/\partial a_j = -g_i g_j` for :math:`i \ne j`;
3. :math:`J = \operatorname{diag}(g) - g g^\top`, and :math:`J = J^\top`;
4. :math:`J^\top e = g \odot e - \langle g, e\rangle g`;
5. :math:`\nabla_y E = -d / y`;
6. :math:`J^\top(-d/y) = y - d` when :math:`\sum_i d_i = 1` (and not otherwise);
7. :math:`\operatorname{relu}'(a) = H(a)` with :math:`H(0) = 0`;
8. backprop's gradients equal SymPy's derivatives of the summed loss of a network with
   4 inputs, 3 hidden units, 3 classes and a batch of 2, on every linear region;
9. one training step is :math:`\theta - (\gamma/B)\nabla_\theta\sum_s E_s`;
10. :math:`J^\top(-d/y) = y \sum_j d_j - d` for any targets;
11. label smoothing keeps :math:`y - d`;
12. :math:`g(a + c\mathbf{1}) = g(a)`;
13. :math:`\max_j a_j \le \log\sum_j e^{a_j} \le \max_j a_j + \log n`;
14. every :math:`s \in [0, 1]` is a subgradient of ReLU at 0;

then the identities other modules register (the layer lemmas and the recursion theorem for any
depth, from 20 on): :func:`identities` lists them all.

1-6 and 10-13 are proved for symbolic :math:`n` (indexed symbols, sums over all
:math:`n` classes); 1-6 also explicitly at :math:`n = 10`. 8 is proved at one size only,
and says so (:attr:`Identity.sizes`).

Non-goals: a general theorem prover; identities the course does not use.
"""

from __future__ import annotations

import sympy as sp

from . import network_identities, relu_identities, softmax_identities
from .chain import (
    DEFINITION,
    NOT_REFUTED,
    REWRITE,
    VARIANT_SECONDS,
    Chain,
    Step,
    Verdict,
    check_step,
    equal,
    expand,
    nonnegative,
    refute,
)
from .core import RELATIONS, Rule, StepVerdict
from .engine import CATALOGUE, REFUTATION, SHAPES, identities, identity, register
from .identity_base import PROOF, Check, Identity, Link, ProofResult, Variant
from .network_identities import TINY, TINY_LABELS, tiny_network
from .notation import Diag, EDiv, Had, Inner, Relu, Step0, interpret, nc, to_latex
from .refuter import Counterexample
from .softmax_identities import N_EXPLICIT, _explicit, softmax_vector

__all__ = [
    "CATALOGUE",
    "DEFINITION",
    "NOT_REFUTED",
    "N_EXPLICIT",
    "PROOF",
    "REFUTATION",
    "RELATIONS",
    "REWRITE",
    "SHAPES",
    "TINY",
    "TINY_LABELS",
    "VARIANT_SECONDS",
    "Chain",
    "Check",
    "Counterexample",
    "Diag",
    "EDiv",
    "Had",
    "Identity",
    "Inner",
    "Link",
    "ProofResult",
    "Relu",
    "Rule",
    "Step",
    "Step0",
    "StepVerdict",
    "Variant",
    "Verdict",
    "check_step",
    "equal",
    "expand",
    "identities",
    "identity",
    "interpret",
    "nc",
    "nonnegative",
    "refute",
    "register",
    "softmax_vector",
    "tiny_network",
    "to_latex",
]

_ = (sp, network_identities, relu_identities, softmax_identities, _explicit)  # re-exported for callers
