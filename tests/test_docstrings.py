"""Docstrings show, under each identity they name, the formula SymPy proved, and nothing else.

``help(backproof.softmax_jvp)`` shows the statements; this test keeps each one equal to the
LaTeX of the statement the engine checked against its proof chain.
"""

import inspect

import pytest

import backproof
from backproof import symbolic as S

DERIVATIVES = ("softmax", "softmax_jvp", "relu_jvp", "cross_entropy_grad", "cross_entropy_from_logits")


def named_statements(obj) -> dict[str, list[str]]:
    """``{identity name: [the math lines after it]}`` from a docstring's ``:Identity:`` blocks."""
    out, current, pending = {}, None, False
    for line in (inspect.getdoc(obj) or "").splitlines():
        stripped = line.strip()
        if stripped.startswith(":Identity:"):
            current, pending = stripped.split(":", 2)[2].strip(), False
            out[current] = []
        elif current and stripped.startswith(".. math::"):
            content = stripped[len(".. math::") :].strip()
            pending = not content  # the formula is on the next line (a long one)
            if content:
                out[current].append(content)
        elif current and pending and stripped:
            out[current].append(stripped)
            pending = False
        elif current and stripped:
            current = None
    return out


def test_every_named_identity_exists():
    names = {ident.name for ident in S.identities()}
    for fn in backproof.__all__:
        assert set(named_statements(getattr(backproof, fn))) <= names, fn


@pytest.mark.parametrize("fn", DERIVATIVES)
def test_the_docstring_formula_is_the_statement_sympy_proved(fn):
    shown = named_statements(getattr(backproof, fn))
    assert shown, f"{fn} names no identity"
    for name, lines in shown.items():
        assert lines == S.identity(name).statement_latex(), f"{fn}: {name}"


def test_every_identity_of_these_functions_is_shown_in_their_docstring():
    for ident in S.identities():
        if ident.implements in DERIVATIVES:
            assert ident.name in named_statements(getattr(backproof, ident.implements)), ident.name


def test_a_changed_docstring_formula_would_be_caught():
    class Fake:
        """Fake.

        :Identity: softmax_jvp_is_g_times_e_minus_inner_product

        .. math:: J^{\\top} e = g \\odot e + \\left\\langle g, e \\right\\rangle g
        """

    lines = named_statements(Fake)["softmax_jvp_is_g_times_e_minus_inner_product"]
    assert lines != S.identity("softmax_jvp_is_g_times_e_minus_inner_product").statement_latex()
