r"""The numeric side of the verification: each SymPy identity against the NumPy code.

For every identity of :mod:`backproof.symbolic` this module

* evaluates the SymPy expression (lambdified, with mpmath at 50 digits so that
  logits of :math:`\pm 1000` neither overflow nor underflow) and compares it with
  the backproof function that implements it, on random inputs, in float64 and
  float32;
* compares that function with centred finite differences in float64.

Against SymPy the error is normwise per column, :math:`\max_i |a_i - n_i| / \max(\max_i |a_i| +
\max_i |n_i|, 10^{-8})`, the largest over columns: an entry far smaller than its column (a
probability of :math:`e^{-20}`, say) carries the rounding of the whole column. For the
softmax JVP and the Jacobian built from it, the scale is that of the terms the formula
subtracts (:func:`jvp_error_matrix`). Against finite
differences it is elementwise, as in CS231n: :math:`\max |a - n| / \max(|a| + |n|, 10^{-8})`.
:func:`run_all` gathers proofs and checks into one :class:`Report` per identity,
which ``backproof verify`` prints and the site shows.

Non-goals: statistical testing; the property-based tests live in ``tests/``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from . import symbolic as S
from .loss import cross_entropy, cross_entropy_grad
from .network import Parameters, backprop, forward
from .preprocess import one_hot
from .relu import relu, relu_jvp
from .softmax import softmax, softmax_jvp

__all__ = [
    "TOLERANCE",
    "Report",
    "col_rel_error",
    "difference_rel_error",
    "fd_check",
    "format_table",
    "jvp_error_matrix",
    "jvp_rel_error",
    "numeric_check",
    "rel_error",
    "run_all",
]

#: Largest relative error accepted against the SymPy reference, by dtype, and for finite differences.
TOLERANCE = {"float64": 1e-9, "float32": 1e-4, "fd": 1e-7}
SCALES = (1.0, 10.0, 1000.0)  # logit scales tried for the softmax identities
_DPS = 50


def rel_error(a, n) -> float:
    r"""CS231n's relative error, the largest over entries: :math:`|a - n| / \max(|a| + |n|, 10^{-8})`."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    return float(np.max(np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)))


def col_rel_error(a, n) -> float:
    r"""Normwise relative error of each column (a vector: one column), the largest over columns."""
    a, n = np.asarray(a, dtype=np.float64), np.asarray(n, dtype=np.float64)
    if a.ndim < 2:
        a, n = a.reshape(-1, 1), n.reshape(-1, 1)
    num = np.max(np.abs(a - n), axis=0)
    den = np.maximum(np.max(np.abs(a), axis=0) + np.max(np.abs(n), axis=0), 1e-8)
    return float(np.max(num / den))


def jvp_error_matrix(a, e, got, ref) -> np.ndarray:
    r"""Entrywise error of a softmax JVP relative to the size of the two terms it subtracts.

    :math:`\delta = g \odot e - \langle g, e\rangle g` cancels when :math:`g` is nearly
    one-hot, so even exact rounding of the inputs moves the result by about the machine
    epsilon times :math:`\max_i(|g_i e_i| + |\langle g, e\rangle| g_i)`, the largest term of
    the column; each column's errors are divided by that scale (at least 1e-8, the floor of
    the other relative errors, below which float32 underflows).
    """
    a, e = np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64)
    g = np.exp(a - a.max(axis=0))
    g /= g.sum(axis=0)
    terms = np.abs(g * e) + np.abs((g * e).sum(axis=0)) * g
    diff = np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64))
    return diff / np.maximum(terms.max(axis=0), 1e-8)  # the same floor as everywhere else


def difference_rel_error(got, ref, u, v) -> float:
    r"""Error of a computed difference :math:`u - v`, per column relative to :math:`\max_i(|u_i| + |v_i|)`.

    For :math:`y - d` with :math:`y_i \approx 1 = d_i` the result cancels; its rounding is
    that of the terms, which is the scale used (at least 1e-8).
    """
    u, v = np.abs(np.asarray(u, np.float64)), np.abs(np.asarray(v, np.float64))
    diff = np.abs(np.asarray(got, np.float64) - np.asarray(ref, np.float64))
    return float(np.max(diff.max(axis=0) / np.maximum((u + v).max(axis=0), 1e-8)))


def jvp_rel_error(a, e, got, ref) -> float:
    r"""The largest entry of :func:`jvp_error_matrix`."""
    return float(np.max(jvp_error_matrix(a, e, got, ref)))


# --------------------------------------------------------------------------- references


@functools.lru_cache(maxsize=1)
def _softmax_refs():
    a, e, d, g = S._explicit()
    J = g.jacobian(a)
    fused = J.T * (-d).multiply_elementwise(g.applyfunc(lambda v: 1 / v))
    ys = sp.Matrix(sp.symbols(f"y_1:{S.N_EXPLICIT + 1}", positive=True))
    E = -sum(d[r] * sp.log(ys[r]) for r in range(S.N_EXPLICIT))
    grad_y = sp.Matrix([E]).jacobian(ys).T
    mp = ["mpmath"]
    return {
        "J": sp.lambdify([list(a)], J, mp),
        "jvp": sp.lambdify([list(a), list(e)], J.T * e, mp),
        "fused": sp.lambdify([list(a), list(d)], fused, mp),
        "grad_y": sp.lambdify([list(ys), list(d)], grad_y, mp),
    }


@functools.lru_cache(maxsize=1)
def _network_refs():
    net = S.tiny_network()
    P = net["params"]
    symbols = [*P["W1"], *P["b1"], *P["W2"], *P["b2"], *net["x"]]
    grads = {k: sp.lambdify([symbols], v, "numpy") for k, v in net["sympy_relu"].items()}
    return grads, net


def _mp(fn, *cols):
    """Evaluate an mpmath-lambdified reference at 50 digits, column by column."""
    with mpmath.workdps(_DPS):
        outs = []
        for args in zip(*(c.T for c in cols)):
            value = fn(*[[mpmath.mpf(float(v)) for v in col] for col in args])
            outs.append(np.array(value.tolist(), dtype=object).astype(float).reshape(-1))
    return np.array(outs).T


def _jacobian_by_jvp(a: np.ndarray) -> np.ndarray:
    """The Jacobian at one column ``a``, built only from softmax_jvp (as backproof never does)."""
    n = a.shape[0]
    return softmax_jvp(np.repeat(a[:, None], n, axis=1), np.eye(n, dtype=a.dtype))


# --------------------------------------------------------------------------- numeric checks


def _logits(rng, dtype, scale, cols=4):
    return (rng.standard_normal((S.N_EXPLICIT, cols)) * scale).astype(dtype)


def _softmax_entries(kind):
    def check(rng, dtype):
        errs = []
        n = S.N_EXPLICIT
        for scale in SCALES:
            a = _logits(rng, dtype, scale, cols=2)
            for c in range(a.shape[1]):
                J_np = _jacobian_by_jvp(a[:, c])  # column k is J e_k
                J_ref = _mp(_softmax_refs()["J"], a[:, c : c + 1]).reshape(n, n)
                err = jvp_error_matrix(np.repeat(a[:, c : c + 1], n, axis=1), np.eye(n), J_np, J_ref)
                off = ~np.eye(n, dtype=bool)
                if kind == "diag":
                    errs.append(float(np.max(np.diag(err))))
                elif kind == "off":
                    errs.append(float(np.max(err[off])))
                else:
                    errs.append(max(float(np.max(err)), float(np.max(np.abs(J_np - J_np.T)))))
        return max(errs)

    return check


def _check_jvp(rng, dtype):
    errs = []
    for scale in SCALES:
        a = _logits(rng, dtype, scale)
        e = rng.standard_normal(a.shape).astype(dtype)
        errs.append(jvp_rel_error(a, e, softmax_jvp(a, e), _mp(_softmax_refs()["jvp"], a, e)))
    return max(errs)


def _check_grad_y(rng, dtype):
    y = rng.uniform(1e-3, 1, (S.N_EXPLICIT, 4)).astype(dtype)
    d = one_hot(rng.integers(0, S.N_EXPLICIT, 4), dtype=dtype)
    return col_rel_error(cross_entropy_grad(y, d), _mp(_softmax_refs()["grad_y"], y, d))


def _check_fused(rng, dtype):
    errs = []
    for scale in SCALES:
        a = _logits(rng, dtype, scale)
        d = one_hot(rng.integers(0, S.N_EXPLICIT, a.shape[1]), dtype=dtype)
        y = softmax(a)
        errs.append(difference_rel_error(y - d, _mp(_softmax_refs()["fused"], a, d), y, d))
    return max(errs)


def _check_relu(rng, dtype):
    a = rng.standard_normal((20, 5)).astype(dtype)
    a[::4] = 0  # the kink itself, where the convention H(0) = 0 applies
    e = rng.standard_normal(a.shape).astype(dtype)
    H = sp.lambdify(sp.Symbol("t"), sp.Heaviside(sp.Symbol("t"), 0), "mpmath")
    ref = np.vectorize(lambda t, v: float(H(float(t))) * float(v))(a, e)
    return col_rel_error(relu_jvp(a, e), ref)


def _tiny_point(rng, dtype):
    Ni, Nh, No, N = (S.TINY[k] for k in ("Ni", "Nh", "No", "N"))
    p = Parameters(
        rng.standard_normal((Nh, Ni)),
        rng.standard_normal(Nh),
        rng.standard_normal((No, Nh)),
        rng.standard_normal(No),
    ).astype(dtype)
    x = rng.standard_normal((Ni, N)).astype(dtype)
    while np.min(np.abs(p.W1 @ x + p.b1[:, None])) < 1e-2:  # stay away from the kink
        x = rng.standard_normal((Ni, N)).astype(dtype)
    d = one_hot(np.array(S.TINY_LABELS), No, dtype=dtype)
    return p, x, d


def _sympy_network_grads(p, x):
    grads, _ = _network_refs()
    point = [
        *p.W1.ravel().astype(float),
        *p.b1.astype(float),
        *p.W2.ravel().astype(float),
        *p.b2.astype(float),
        *x.ravel().astype(float),
    ]
    return {k: np.array(f(point), dtype=float).reshape(getattr(p, k).shape) for k, f in grads.items()}


def _check_network(rng, dtype, mean=False):
    errs = []
    for _ in range(3):
        p, x, d = _tiny_point(rng, dtype)
        ref = _sympy_network_grads(p, x)
        N = x.shape[1]
        if mean:  # per-sample gradients summed then divided by N, against SymPy's gradient of E / N
            per = [backprop(p, x[:, [c]], d[:, [c]]) for c in range(N)]
            got = {k: sum(getattr(q, k) for q in per) / N for k in ref}
            ref = {k: v / N for k, v in ref.items()}
        else:
            got = backprop(p, x, d).arrays()
        errs.append(max(col_rel_error(got[k], ref[k]) for k in ref))
    return max(errs)


_NUMERIC = {
    "softmax_derivative_diagonal": _softmax_entries("diag"),
    "softmax_derivative_off_diagonal": _softmax_entries("off"),
    "softmax_jacobian_is_symmetric": _softmax_entries("all"),
    "softmax_jvp_is_g_times_e_minus_inner_product": _check_jvp,
    "cross_entropy_gradient_is_minus_d_over_y": _check_grad_y,
    "fused_softmax_cross_entropy_gradient_is_y_minus_d": _check_fused,
    "relu_derivative_is_heaviside_zero_at_kink": _check_relu,
    "network_backprop_equals_sympy_gradient": _check_network,
    "mean_loss_gradient_is_summed_gradient_over_n": functools.partial(_check_network, mean=True),
}


def numeric_check(name: str, dtype=np.float64, seed: int = 0) -> float:
    r"""Largest relative error of the NumPy code against the SymPy identity ``name``."""
    return _NUMERIC[name](np.random.default_rng(seed), np.dtype(dtype).type)


# --------------------------------------------------------------------------- finite differences


def _centred(f, x, direction, eps=1e-6):
    return (f(x + eps * direction) - f(x - eps * direction)) / (2 * eps)


def _fd_softmax_columns(rng):
    a = rng.standard_normal(S.N_EXPLICIT)
    J_fd = np.column_stack([_centred(softmax, a, v) for v in np.eye(S.N_EXPLICIT)])
    return J_fd, _jacobian_by_jvp(a)


def _fd_jvp(rng):
    a, e = rng.standard_normal((S.N_EXPLICIT, 5)), rng.standard_normal((S.N_EXPLICIT, 5))
    return rel_error(softmax_jvp(a, e), _centred(softmax, a, e))


def _fd_grad_y(rng):
    y = rng.uniform(0.1, 1, S.N_EXPLICIT)
    d = one_hot(np.array([3]), dtype=np.float64)[:, 0]

    def E(v):
        return -np.sum(d * np.log(v))

    numeric = np.array([_centred(E, y, v) for v in np.eye(S.N_EXPLICIT)])
    return rel_error(cross_entropy_grad(y, d)[:, 0], numeric)


def _fd_fused(rng):
    a = rng.standard_normal(S.N_EXPLICIT)
    d = one_hot(np.array([7]), dtype=np.float64)[:, 0]

    def E(v):
        return cross_entropy(softmax(v)[:, None], d[:, None])

    numeric = np.array([_centred(E, a, v) for v in np.eye(S.N_EXPLICIT)])
    return rel_error(softmax(a) - d, numeric)


def _fd_relu(rng):
    a = rng.standard_normal((20, 5))
    a[np.abs(a) < 1e-3] = 0.5  # finite differences need a neighbourhood without the kink
    e = rng.standard_normal(a.shape)
    return rel_error(relu_jvp(a, e), _centred(relu, a, e))


def _fd_network(rng, mean=False):
    p, x, d = _tiny_point(rng, np.float64)
    N = x.shape[1]
    scale = 1.0 if mean else N  # cross_entropy is the mean; the summed loss is N times it
    grads = backprop(p, x, d)
    errs = []
    for name, value in p.arrays().items():
        numeric = np.zeros_like(value)
        for idx in np.ndindex(value.shape):
            old = value[idx]
            value[idx] = old + 1e-6
            up = cross_entropy(forward(p, x).y, d)
            value[idx] = old - 1e-6
            down = cross_entropy(forward(p, x).y, d)
            value[idx] = old
            numeric[idx] = (up - down) / 2e-6 * scale
        got = getattr(grads, name) / (N if mean else 1)
        errs.append(rel_error(got, numeric))
    return max(errs)


_FD = {
    "softmax_derivative_diagonal": lambda r: rel_error(*(np.diag(m) for m in _fd_softmax_columns(r))),
    "softmax_derivative_off_diagonal": lambda r: rel_error(
        *(m[~np.eye(S.N_EXPLICIT, dtype=bool)] for m in _fd_softmax_columns(r))
    ),
    "softmax_jacobian_is_symmetric": lambda r: rel_error(*_fd_softmax_columns(r)),
    "softmax_jvp_is_g_times_e_minus_inner_product": _fd_jvp,
    "cross_entropy_gradient_is_minus_d_over_y": _fd_grad_y,
    "fused_softmax_cross_entropy_gradient_is_y_minus_d": _fd_fused,
    "relu_derivative_is_heaviside_zero_at_kink": _fd_relu,
    "network_backprop_equals_sympy_gradient": _fd_network,
    "mean_loss_gradient_is_summed_gradient_over_n": functools.partial(_fd_network, mean=True),
}


def fd_check(name: str, seed: int = 0) -> float:
    r"""Relative error of the NumPy derivative against centred finite differences (float64)."""
    return _FD[name](np.random.default_rng(seed))


# --------------------------------------------------------------------------- reports


@dataclass
class Report:
    r"""Everything checked about one identity."""

    number: int
    name: str
    title: str
    proved: bool
    proof_seconds: float
    numeric_max_rel_error: float
    numeric_max_rel_error_float32: float
    fd_rel_error: float
    necessity: bool | None = None

    @property
    def ok(self) -> bool:
        return (
            self.proved
            and self.numeric_max_rel_error <= TOLERANCE["float64"]
            and self.numeric_max_rel_error_float32 <= TOLERANCE["float32"]
            and self.fd_rel_error <= TOLERANCE["fd"]
        )

    def to_dict(self) -> dict:
        return {
            "number": self.number,
            "name": self.name,
            "title": self.title,
            "proved": self.proved,
            "proof_seconds": self.proof_seconds,
            "numeric_max_rel_error": self.numeric_max_rel_error,
            "numeric_max_rel_error_float32": self.numeric_max_rel_error_float32,
            "fd_rel_error": self.fd_rel_error,
            "assumption_needed": self.necessity,
            "tolerances": dict(TOLERANCE),
            "ok": self.ok,
        }


def run_all(seed: int = 0) -> list[Report]:
    r"""Prove every identity and run its numeric and finite-difference checks."""
    reports = []
    for ident in S.identities():
        result = ident.prove()
        reports.append(
            Report(
                ident.number,
                ident.name,
                ident.title,
                result.proved,
                result.seconds,
                numeric_check(ident.name, np.float64, seed),
                numeric_check(ident.name, np.float32, seed),
                fd_check(ident.name, seed),
                result.necessity,
            )
        )
    return reports


def format_table(reports: list[Report]) -> str:
    r"""The table that ``backproof verify`` prints."""
    head = (
        f"{'#':>2}  {'identity':52} {'proof':>10} {'NumPy vs SymPy f64':>19} {'f32':>9} {'finite diff.':>13}"
    )
    lines = [head, "-" * len(head)]
    for r in reports:
        mark = "✓" if r.proved else "✗"
        lines.append(
            f"{r.number:>2}  {r.name:52} {mark} {r.proof_seconds:6.2f} s {r.numeric_max_rel_error:19.1e} "
            f"{r.numeric_max_rel_error_float32:9.1e} {r.fd_rel_error:13.1e}{'' if r.ok else '  FAILED'}"
        )
    tol = TOLERANCE
    lines.append(
        f"tolerances: float64 {tol['float64']:.0e}, float32 {tol['float32']:.0e}, "
        f"finite differences {tol['fd']:.0e} (relative errors: normwise per column against SymPy, "
        "elementwise |a-n|/max(|a|+|n|, 1e-8) against finite differences)"
    )
    passed = sum(r.ok for r in reports)
    lines.append(f"{passed} of {len(reports)} identities verified")
    return "\n".join(lines)
