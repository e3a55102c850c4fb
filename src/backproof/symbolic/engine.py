r"""The proof engine: the catalogue of identities, and the one door to the engine's parts.

A proof is built from :class:`~backproof.symbolic.chain.Step`\ s in a
:class:`~backproof.symbolic.chain.Chain` (:mod:`backproof.symbolic.chain`); an
:class:`~backproof.symbolic.identity_base.Identity` (:mod:`backproof.symbolic.identity_base`) carries
its statement, its chains, its wrong variants and its numeric checks. This module keeps the
catalogue: identities are added with :func:`register`, built once by :func:`identities`, in
the order of :data:`CATALOGUE`, and looked up by name with :func:`identity`. It also
re-exports the parts, so that ``from backproof.symbolic.engine import Chain`` keeps working.

How a verdict is reached: the engine decides nothing itself. Each step of a chain, with the
chain's definitions, stated assumptions, case split and cited rules, goes to the trusted core,
:func:`backproof.symbolic.core.check_step`, which alone says whether it follows (its module
docstring lists what it accepts). When it finds no proof of a step it asks the refuter,
:func:`~backproof.symbolic.refuter.refute`: symbolic sizes and indices are set to small
integers, undefined functions to random polynomials, every other symbol to a random rational,
and both sides are evaluated exactly (rational arithmetic, and interval arithmetic at 50 digits
for :math:`e^q` and :math:`\log q`) *before any simplification*; one point where the two sides
provably differ is a proof that the step is false. Wrong variants are settled the same way.
The site's chapter "Prove your own identity" (``docs/own_identity.md``) and the module
docstring of :mod:`backproof.symbolic` show how to add an identity.

Non-goals: a general theorem prover; deciding equalities SymPy cannot simplify.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from .chain import (
    DEFINITION,
    REWRITE,
    Chain,
    Step,
    Verdict,
    check_step,
    equal,
    nonnegative,
    refute,
)
from .core import Rule, StepVerdict
from .identity_base import (
    Check,
    Identity,
    Link,
    ProofResult,
    Variant,
)
from .refuter import REFUTATION, SHAPES, Counterexample

__all__ = [
    "CATALOGUE",
    "DEFINITION",
    "REFUTATION",
    "REWRITE",
    "SHAPES",
    "Chain",
    "Check",
    "Counterexample",
    "Identity",
    "Link",
    "ProofResult",
    "Rule",
    "Step",
    "StepVerdict",
    "Variant",
    "Verdict",
    "check_step",
    "equal",
    "identities",
    "identity",
    "nonnegative",
    "refute",
    "register",
]


# --------------------------------------------------------------------------- the registry

#: Modules whose import registers identities, in catalogue order. Another module can
#: register identities by calling :func:`register` at import and adding its name here
#: (or by being imported before :func:`identities` is first called).
CATALOGUE: list[str] = [
    "backproof.symbolic.softmax_identities",
    "backproof.symbolic.relu_identities",
    "backproof.symbolic.network_identities",
    "backproof.symbolic.layer_identities",
]

_FACTORIES: list[tuple[float, int, Callable[[], Identity]]] = []


def register(factory: Callable[[], Identity] | None = None, *, order: float | None = None):
    r"""Add an identity to the catalogue; usable as ``@register`` or ``@register(order=...)``.

    ``factory`` takes no argument and returns the :class:`Identity`; it is called once,
    the first time :func:`identities` is asked for. ``order`` places it in the catalogue
    (default: after everything registered so far). Names must be unique.
    """

    def add(f):
        key = order if order is not None else (max((o for o, _, _ in _FACTORIES), default=0) + 1)
        _FACTORIES.append((key, len(_FACTORIES), f))
        _BUILT.clear()
        return f

    return add(factory) if factory is not None else add


_BUILT: list[tuple[Identity, ...]] = []  # the catalogue once built; emptied by register


def identities() -> tuple[Identity, ...]:
    r"""All identities of the catalogue, numbered from 1 in order (built once, then cached)."""
    if not _BUILT:
        _BUILT.append(_build())
    return _BUILT[0]


def _build() -> tuple[Identity, ...]:
    for module in CATALOGUE:
        importlib.import_module(module)
    out = []
    for number, (_, _, f) in enumerate(sorted(_FACTORIES, key=lambda t: t[:2]), start=1):
        ident = f()
        ident.number = number
        out.append(ident)
    names = [x.name for x in out]
    dupes = {x for x in names if names.count(x) > 1}
    if dupes:
        raise ValueError(f"identity names registered twice: {sorted(dupes)}")
    return tuple(out)


def identity(name: str) -> Identity:
    r"""The identity called ``name`` (see :func:`identities`)."""
    for ident in identities():
        if ident.name == name:
            return ident
    names = ", ".join(x.name for x in identities())
    raise KeyError(f"no identity {name!r}; the identities are: {names}")
