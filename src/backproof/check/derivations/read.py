r"""Reading a learner's LaTeX into SymPy: one line of a derivation becomes a :class:`Val`.

The reader is a small recursive-descent parser written for the notation of the course, as
learners write it: ``g(a)_i``, ``g_i``, ``y_i``, ``p_i``, ``\mathrm{softmax}(a)_i``, ``\sigma(a)_i``
for the softmax; ``\exp``, ``e^{…}``, ``\mathrm{e}``; sums with or without limits; products
written with ``\times``, ``\cdot``, ``*``, juxtaposition or a bare ``x`` between fractions;
``\delta_{ij}``, ``[i = j]``, ``1_{i=j}``; derivatives ``\frac{\partial g_i}{\partial a_j}``,
``\partial g_i / \partial a_j``, ``\partial_{a_j}``, ``\nabla_y E``; vectors and matrices
(``g \odot e``, ``\langle g, e\rangle``, ``g^\top e``, ``J^T e``, ``\mathrm{diag}(g) - g g^T``).

Meaning: ``a``, ``e``, ``d`` are the logits, the upstream gradient and the targets; a softmax
name (``g``, ``y``, ``p``, ``\sigma``) stands for :math:`e^{a_i}/\sum_k e^{a_k}` unless the learner
defines it otherwise; ``E`` (or ``L``) is the cross-entropy :math:`-\sum_k d_k\log y_k`; ``J`` is the
softmax Jacobian. A line ``X_i = …`` whose left side is a new name defines it. Derivatives are
SymPy's, taken after unfolding every definition except the variable's own (the chain rule).
Sums bind fresh dummies, so a summation index never captures a free one.

Anything else raises :class:`NotRead` with the reason, which the report shows as "not read".

Non-goals: general LaTeX; units, text, tensors of order three; proofs by words.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp

from ._algebra import (
    NotRead,
    Val,
    _add,
    _component,
    _div,
    _inner,
    _mul,
    _power,
    _scale,
    _transpose,
    scalar,
)
from ._tokens import tokens

__all__ = ["Env", "NotRead", "Val", "read_line"]

N = sp.Symbol("n", integer=True, positive=True)
SOFTMAX_NAMES = ("g", "y", "p", "σ", "softmax")
LOSS_NAMES = ("E", "L")
VECTOR_NAMES = {"a", "e", "d", "g", "y", "p", "σ", "h", "x", "b", "δ", "z", "t", "v", "u"}
MATRIX_NAMES = {"J", "W"}
INDEX_LETTERS = set("ijklmqrstu")
_fresh = itertools.count(1)


def dummy(name: str = "k") -> sp.Symbol:
    r"""A fresh bound index (shown as ``k'``), never equal to a learner's free index."""
    return sp.Symbol(f"{name}'{next(_fresh)}", integer=True)


@dataclass
class Env:
    r"""What a derivation has declared: definitions, the class range, the softmax names."""

    lo: sp.Expr = sp.S.One
    hi: sp.Expr = N
    macros: dict[str, tuple[tuple[sp.Symbol, ...], sp.Expr]] = field(default_factory=dict)
    vector_macros: set[str] = field(default_factory=set)
    defined: set[str] = field(default_factory=set)  # by the learner, not by default

    def __post_init__(self):
        p = sp.Symbol("p'", integer=True)
        for name in SOFTMAX_NAMES:
            self.macros[name] = (
                (p,),
                sp.exp(self.base("a")[p]) / self.class_sum(lambda k: sp.exp(self.base("a")[k])),
            )
        y = self.base("y")
        for name in LOSS_NAMES:
            self.macros[name] = ((), -self.class_sum(lambda k: self.base("d")[k] * sp.log(y[k])))

    def class_sum(self, body: Callable[[sp.Symbol], sp.Expr]) -> sp.Expr:
        k = dummy()
        return sp.Sum(body(k), (k, self.lo, self.hi))

    @staticmethod
    def base(name: str) -> sp.IndexedBase:
        return sp.IndexedBase(name, real=True)  # every quantity of the course is real

    @staticmethod
    def index(name: str) -> sp.Symbol:
        return sp.Symbol(name, integer=True)

    def expand(self, expr: sp.Expr, keep: str | None = None) -> sp.Expr:
        r"""Unfold every definition in ``expr`` except ``keep``'s, until none is left."""
        for _ in range(12):
            rep = {}
            for x in expr.atoms(sp.Indexed):
                name = str(x.base.label)
                if name in self.macros and name != keep:
                    params, body = self.macros[name]
                    if len(params) == len(x.indices):
                        rep[x] = body.xreplace(dict(zip(params, x.indices)))
            for s in expr.free_symbols:
                name = str(s)
                if isinstance(s, sp.Symbol) and name in self.macros and name != keep:
                    params, body = self.macros[name]
                    if not params:
                        rep[s] = body
            if not rep:
                return expr
            expr = expr.xreplace(rep)
        raise NotRead("a definition refers to itself")


# ------------------------------------------------------------------- tokens to values

_MULT = {r"\cdot", r"\times", "*", r"\odot", r"\circ"}
_STOP = {"+", "-", ")", "]", "}", ",", "=", r"\rangle", "|", r"\neq", r"\ne", "<", ">", r"\leq", r"\geq"}


class _Parser:
    def __init__(self, toks: list[str], env: Env):
        self.t, self.p, self.env = toks, 0, env
        self.bound: list[dict[str, sp.Symbol]] = []
        self.clashes: list[str] = []  # summation indices that are also free indices of the line
        self.frees: set[str] = set()
        self.dens: list[sp.Expr] = []  # every denominator written: the line is defined only where none is 0

    # -- token helpers
    def peek(self, k: int = 0) -> str | None:
        return self.t[self.p + k] if self.p + k < len(self.t) else None

    def take(self, want: str | None = None) -> str:
        tok = self.peek()
        if tok is None or (want is not None and tok != want):
            raise NotRead(f"expected {want!r}" + (f" at {tok!r}" if tok else " at the end of the line"))
        self.p += 1
        return tok

    def group(self) -> list[str]:
        r"""The tokens of ``{…}`` or a single token, without evaluating them."""
        if self.peek() != "{":
            tok = self.take()
            if re.fullmatch(r"\d\d+", tok) and not self.t[self.p - 2 : self.p - 1] == ["_"]:
                self.t.insert(self.p, tok[1:])  # \frac12
                return [tok[0]]
            return [tok]
        self.take("{")
        depth, out = 1, list[str]()
        while True:
            tok = self.take()
            depth += tok == "{"
            depth -= tok == "}"
            if depth == 0:
                return out
            out.append(tok)

    def sub(self, toks: list[str]) -> Val:
        parser = _Parser(toks, self.env)
        parser.bound = self.bound
        value = parser.expr()
        if parser.peek() is not None:
            raise NotRead(f"cannot read {' '.join(toks)!r}")
        self.clashes += parser.clashes
        self.frees |= parser.frees
        self.dens += parser.dens
        return value

    def divide(self, u: Val, v: Val) -> Val:
        if v.kind == 0 and not self.bound:
            self.dens.append(v.expr)
        return _div(u, v)

    def idx(self, name: str) -> sp.Expr:
        for scope in reversed(self.bound):
            if name in scope:
                return scope[name]
        if name.isdigit():
            return sp.Integer(int(name))
        if name == "n":
            return N
        self.frees.add(name)
        return self.env.index(name)

    def indices(self, toks: list[str]) -> list[sp.Expr]:
        toks = [t for t in toks if t != ","]
        if all(re.fullmatch(r"[a-z]|\d+", t) for t in toks):
            return [self.idx(t) for t in toks]
        return [self.sub(toks).expr]

    # -- grammar
    def line(self) -> Val:
        value = self.expr()
        if self.peek() is not None:
            raise NotRead(f"unexpected {self.peek()!r}")
        return value

    def expr(self) -> Val:
        sign = 1
        while self.peek() in ("+", "-"):
            sign *= -1 if self.take() == "-" else 1
        value = self.term()
        if sign < 0:
            value = _scale(value, -1)
        while self.peek() in ("+", "-"):
            op = self.take()
            rhs = self.term()
            value = _add(value, rhs if op == "+" else _scale(rhs, -1))
        return value

    def starts_factor(self) -> bool:
        tok = self.peek()
        return tok is not None and tok not in _STOP and tok not in _MULT and tok not in ("/", "^", "_", "'")

    def term(self) -> Val:
        value = self.unary()
        while True:
            tok = self.peek()
            if tok in _MULT:
                self.take()
                value = _mul(value, self.unary(), tok, self.env)
            elif tok == "/":
                self.take()
                value = self.divide(value, self.unary())
            elif self.starts_factor():
                value = _mul(value, self.unary(), "", self.env)
            else:
                return value

    def unary(self) -> Val:
        if self.peek() == "-":
            self.take()
            return _scale(self.unary(), -1)
        if self.peek() == "+":
            self.take()
        return self.postfix(self.atom())

    def postfix(self, value: Val | str) -> Val:
        while True:
            tok = self.peek()
            if isinstance(value, str):  # a name waiting for its subscript
                value = self.name(value)
                continue
            if tok == "_":
                self.take()
                ix = self.indices(self.group())
                value = _component(value, ix)
            elif tok == "^":
                self.take()
                sup = self.group()
                if sup in (["T"], ["\\top"], ["\\intercal"], ["⊤"], ["t"]):
                    value = _transpose(value)
                else:
                    value = _power(value, self.sub(sup))
            else:
                return value

    def name(self, name: str) -> Val:
        r"""A letter and its subscript: g_i, a_{k}, δ_{ij}, J_{ij}, or a bare vector g."""
        env = self.env
        if self.peek() == "(" and name in SOFTMAX_NAMES:  # g(a), σ(a), softmax(a)
            self.take("(")
            arg = self.group_until(")")
            if arg not in (["a"], ["z"]):
                raise NotRead(f"the softmax of {' '.join(arg)!r}: only the logits a are read")
            return self.vector_of(name)
        if self.peek() != "_":
            if (
                name in VECTOR_NAMES
                or name in env.vector_macros
                or (name in env.macros and len(env.macros[name][0]) == 1)
            ):
                return self.vector_of(name)
            if name in MATRIX_NAMES:
                return self.matrix_of(name)
            if name in env.macros or name in LOSS_NAMES:
                return scalar(sp.Symbol(name))
            if name == "n":
                return scalar(N)
            return scalar(self.idx(name) if name in INDEX_LETTERS else sp.Symbol(name))
        self.take("_")
        toks = self.group()
        if toks[:1] == ["\\sum"]:
            raise NotRead("a subscript holding a sum")
        if "=" in toks:  # 1_{i=j}
            return self._iverson(toks, name)
        ix = self.indices(toks)
        if name == "δ" and len(ix) == 2 and len(env.macros.get("δ", ((), 0))[0]) != 2:
            return scalar(sp.KroneckerDelta(*ix))
        if name == "J" and len(ix) == 2 and "J" not in env.macros:
            return scalar(self.derivative(env.base("g")[ix[0]], env.base("a")[ix[1]]))
        return scalar(env.base(name)[tuple(ix)] if len(ix) > 1 else env.base(name)[ix[0]])

    def _iverson(self, toks: list[str], name: str) -> Val:
        if name != "1" or len(toks) != 3 or toks[1] != "=":
            raise NotRead(f"cannot read the subscript {''.join(toks)!r}")
        return scalar(sp.KroneckerDelta(self.idx(toks[0]), self.idx(toks[2])))

    def vector_of(self, name: str) -> Val:
        base = self.env.base(name)
        return Val(1, lambda i: base[i])

    def matrix_of(self, name: str) -> Val:
        if name == "J" and "J" not in self.env.macros:
            g, a = self.env.base("g"), self.env.base("a")
            return Val(2, lambda r, c: self.derivative(g[r], a[c]))
        base = self.env.base(name)
        return Val(2, lambda r, c: base[r, c])

    def group_until(self, close: str) -> list[str]:
        depth, out = 0, list[str]()
        while True:
            tok = self.take()
            if tok == close and depth == 0:
                return out
            depth += tok in ("(", "{", "[")
            depth -= tok in (")", "}", "]")
            out.append(tok)

    def atom(self) -> Val | str:
        tok = self.take()
        if re.fullmatch(r"\d+(\.\d+)?", tok):
            if tok == "1" and self.peek() == "_":
                return "1"
            return scalar(sp.Rational(tok))
        if tok in ("(", "[", "{"):
            close = {"(": ")", "[": "]", "{": "}"}[tok]
            inner = self.group_until(close)
            if tok == "[" and len(inner) == 3 and inner[1] == "=":  # Iverson bracket [i = j]
                return scalar(sp.KroneckerDelta(self.idx(inner[0]), self.idx(inner[2])))
            if tok == "(" and "," in inner:
                raise NotRead("a tuple or a function of several arguments")
            return self.sub(inner)
        if re.fullmatch(r"[A-Za-z]", tok) or tok in ("δ", "σ", "γ", "η", "α", "λ", "θ"):
            if tok == "e" and self.peek() == "^":
                self.take("^")
                return scalar(sp.exp(self.sub(self.group()).expr))
            if tok == "d" and self.peek() in ("E", "L", "g", "y") and self.peek(1) == "/":
                raise NotRead("a derivative written dE/dy inline: write \\partial E / \\partial y")
            return tok
        if tok == "\\softmax":
            return "softmax"
        if tok == "\\EULER":
            if self.peek() == "^":
                self.take("^")
                return scalar(sp.exp(self.sub(self.group()).expr))
            return scalar(sp.E)
        if tok == "\\frac":
            num, den = self.group(), self.group()
            if num[:1] == ["\\partial"] or (num[:1] == ["d"] and den[:1] == ["d"]):
                return self.fraction_derivative(num, den)
            return self.divide(self.sub(num), self.sub(den))
        if tok == "\\partial":
            return self.inline_derivative()
        if tok == "\\nabla":
            return self.nabla()
        if tok == "\\sum":
            return self.summation()
        if tok in ("\\exp", "\\log", "\\ln"):
            arg = self.unary() if self.peek() in ("(", "{") else self.postfix(self.atom())
            f = sp.exp if tok == "\\exp" else sp.log
            return scalar(f(arg.expr)) if arg.kind == 0 else Val(arg.kind, lambda *ix: f(arg.at(*ix)))
        if tok in ("\\relu", "\\max"):
            self.take("(")
            inner = self.group_until(")")
            if tok == "\\max":
                if inner[:2] != ["0", ","]:
                    raise NotRead("a max other than max(0, x)")
                inner = inner[2:]
            arg = self.sub(inner)
            return Val(arg.kind, lambda *ix: sp.Max(0, arg.at(*ix)))
        if tok == "\\diag":
            arg = self.postfix(self.atom())
            if arg.kind != 1:
                raise NotRead("diag of something that is not a vector")
            return Val(2, lambda r, c: sp.KroneckerDelta(r, c) * arg.at(r))
        if tok == "\\langle":
            inner = self.group_until("\\rangle")
            cut = _top_comma(inner)
            u, v = self.sub(inner[:cut]), self.sub(inner[cut + 1 :])
            return _inner(u, v, self.env)
        if tok in ("\\cdots", "\\vdots", "\\ddots", "\\ldots", "\\dots"):
            raise NotRead("a matrix or vector written out with dots: not checked entry by entry")
        if tok == "\\begin":
            raise NotRead("a matrix written out entry by entry: not checked entry by entry")
        raise NotRead(f"cannot read {tok!r}")

    def variable(self, toks: list[str]) -> Val:
        r"""The variable of a derivative: ``a_j``, ``a``, ``y_i``, ``W_{kj}``, ``h_j``."""
        value = self.sub(toks)
        if value.kind == 0 and not isinstance(value.expr, (sp.Indexed, sp.Symbol)):
            raise NotRead(f"a derivative with respect to {' '.join(toks)!r}")
        return value

    def fraction_derivative(self, num: list[str], den: list[str]) -> Val:
        num, den = num[1:], den[1:]
        if num[:1] == ["^"] or den[-2:-1] == ["^"]:
            raise NotRead("a second derivative")
        var = self.variable(den)
        if not num:  # \frac{\partial}{\partial a_j} (…): applies to the rest of the term
            body = self.term()
        else:
            body = self.sub(num)
        return self.apply_derivative(body, var)

    def inline_derivative(self) -> Val:
        if self.peek() == "_":  # \partial_{a_j} f
            self.take("_")
            var = self.variable(self.group())
            return self.apply_derivative(self.term(), var)
        start = self.p
        while self.peek() is not None and self.peek() != "/":
            self.p += 1
        body = self.sub(self.t[start : self.p])
        self.take("/")
        self.take("\\partial")
        var = self.postfix(self.atom())
        return self.apply_derivative(body, var)

    def nabla(self) -> Val:
        self.take("_")
        var = self.variable(self.group())
        body = self.postfix(self.atom())
        if var.kind != 1 or body.kind != 0:
            raise NotRead("a gradient of something that is not a number, or not with respect to a vector")
        return self.apply_derivative(body, var)

    def apply_derivative(self, body: Val, var: Val) -> Val:
        if var.kind == 0 and body.kind == 0:
            return scalar(self.derivative(body.expr, var.expr))
        if var.kind == 1 and body.kind == 0:
            return Val(1, lambda i: self.derivative(body.expr, var.at(i)))
        if var.kind == 0 and body.kind == 1:
            return Val(1, lambda i: self.derivative(body.at(i), var.expr))
        if var.kind == 1 and body.kind == 1:
            return Val(2, lambda r, c: self.derivative(body.at(r), var.at(c)))
        raise NotRead("a derivative of a matrix")

    def derivative(self, f: sp.Expr, v: sp.Expr) -> sp.Expr:
        keep = str(v.base.label) if isinstance(v, sp.Indexed) else str(v)
        return sp.diff(self.env.expand(f, keep=keep), v)

    def summation(self) -> Val:
        var, lo, hi = None, self.env.lo, self.env.hi
        if self.peek() == "_":
            self.take("_")
            low = self.group()
            if "=" in low:
                cut = low.index("=")
                var, lo = low[:cut], self.sub(low[cut + 1 :]).expr
            else:
                var = low
            if self.peek() == "^":
                self.take("^")
                hi = self.sub(self.group()).expr
        if var is None:
            raise NotRead("a sum without its index (write \\sum_k)")
        if len(var) != 1 or not re.fullmatch(r"[a-z]", var[0]):
            raise NotRead(f"a sum over {' '.join(var)!r}")
        name = var[0]
        k = dummy(name)
        mark = set(self.frees)
        self.bound.append({name: k})
        try:
            body = self.term()
        finally:
            self.bound.pop()
        if name in mark or name in self.frees:
            self.clashes.append(name)
        if body.kind == 0:
            return scalar(sp.Sum(body.expr, (k, lo, hi)))
        return Val(body.kind, lambda *ix: sp.Sum(body.at(*ix), (k, lo, hi)))


def _top_comma(toks: list[str]) -> int:
    depth = 0
    for n, tok in enumerate(toks):
        depth += tok in ("(", "{", "[", "\\langle")
        depth -= tok in (")", "}", "]", "\\rangle")
        if tok == "," and depth == 0:
            return n
    raise NotRead("an inner product ⟨u, v⟩ without its comma")


@dataclass
class Read:
    r"""One read line: its value, the free indices written, summation indices that clash."""

    value: Val
    frees: set[str]
    clashes: list[str]
    dens: list[sp.Expr] = field(default_factory=list)


def read_line(text: str, env: Env) -> Read:
    r"""Read one expression of a derivation; raises :class:`NotRead` with the reason."""
    toks = tokens(text)
    if not toks:
        raise NotRead("empty")
    parser = _Parser(toks, env)
    try:
        value = parser.line()
    except NotRead:
        raise
    except (RecursionError, IndexError):
        raise NotRead("nested too deeply or cut short") from None
    except (TypeError, ValueError, AttributeError, sp.SympifyError) as exc:
        raise NotRead(f"cannot make sense of it ({type(exc).__name__})") from None
    return Read(value, parser.frees, parser.clashes, parser.dens)
