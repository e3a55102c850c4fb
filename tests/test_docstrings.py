"""Docstrings name the identities that prove them, so the formula shown comes from SymPy."""

import inspect

import backproof
from backproof import symbolic as S


def named_identities(obj) -> list[str]:
    doc = inspect.getdoc(obj) or ""
    return [
        line.split(":", 2)[2].strip() for line in doc.splitlines() if line.strip().startswith(":Identity:")
    ]


def test_every_identity_is_named_by_the_docstring_of_the_function_it_checks():
    names = {ident.name for ident in S.identities()}
    cited = {name for fn in backproof.__all__ for name in named_identities(getattr(backproof, fn))}
    assert cited <= names  # no docstring names an identity that does not exist
    for ident in S.identities():
        fn = getattr(backproof, ident.numeric_function)
        assert named_identities(fn), f"{ident.numeric_function} names no identity"


def test_docstrings_of_the_derivatives_carry_no_hand_typed_formula_of_a_proved_identity():
    """softmax_jvp, relu_jvp, cross_entropy_grad show the formula SymPy proved, inserted by the docs."""
    for fn in (backproof.softmax_jvp, backproof.relu_jvp, backproof.cross_entropy_grad):
        doc = inspect.getdoc(fn)
        assert ".. math::" not in doc and named_identities(fn), fn.__name__
