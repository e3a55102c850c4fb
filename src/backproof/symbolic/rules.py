r"""The rules the layer proofs cite rather than derive: named, stated, and counted.

SymPy checks every step of every chain, but some steps apply a rule that SymPy does not
derive for symbolic sizes. Each such rule is a :class:`Rule` with a statement and a status:

* ``"checked for all sizes"``: SymPy proves it for symbolic sizes;
* ``"checked for sizes …"``: SymPy checks it at the sizes listed (and the identity's proof fails
  if one of those checks fails); for any other size it is cited;
* ``"cited"``: not checked by SymPy at all.

:class:`~backproof.symbolic.core.Rule` is the trusted core's; this module holds the instances the
layer proofs cite.

A step that applies a rule is a :class:`CitedStep`: it names its rules and the instances it
substitutes (``uses``: pairs *instance of the rule's left side* → *its right side*). Its check
(:meth:`~backproof.symbolic.indexed.IndexedChain.check`) is that the step's expression is the one
before it with exactly these instances substituted, as SymPy verifies; whether each instance is
true is the rule's business, as its status says. :func:`cited_rules` lists the rules an identity
rests on, and ``backproof verify`` says "proved by SymPy from k cited rules".

Non-goals: a logic of rules (schemas, matching); a rule is cited by the step that uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy as sp

from .chain import Step
from .core import Rule

__all__ = [
    "CHAIN_RULE",
    "CHAIN_RULE_SIZES",
    "CITED",
    "INDUCTION_HYPOTHESIS",
    "INDUCTION_PRINCIPLE",
    "NETWORK_STRUCTURE",
    "CitedStep",
    "cite",
    "cited_rules",
    "rule_dict",
]

#: The ``kind`` of a step that applies a cited rule (neither a definition nor derived by SymPy).
CITED = "cited rule"


def rule_dict(rule: Rule) -> dict:
    r"""A rule as JSON: its name, its statement (LaTeX) and its status."""
    statement = rule.statement if isinstance(rule.statement, str) else sp.latex(rule.statement)
    return {"name": rule.name, "statement": statement, "status": rule.status}


#: Every size at which the chain-rule instances are checked: 1, 2 and 3 in each dimension.
CHAIN_RULE_SIZES = (1, 2, 3)

CHAIN_RULE = Rule(
    "the chain rule",
    r"\frac{\partial E}{\partial X_{r,s}} = \sum_{p,q} \frac{\partial E}{\partial u_{p,q}}\,"
    r"\frac{\partial u_{p,q}}{\partial X_{r,s}}"
    r"\ \text{for } E \text{ differentiable, depending on } X \text{ only through } u",
    "checked for sizes 1 to 3 in each dimension (m, n, N), at each instance the proofs use: "
    "SymPy's derivative of E(u(X)), E an undefined function of all entries of u",
)

INDUCTION_PRINCIPLE = Rule(
    "the induction principle (downward)",
    r"P(L) \wedge \big(\forall l,\ 2 \le l \le L:\ P(l) \Rightarrow P(l-1)\big)"
    r"\ \Rightarrow\ \forall l,\ 1 \le l \le L:\ P(l)",
    "cited",
)

INDUCTION_HYPOTHESIS = Rule(
    "the induction hypothesis P(l)",
    r"\frac{\partial E}{\partial a_l} = \delta_l\ \text{(assumed in the step } P(l) \Rightarrow P(l-1)"
    r"\text{, discharged by the induction principle)}",
    "cited",
)

NETWORK_STRUCTURE = Rule(
    "the network's structure",
    r"E \text{ depends on } h_{l-1} \text{ only through } a_l = W_l h_{l-1} + b_l \mathbb{1}^\top"
    r"\text{, and on } a_{l-1} \text{ only through } h_{l-1} = \sigma(a_{l-1})",
    "cited",
)


@dataclass(frozen=True)
class CitedStep(Step):
    r"""A step that substitutes instances of cited rules into the expression before it.

    ``rules`` are the :class:`Rule`\ s it applies; ``uses`` the pairs (left side, right side) of
    the instances it substitutes. The chain checks that the step is the one before with these
    substitutions made, and nothing else.
    """

    rules: tuple = ()
    uses: tuple = ()


def cite(expr, why: str, rules, uses) -> CitedStep:
    r"""A step applying ``rules``: ``expr`` is the step before with each ``uses`` pair substituted."""
    return CitedStep(expr, why, CITED, "=", tuple(rules), tuple(uses))


def cited_rules(ident) -> list[Rule]:
    r"""The rules identity ``ident`` cites, each once: its own (``ident.cites``, such as the induction
    principle), those its steps apply (:class:`CitedStep`) and those its chains use as rewrites
    (``Chain.rules``, the core's cited rules)."""
    out: list[Rule] = []

    def add(rule) -> None:
        if all(rule is not x and rule != x for x in out):
            out.append(rule)

    for rule in getattr(ident, "cites", ()):
        add(rule)
    for chain in ident.chains:
        for step in chain.steps:
            for rule in getattr(step, "rules", ()):
                add(rule)
        for rule in getattr(chain, "rules", ()):
            add(rule)
    return out
