r"""SymPy proofs of every identity that backprop through the shallow network rests on.

Each :class:`Identity` holds a name, its statement, its assumptions, and one or more
:class:`Chain` proofs: a list of SymPy expressions in which every step is checked
equal to the next (``simplify(a - b) == 0`` after substituting the definitions and
the assumptions; never a comparison of strings). The LaTeX of every step is made
from the same objects, so what the site shows is what was checked. The numeric
side, comparing these expressions with the NumPy code, is :mod:`backproof.verify`.

The identities, for the softmax :math:`g`, its Jacobian :math:`J`, the loss
:math:`E = -\sum_i d_i \log y_i` and the shallow network:

1. :math:`\partial g_i/\partial a_i = g_i(1-g_i)`;
2. :math:`\partial g_i/\partial a_j = -g_i g_j` for :math:`i \ne j`;
3. :math:`J = \operatorname{diag}(g) - g g^\top`, and :math:`J = J^\top`;
4. :math:`J^\top e = g \odot e - \langle g, e\rangle g`;
5. :math:`\nabla_y E = -d / y`;
6. :math:`J^\top(-d/y) = y - d` when :math:`\sum_i d_i = 1` (and not otherwise);
7. :math:`\operatorname{relu}'(a) = H(a)` with :math:`H(0) = 0`;
8. backprop's :math:`\nabla_{W_1}, \nabla_{b_1}, \nabla_{W_2}, \nabla_{b_2}` equal SymPy's
   derivatives of the summed loss of a network with 4 inputs, 3 hidden units,
   3 classes and a batch of 2, on every linear region of the ReLU;
9. the gradient of the mean loss is the summed gradient divided by :math:`N`.

1-6 are proved for general :math:`n` (an index :math:`i \le n = i + m` with
:math:`m \ge 0`, or the sum of the other terms as one positive symbol :math:`R`)
and again explicitly for :math:`n = 10`.

Non-goals: a general theorem prover; identities the course does not use.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sympy as sp
from sympy.printing.latex import LatexPrinter

__all__ = [
    "Chain",
    "Identity",
    "ProofResult",
    "Step",
    "equal",
    "identities",
    "identity",
    "softmax_vector",
]

N_EXPLICIT = 10  # the number of classes of the course: 1-6 are also proved at this size


# --------------------------------------------------------------------------- machinery


@dataclass(frozen=True)
class Step:
    r"""One expression of a chain, and why it equals the one before it."""

    expr: sp.Basic
    why: str = ""


@dataclass
class Chain:
    r"""A proof: ``steps[0] = steps[1] = ... = steps[-1]``, each equality checked by SymPy.

    Attributes
    ----------
    title : str
        What this chain proves (for example "general n" or "$n = 10$").
    steps : list of Step
    definitions : dict
        Symbols shown in the LaTeX (such as :math:`g_i`) and what they stand for;
        substituted before each comparison.
    assumptions : dict
        Substitutions that express an assumption (such as :math:`d_n = 1 - \sum_{k<n} d_k`);
        applied to both sides of every step whose ``why`` mentions "assumption".
    show_latex : bool
        Whether the steps are small enough to print (matrices of n = 10 are not).
    cases : list of dict
        When given, every step is checked once per case, each a substitution that
        covers part of the domain (such as ``j = i`` and ``j != i``); together they
        must cover all of it.
    """

    title: str
    steps: list[Step]
    definitions: dict = field(default_factory=dict)
    assumptions: dict = field(default_factory=dict)
    show_latex: bool = True
    cases: list[dict] = field(default_factory=list)

    def check(self) -> list[bool]:
        """Whether each step equals the next, in order (one entry per ``=``)."""
        results = []
        for before, after in zip(self.steps, self.steps[1:]):
            uses = "assumption" in after.why
            ok = all(
                equal(before.expr, after.expr, self.definitions, self.assumptions if uses else None, case)
                for case in (self.cases or [None])
            )
            results.append(ok)
        return results

    def latex(self) -> list[str]:
        """The LaTeX of every step, made by SymPy from the expressions that were checked."""
        return [to_latex(step.expr) for step in self.steps]


def equal(
    a, b, definitions: dict | None = None, assumptions: dict | None = None, case: dict | None = None
) -> bool:
    r"""Whether SymPy proves ``a == b``: ``simplify(a - b) == 0``, entry by entry for matrices.

    ``assumptions`` (substitutions that encode a hypothesis) are applied first, then
    ``definitions`` (symbols shown on the site and what they stand for), then
    derivatives and sums are evaluated, and last the substitution ``case``. Where
    ``simplify`` leaves something, the difference must still pass ``.equals(0)``.
    """
    sides = []
    for expr in (a, b):
        expr = sp.sympify(expr)
        if assumptions:
            expr = expr.subs(assumptions)
        for _ in range(4):  # definitions may refer to one another
            if not definitions:
                break
            expanded = expr.xreplace(definitions)
            if expanded == expr:
                break
            expr = expanded
        expr = expr.doit()
        if case:
            expr = expr.subs(case).doit()
        sides.append(expr)
    lhs, rhs = (x if isinstance(x, sp.MatrixBase) else sp.Matrix([x]) for x in sides)
    if lhs.shape != rhs.shape:
        return False
    for x, y in zip(lhs, rhs):
        diff = x - y
        if diff == 0:
            continue
        if not diff.has(sp.Piecewise, sp.Heaviside, sp.Max):
            diff = sp.cancel(sp.together(diff))
        reduced = sp.simplify(diff)
        if reduced != 0 and reduced.equals(0) is not True:
            return False
    return True


@dataclass
class ProofResult:
    r"""The outcome of checking every chain of an identity."""

    name: str
    proved: bool
    seconds: float
    chains: dict[str, list[bool]]
    necessity: bool | None = None


@dataclass
class Identity:
    r"""A named identity with its statement, assumptions and proofs.

    Attributes
    ----------
    number : int
        Its place in the list of the module docstring.
    name : str
        The identifier used by tests, the CLI and the site.
    title : str
        One line in words.
    statement : sympy.Eq
        The identity itself, in the notation of the site.
    assumptions : list of str
        In words, what must hold.
    chains : list of Chain
        Proofs; the identity is proved when every step of every chain is.
    necessity : Callable, optional
        For an identity with an assumption: returns ``True`` when SymPy shows that
        the statement fails without it (a counterexample).
    numeric_function : str
        The NumPy function of backproof that implements it.
    """

    number: int
    name: str
    title: str
    statement: sp.Basic
    assumptions: list[str]
    chains: list[Chain]
    numeric_function: str
    necessity: Callable[[], bool] | None = None

    def prove(self) -> ProofResult:
        """Check every chain (and the necessity of the assumption), timing it; cached per identity."""
        return _prove(self)

    def _prove_uncached(self) -> ProofResult:
        start = time.perf_counter()
        chains = {c.title: c.check() for c in self.chains}
        necessary = self.necessity() if self.necessity else None
        proved = all(all(v) and v for v in chains.values()) and necessary is not False
        return ProofResult(self.name, proved, time.perf_counter() - start, chains, necessary)

    def __hash__(self) -> int:
        return hash(self.name)

    def statement_latex(self) -> list[str]:
        """The statement's LaTeX, one string per equation."""
        eqs = self.statement.args if isinstance(self.statement, sp.Tuple) else (self.statement,)
        return [to_latex(eq) for eq in eqs]


@functools.cache
def _prove(ident: Identity) -> ProofResult:
    return ident._prove_uncached()


# --------------------------------------------------------------------------- notation


class _Printer(LatexPrinter):
    """SymPy's LaTeX, with partial derivatives written as fractions and Heaviside as H."""

    def _print_Derivative(self, expr):
        f, (x, count) = expr.expr, expr.variable_count[0]
        if len(expr.variable_count) == 1 and count == 1 and isinstance(f, (sp.Symbol, sp.Indexed)):
            return rf"\frac{{\partial {self._print(f)}}}{{\partial {self._print(x)}}}"
        return super()._print_Derivative(expr)

    def _print_Heaviside(self, expr):
        return rf"H\left({self._print(expr.args[0])}\right)"


def to_latex(expr) -> str:
    r"""LaTeX of a SymPy expression as the site shows it (terms kept in the order written)."""
    return _Printer({"order": "none"}).doprint(expr)


# Display-only heads for the statements, each printed as the course writes it. A statement
# names the identity on the site; what SymPy checks is the chains of explicit expressions.


class Diag(sp.Function):
    r""":math:`\operatorname{diag}(g)`."""

    def _latex(self, printer):
        return rf"\operatorname{{diag}}\left({printer._print(self.args[0])}\right)"


class Inner(sp.Function):
    r""":math:`\langle u, v \rangle`."""

    def _latex(self, printer):
        u, v = (printer._print(x) for x in self.args)
        return rf"\left\langle {u}, {v} \right\rangle"


class Had(sp.Function):
    r"""Elementwise product :math:`u \odot v`."""

    def _latex(self, printer):
        u, v = (
            rf"\left({printer._print(x)}\right)" if isinstance(x, (sp.Add, sp.Mul)) else printer._print(x)
            for x in self.args
        )
        return rf"{u} \odot {v}"


class EDiv(sp.Function):
    r"""Elementwise quotient :math:`u / v`."""

    def _latex(self, printer):
        u, v = (printer._print(x) for x in self.args)
        if self.args[0].could_extract_minus_sign():
            return rf"\left({u} / {v}\right)"
        return rf"{u} / {v}"


class Relu(sp.Function):
    r""":math:`\operatorname{relu}(a)`."""

    def _latex(self, printer):
        return rf"\operatorname{{relu}}\left({printer._print(self.args[0])}\right)"


class Step0(sp.Function):
    r"""The Heaviside step with :math:`H(0) = 0`."""

    def _latex(self, printer):
        return rf"H\left({printer._print(self.args[0])}\right)"


def _nc(*names):
    """Non-commuting display symbols for vectors and matrices in the statements."""
    out = tuple(sp.Symbol(x, commutative=False) for x in names)
    return out if len(out) > 1 else out[0]


# --------------------------------------------------------------------------- softmax

i = sp.Symbol("i", integer=True, positive=True)
j = sp.Symbol("j", integer=True, positive=True)
k = sp.Symbol("k", integer=True, positive=True)
m = sp.Symbol("m", integer=True, nonnegative=True)
n = sp.Symbol("n", integer=True, positive=True)
a_i, a_j = sp.symbols("a_i a_j", real=True)
R = sp.Symbol("R", positive=True)  # the sum of e^{a_k} over the other k
g_i, g_j = sp.symbols("g_i g_j", positive=True)
gI = sp.IndexedBase("g", positive=True)
eI = sp.IndexedBase("e", real=True)
dI = sp.IndexedBase("d", real=True)
yI = sp.IndexedBase("y", positive=True)
JI = sp.IndexedBase("J")
GENERAL_N = {n: i + m}  # "n >= i": every sum over 1..n contains the term i


def softmax_vector(a: sp.Matrix) -> sp.Matrix:
    r"""The softmax of a column of SymPy expressions: :math:`e^{a_i} / \sum_j e^{a_j}`."""
    total = sum(sp.exp(x) for x in a)
    return sp.Matrix([sp.exp(x) / total for x in a])


def _explicit(size: int = N_EXPLICIT):
    a = sp.Matrix(sp.symbols(f"a_1:{size + 1}", real=True))
    e = sp.Matrix(sp.symbols(f"e_1:{size + 1}", real=True))
    d = sp.Matrix(sp.symbols(f"d_1:{size + 1}", real=True))
    return a, e, d, softmax_vector(a)


def _diag_derivative() -> Identity:
    S = sp.exp(a_i) + R
    g_def = sp.exp(a_i) / S
    general = Chain(
        "general $n$ ($R$ is the sum of $e^{a_k}$ over $k \\ne i$, which does not depend on $a_i$)",
        [
            Step(sp.Derivative(g_i, a_i)),
            Step(sp.Derivative(g_def, a_i), "definition of $g_i$"),
            Step(sp.exp(a_i) * R / S**2, "quotient rule"),
            Step(sp.Mul(g_def, R / S, evaluate=False), "factor"),
            Step(sp.Mul(g_def, 1 - g_def, evaluate=False), "$R / S = 1 - e^{a_i} / S$"),
            Step(g_i * (1 - g_i), "definition of $g_i$"),
        ],
        definitions={g_i: g_def},
    )
    a, _, _, g = _explicit()
    J = g.jacobian(a)
    explicit = Chain(
        "$n = 10$, every $i$",
        [
            Step(sp.Matrix([J[r, r] for r in range(N_EXPLICIT)])),
            Step(sp.Matrix([g[r] * (1 - g[r]) for r in range(N_EXPLICIT)]), "SymPy's Jacobian"),
        ],
        show_latex=False,
    )
    return Identity(
        1,
        "softmax_derivative_diagonal",
        "The derivative of a softmax output with respect to its own logit",
        sp.Eq(sp.Derivative(g_i, a_i), g_i * (1 - g_i)),
        [],
        [general, explicit],
        "softmax_jvp",
    )


def _offdiag_derivative() -> Identity:
    S = sp.exp(a_i) + sp.exp(a_j) + R
    gi_def, gj_def = sp.exp(a_i) / S, sp.exp(a_j) / S
    general = Chain(
        "general $n$ ($R$ is the sum of $e^{a_k}$ over $k \\ne i, j$)",
        [
            Step(sp.Derivative(g_i, a_j)),
            Step(sp.Derivative(gi_def, a_j), "definition of $g_i$"),
            Step(-sp.exp(a_i) * sp.exp(a_j) / S**2, "quotient rule; $e^{a_i}$ does not depend on $a_j$"),
            Step(sp.Mul(-1, gi_def, gj_def, evaluate=False), "split the fraction"),
            Step(-g_i * g_j, "definition of $g_i$ and $g_j$"),
        ],
        definitions={g_i: gi_def, g_j: gj_def},
    )
    a, _, _, g = _explicit()
    J = g.jacobian(a)
    pairs = [(r, c) for r in range(N_EXPLICIT) for c in range(N_EXPLICIT) if r != c]
    explicit = Chain(
        "$n = 10$, every $i \\ne j$",
        [
            Step(sp.Matrix([J[r, c] for r, c in pairs])),
            Step(sp.Matrix([-g[r] * g[c] for r, c in pairs]), "SymPy's Jacobian"),
        ],
        show_latex=False,
    )
    return Identity(
        2,
        "softmax_derivative_off_diagonal",
        "The derivative of a softmax output with respect to another logit",
        sp.Eq(sp.Derivative(g_i, a_j), -g_i * g_j),
        ["$i \\ne j$"],
        [general, explicit],
        "softmax_jvp",
    )


def _jacobian_symmetric() -> Identity:
    entry = gI[i] * sp.KroneckerDelta(i, j) - gI[i] * gI[j]
    swapped = gI[j] * sp.KroneckerDelta(j, i) - gI[j] * gI[i]
    general = Chain(
        "general $n$, entry $(i, j)$",
        [
            Step(JI[i, j]),
            Step(entry, "identities 1 and 2, joined by the Kronecker delta"),
            Step(swapped, "$\\delta_{ij} = \\delta_{ji}$ and $g_i g_j = g_j g_i$"),
            Step(JI[j, i], "identities 1 and 2 for entry $(j, i)$"),
        ],
        definitions={JI[i, j]: entry, JI[j, i]: swapped},
        cases=[{j: i}, {sp.KroneckerDelta(i, j): 0, sp.KroneckerDelta(j, i): 0}],
    )
    a3 = sp.Matrix(sp.symbols("a_1:4", real=True))
    g3 = softmax_vector(a3)
    G3 = sp.Matrix(sp.symbols("g_1:4", positive=True))
    defs3 = dict(zip(G3, g3))
    J3 = sp.Matrix(3, 3, lambda r, c: G3[r] * (1 - G3[r]) if r == c else -G3[r] * G3[c])
    dg_da = sp.Symbol(r"\frac{\partial g}{\partial a}")
    small = Chain(
        "$n = 3$, written out",
        [
            Step(dg_da),
            Step(J3, "identities 1 and 2"),
            Step(sp.diag(*G3) - G3 * G3.T, "collect"),
            Step((sp.diag(*G3) - G3 * G3.T).T, "it is its own transpose"),
        ],
        definitions={**defs3, dg_da: g3.jacobian(a3)},
    )
    a, _, _, g = _explicit()
    J = g.jacobian(a)
    explicit = Chain(
        "$n = 10$",
        [Step(J), Step(sp.diag(*g) - g * g.T, "SymPy's Jacobian"), Step(J.T, "transpose")],
        show_latex=False,
    )
    Jm, JT, gv, gT = _nc("J", r"J^{\top}", "g", r"g^{\top}")
    return Identity(
        3,
        "softmax_jacobian_is_symmetric",
        "The softmax Jacobian is diag(g) − g gᵀ, a symmetric matrix",
        sp.Tuple(
            sp.Eq(Jm, sp.Add(Diag(gv), -gv * gT, evaluate=False), evaluate=False),
            sp.Eq(JT, Jm, evaluate=False),
        ),
        [],
        [general, small, explicit],
        "softmax_jvp",
    )


def _jvp() -> Identity:
    jt_e = sp.Symbol(r"\left(J^{\top} e\right)_{i}")
    entry = gI[j] * sp.KroneckerDelta(j, i) - gI[j] * gI[i]
    general = Chain(
        "general $n$, component $i$",
        [
            Step(jt_e),
            Step(sp.Sum(JI[j, i] * eI[j], (j, 1, n)), "definition of the matrix product"),
            Step(sp.Sum(entry * eI[j], (j, 1, n)), "identity 3"),
            Step(gI[i] * eI[i] - gI[i] * sp.Sum(gI[j] * eI[j], (j, 1, n)), "the delta keeps $j = i$"),
        ],
        definitions={jt_e: sp.Sum(entry * eI[j], (j, 1, n)), JI[j, i]: entry, **GENERAL_N},
    )
    a, e, _, g = _explicit()
    J = g.jacobian(a)
    explicit = Chain(
        "$n = 10$",
        [
            Step(J.T * e),
            Step(g.multiply_elementwise(e) - (g.T * e)[0] * g, "SymPy's Jacobian, multiplied out"),
        ],
        show_latex=False,
    )
    JT, gv, ev = _nc(r"J^{\top}", "g", "e")
    return Identity(
        4,
        "softmax_jvp_is_g_times_e_minus_inner_product",
        "The backward step through the softmax, without building J",
        sp.Eq(JT * ev, sp.Add(Had(gv, ev), -Inner(gv, ev) * gv, evaluate=False), evaluate=False),
        [],
        [general, explicit],
        "softmax_jvp",
    )


def _loss_gradient() -> Identity:
    E = sp.Symbol("E")
    E_def = -sp.Sum(dI[k] * sp.log(yI[k]), (k, 1, n))
    general = Chain(
        "general $n$, component $i$",
        [
            Step(sp.Derivative(E, yI[i])),
            Step(sp.Derivative(E_def, yI[i]), "definition of $E$"),
            Step(-sp.Sum(dI[k] * sp.KroneckerDelta(i, k) / yI[k], (k, 1, n)), "differentiate each term"),
            Step(-dI[i] / yI[i], "the delta keeps $k = i$"),
        ],
        definitions={E: E_def, **GENERAL_N},
    )
    ys = sp.Matrix(sp.symbols(f"y_1:{N_EXPLICIT + 1}", positive=True))
    _, _, d, _ = _explicit()
    E10 = -sum(d[r] * sp.log(ys[r]) for r in range(N_EXPLICIT))
    explicit = Chain(
        "$n = 10$",
        [
            Step(sp.Matrix([E10]).jacobian(ys).T),
            Step(sp.Matrix([-d[r] / ys[r] for r in range(N_EXPLICIT)]), "SymPy's gradient"),
        ],
        show_latex=False,
    )
    yv, dv, grad = _nc("y", "d", r"\nabla_{y} E")
    return Identity(
        5,
        "cross_entropy_gradient_is_minus_d_over_y",
        "The gradient of the cross-entropy with respect to the prediction",
        sp.Eq(grad, -EDiv(dv, yv), evaluate=False),
        ["$y_i > 0$"],
        [general, explicit],
        "cross_entropy_grad",
    )


def _fused() -> Identity:
    comp = sp.Symbol(r"\left(J^{\top} (-d / y)\right)_{i}")
    total = sp.Sum(dI[j], (j, 1, n))
    general = Chain(
        "general $n$, component $i$, with $y = g(a)$",
        [
            Step(comp),
            Step(
                sp.Mul(gI[i], -dI[i] / gI[i], evaluate=False)
                - gI[i] * sp.Sum(sp.Mul(gI[j], -dI[j] / gI[j], evaluate=False), (j, 1, n)),
                "identity 4 with $e = -d / y$ and $y = g$",
            ),
            Step(-dI[i] + gI[i] * total, "cancel $g_i$ and $g_j$"),
            Step(gI[i] - dI[i], "assumption: the $d_j$ sum to 1"),
        ],
        definitions={
            comp: gI[i] * (-dI[i] / gI[i]) - gI[i] * sp.Sum(gI[j] * (-dI[j] / gI[j]), (j, 1, n)),
            **GENERAL_N,
        },
        assumptions={total: 1},
    )
    a, _, d, g = _explicit()
    J = g.jacobian(a)
    last = {d[-1]: 1 - sum(d[:-1])}
    explicit = Chain(
        "$n = 10$",
        [
            Step(J.T * (-d).multiply_elementwise(g.applyfunc(lambda v: 1 / v))),
            Step(g - d, "assumption: $d_{10} = 1 - (d_1 + \\dots + d_9)$"),
        ],
        assumptions=last,
        show_latex=False,
    )

    def needed() -> bool:
        """Without the assumption, n = 3 and d = (2, 0, 0) is a counterexample."""
        a3, _, _, g3 = _explicit(3)
        d3 = sp.Matrix([2, 0, 0])
        lhs = g3.jacobian(a3).T * (-d3).multiply_elementwise(g3.applyfunc(lambda v: 1 / v))
        return not equal(lhs, g3 - d3)

    JT, yv, dv = _nc(r"J^{\top}", "y", "d")
    return Identity(
        6,
        "fused_softmax_cross_entropy_gradient_is_y_minus_d",
        "Softmax and cross-entropy together: the fused gradient y − d",
        sp.Eq(JT * EDiv(-dv, yv), sp.Add(yv, -dv, evaluate=False), evaluate=False),
        ["$y = g(a)$", "the targets sum to 1, $\\sum_i d_i = 1$ (one-hot targets do)"],
        [general, explicit],
        "backprop",
        necessity=needed,
    )


# --------------------------------------------------------------------------- ReLU


def _relu() -> Identity:
    a = sp.Symbol("a", real=True)
    piece = sp.Piecewise((a, a > 0), (0, True))
    step = sp.Piecewise((1, a > 0), (0, True))
    a_pos, a_neg = sp.Symbol("a", positive=True), sp.Symbol("a", negative=True)
    where_exists = Chain(
        "where the derivative exists, $a \\ne 0$ (checked for $a > 0$ and for $a < 0$)",
        [
            Step(sp.Derivative(Relu(a), a)),
            Step(sp.Derivative(piece, a), "$\\operatorname{relu}(a) = a$ for $a > 0$, else 0"),
            Step(step, "differentiate each piece"),
            Step(Step0(a), "the Heaviside step"),
        ],
        definitions={Relu(a): sp.Max(a, 0), Step0(a): sp.Heaviside(a, 0)},
        cases=[{a: a_pos}, {a: a_neg}],
    )
    at_kink = Chain(
        "at the kink $a = 0$, where relu has no derivative: the convention",
        [Step(Step0(0)), Step(sp.Integer(0), "backproof's $H(0) = 0$, as the course's relup and PyTorch")],
        definitions={Step0(0): sp.Heaviside(0, 0)},
    )
    chains = [where_exists, at_kink]
    return Identity(
        7,
        "relu_derivative_is_heaviside_zero_at_kink",
        "ReLU's derivative is the Heaviside step, taken as 0 at the kink",
        sp.Eq(sp.Derivative(Relu(a), a), Step0(a), evaluate=False),
        ["at $a = 0$ ReLU has no derivative: backproof, like the course and PyTorch, uses 0"],
        chains,
        "relu_jvp",
    )


# --------------------------------------------------------------------------- the network

TINY = {"Ni": 4, "Nh": 3, "No": 3, "N": 2}
TINY_LABELS = (0, 2)


def _matrix(name, rows, cols):
    return sp.Matrix(rows, cols, lambda r, c: sp.Symbol(f"{name}_{r + 1}{c + 1}", real=True))


@functools.lru_cache(maxsize=1)
def tiny_network() -> dict:
    r"""SymPy's tiny shallow network (4 → 3 → 3, batch 2): symbols, loss and both gradients.

    Returns a dict with the parameter matrices ``W1, b1, W2, b2``, the inputs ``x``,
    the activation pattern ``M`` (symbols standing for :math:`[a_1 > 0]`, constant on
    each linear region of the ReLU), the targets ``d``, the summed loss ``E`` with
    :math:`h = M \odot a_1` and ``E_relu`` with :math:`h = \max(a_1, 0)`, SymPy's
    gradients of ``E`` (``sympy``) and backprop's formulas (``backprop``).
    """
    Ni, Nh, No, N = TINY["Ni"], TINY["Nh"], TINY["No"], TINY["N"]
    W1, W2 = _matrix("w1", Nh, Ni), _matrix("w2", No, Nh)
    b1 = sp.Matrix([sp.Symbol(f"b1_{r + 1}", real=True) for r in range(Nh)])
    b2 = sp.Matrix([sp.Symbol(f"b2_{r + 1}", real=True) for r in range(No)])
    x, M = _matrix("x", Ni, N), _matrix("m", Nh, N)
    d = sp.Matrix(No, N, lambda r, c: 1 if TINY_LABELS[c] == r else 0)
    ones = sp.ones(1, N)

    def loss(h_of):
        a1 = W1 * x + b1 * ones
        h = h_of(a1)
        a2 = W2 * h + b2 * ones
        E = 0
        for c in range(N):
            lse = sp.log(sum(sp.exp(a2[r, c]) for r in range(No)))
            E += -sum(d[r, c] * (a2[r, c] - lse) for r in range(No))
        return E, a1, h, a2

    E, _, h, a2 = loss(lambda a1: M.multiply_elementwise(a1))
    E_relu, *_ = loss(lambda a1: a1.applyfunc(lambda v: sp.Max(v, 0)))
    y = sp.Matrix.hstack(*[softmax_vector(a2[:, c]) for c in range(N)])
    delta2 = y - d
    delta1 = M.multiply_elementwise(W2.T * delta2)
    params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
    backprop = {
        "W1": delta1 * x.T,
        "b1": delta1 * sp.ones(N, 1),
        "W2": delta2 * h.T,
        "b2": delta2 * sp.ones(N, 1),
    }
    sympy_grads = {k: P.applyfunc(lambda p, E=E: sp.diff(E, p)) for k, P in params.items()}
    relu_grads = {k: P.applyfunc(lambda p: sp.diff(E_relu, p)) for k, P in params.items()}
    return dict(
        params=params,
        x=x,
        M=M,
        d=d,
        E=E,
        E_relu=E_relu,
        sympy=sympy_grads,
        backprop=backprop,
        sympy_relu=relu_grads,
    )


def _network() -> Identity:
    net = tiny_network()
    chains = [
        Chain(
            f"$\\partial E / \\partial {name[0]}_{name[1]}$ for 4 inputs, 3 hidden units, 3 classes, "
            "a batch of 2",
            [Step(net["sympy"][name]), Step(net["backprop"][name], "backprop's formula")],
            show_latex=False,
        )
        for name in ("W2", "b2", "W1", "b1")
    ]
    W2T, x_T, hT, a1, y, d, d1, d2, one = _nc(
        r"W_2^{\top}", r"x^{\top}", r"h^{\top}", "a_1", "y", "d", r"\delta_1", r"\delta_2", r"\mathbf{1}"
    )
    nab = {k: sp.Symbol(rf"\nabla_{{{k[0]}_{k[1]}}}", commutative=False) for k in ("W2", "b2", "W1", "b1")}
    statement = sp.Tuple(
        sp.Eq(d2, sp.Add(y, -d, evaluate=False), evaluate=False),
        sp.Eq(nab["W2"], d2 * hT, evaluate=False),
        sp.Eq(nab["b2"], d2 * one, evaluate=False),
        sp.Eq(d1, Had(Step0(a1), W2T * d2), evaluate=False),
        sp.Eq(nab["W1"], d1 * x_T, evaluate=False),
        sp.Eq(nab["b1"], d1 * one, evaluate=False),
    )
    return Identity(
        8,
        "network_backprop_equals_sympy_gradient",
        "Backprop through the whole shallow network equals SymPy's derivatives",
        statement,
        [
            "away from the ReLU kink (on each linear region, "
            "$\\operatorname{relu}(a_1) = M \\odot a_1$ with $M$ constant)"
        ],
        chains,
        "backprop",
    )


def _mean_gradient() -> Identity:
    N, s = sp.Symbol("N", integer=True, positive=True), sp.Symbol("s", integer=True, positive=True)
    theta = sp.Symbol(r"\theta", real=True)
    En = sp.Function("E_s")(theta)
    Es = sp.Function("E")(s, theta)
    chain = Chain(
        "any $N$, any parameter $\\theta$",
        [
            Step(sp.Derivative(sp.Sum(Es, (s, 1, N)) / N, theta)),
            Step(sp.Sum(sp.Derivative(Es, theta), (s, 1, N)) / N, "differentiation is linear"),
        ],
    )
    explicit_N = 3
    fs = [sp.Function(f"E_{q}")(theta) for q in range(1, explicit_N + 1)]
    explicit = Chain(
        "$N = 3$",
        [
            Step(sp.Derivative(sum(fs) / explicit_N, theta)),
            Step(sum(sp.Derivative(f, theta) for f in fs) / explicit_N, "differentiation is linear"),
        ],
    )
    Emean = sp.Symbol(r"\bar{E}")
    return Identity(
        9,
        "mean_loss_gradient_is_summed_gradient_over_n",
        "The gradient of the mean loss is the summed gradient divided by N: the course's γ/N",
        sp.Eq(
            sp.Derivative(Emean, theta),
            sp.Sum(sp.Derivative(En, theta), (s, 1, N)) / N,
            evaluate=False,
        ),
        [],
        [chain, explicit],
        "backprop",
    )


@functools.lru_cache(maxsize=1)
def identities() -> tuple[Identity, ...]:
    r"""All identities, in the order of the module docstring (built once, then cached)."""
    return (
        _diag_derivative(),
        _offdiag_derivative(),
        _jacobian_symmetric(),
        _jvp(),
        _loss_gradient(),
        _fused(),
        _relu(),
        _network(),
        _mean_gradient(),
    )


def identity(name: str) -> Identity:
    r"""The identity called ``name`` (see :func:`identities`)."""
    for ident in identities():
        if ident.name == name:
            return ident
    names = ", ".join(x.name for x in identities())
    raise KeyError(f"no identity {name!r}; the identities are: {names}")
