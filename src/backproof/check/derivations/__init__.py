r"""Learners' derivations, checked step by step: ``check_derivations(path_or_text)``.

A learner's notebook (its Markdown cells), a ``.md`` or a ``.tex`` file holds derivations
written by hand: chains of expressions joined by ``=``. Each is found (:mod:`.extract`), each
line read into SymPy (:mod:`.read`; a line that cannot be read is reported "not read" with the
reason, never "wrong"), each step checked against the previous line (:mod:`.check`,
:mod:`._decide`: "follows" only with a proof and no counterexample, "does not follow" only
with an exact counterexample), the first wrong step diagnosed when it matches a known slip
(:mod:`.slips`), and the course result the derivation targets named.

>>> from backproof.check.derivations import check_derivations
>>> [r.status for r in check_derivations(r"$$\frac{\partial g_i}{\partial a_i} = g_i(1 + g_i)$$")]
['wrong']

Non-goals: grading prose; derivations that are not chains of equalities; proofs by induction.
"""

from __future__ import annotations

from pathlib import Path

from .report import DerivationReport

__all__ = ["DerivationReport", "check_derivations"]


def check_derivations(path_or_text: str | Path) -> list[DerivationReport]:
    r"""Every derivation in a notebook, ``.md``, ``.tex`` or a text, checked (see the module)."""
    from .check import apply_definitions, check_chain
    from .extract import find_derivations, read_source
    from .read import Env

    source = read_source(path_or_text)
    env = Env()
    out: list[DerivationReport] = []
    for der in find_derivations(source):
        if len(der.items) < 2:
            apply_definitions(der, env)
            continue
        res = check_chain(der, env)
        if not res.steps and not res.not_read:
            continue  # a definition, not a derivation
        out.append(DerivationReport.build(der.where, der.items[0].text, der.items[-1].text, res))
    return out
