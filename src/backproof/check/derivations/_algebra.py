r"""Values read from a line: numbers, vectors and matrices by their entries, and their algebra.

Non-goals: tensors of order three; symbolic shapes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sympy as sp

__all__ = ["NotRead", "Val", "scalar"]


class NotRead(Exception):  # noqa: N818 - a reason, shown to the learner as "not read: ..."
    r"""A line the reader cannot read; ``str(exc)`` says why, in one line."""


@dataclass
class Val:
    r"""A read expression: a scalar (kind 0), column (1), row (-1) or matrix (2), by its entries."""

    kind: int
    at: Callable[..., sp.Expr]  # indices -> the entry (no index for a scalar)

    @property
    def expr(self) -> sp.Expr:
        if self.kind != 0:
            raise NotRead("a vector or matrix where a number was expected")
        return self.at()


def scalar(x) -> Val:
    x = sp.sympify(x)
    return Val(0, lambda: x)


def _scale(v: Val, c) -> Val:
    if v.kind == 0:
        x = v.expr * c
        return scalar(x)
    return Val(v.kind, lambda *ix: c * v.at(*ix))


def _add(u: Val, v: Val) -> Val:
    if u.kind != v.kind:
        raise NotRead("adds a number and a vector (or a vector and a matrix)")
    if u.kind == 0:
        return scalar(u.expr + v.expr)
    return Val(u.kind, lambda *ix: u.at(*ix) + v.at(*ix))


def _inner(u: Val, v: Val, env: Any) -> Val:
    if u.kind not in (1, -1) or v.kind not in (1, -1):
        raise NotRead("an inner product of things that are not vectors")
    return scalar(env.class_sum(lambda k: u.at(k) * v.at(k)))


def _mul(u: Val, v: Val, op: str, env: Any) -> Val:
    if u.kind == 0:
        return _scale(v, u.expr)
    if v.kind == 0:
        return _scale(u, v.expr)
    if op in (r"\odot", r"\circ"):
        if u.kind != v.kind:
            raise NotRead("⊙ between a vector and a matrix")
        return Val(u.kind, lambda *ix: u.at(*ix) * v.at(*ix))
    if op == r"\times":
        raise NotRead("× between two vectors")
    if u.kind == 1 and v.kind == 1:
        if op == r"\cdot":
            return _inner(u, v, env)
        raise NotRead("two column vectors side by side (did you mean ⊙, or a transpose?)")
    if u.kind == -1 and v.kind == 1:
        return _inner(u, v, env)
    if u.kind == 1 and v.kind == -1:
        return Val(2, lambda r, c: u.at(r) * v.at(c))
    if u.kind == 2 and v.kind == 1:
        return Val(1, lambda r: _sum_k(env, lambda k: u.at(r, k) * v.at(k)))
    if u.kind == -1 and v.kind == 2:
        return Val(-1, lambda c: _sum_k(env, lambda k: u.at(k) * v.at(k, c)))
    if u.kind == 2 and v.kind == 2:
        return Val(2, lambda r, c: _sum_k(env, lambda k: u.at(r, k) * v.at(k, c)))
    raise NotRead("a product of a vector and a matrix in this order")


def _sum_k(env: Any, body: Callable[[sp.Symbol], sp.Expr]) -> sp.Expr:
    return env.class_sum(body)


def _div(u: Val, v: Val) -> Val:
    if v.kind == 0:
        den = v.expr
        return _scale(u, 1 / den) if u.kind else scalar(u.expr / den)
    if u.kind == v.kind == 1:
        return Val(1, lambda i: u.at(i) / v.at(i))
    raise NotRead("a division by a vector or a matrix")


def _power(u: Val, v: Val) -> Val:
    if u.kind != 0 or v.kind != 0:
        raise NotRead("a power of a vector (write it with ⊙)")
    return scalar(u.expr**v.expr)


def _transpose(u: Val) -> Val:
    if u.kind == 0:
        return u
    if u.kind == 2:
        return Val(2, lambda r, c: u.at(c, r))
    return Val(-u.kind, u.at)


def _component(u: Val, ix: list[sp.Expr]) -> Val:
    if u.kind in (1, -1) and len(ix) == 1:
        return scalar(u.at(ix[0]))
    if u.kind == 2 and len(ix) == 2:
        return scalar(u.at(*ix))
    raise NotRead("a subscript that does not fit: an entry of a number, or one index on a matrix")
