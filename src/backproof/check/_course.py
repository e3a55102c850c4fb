r"""The course's functions, written once with switches for the mistakes learners make.

Every diagnosis of :mod:`backproof.check` is computed, not guessed: the mistaken formula
below is run on the same input as the learner's function and the two outputs are compared.
With every switch at its default each formula is the correct one; the checks' *expected*
values never come from here but from backproof's own functions (:func:`backproof.softmax`,
:func:`backproof.backprop`, ...), so a wrong switch cannot hide a wrong reference.

The course's conventions: columns are samples, ``net = (W1, b1, W2, b2)`` with biases as
column vectors ``(Nh, 1)`` and ``(No, 1)``.

Non-goals: a second reference implementation (these are fingerprints of mistakes).
"""

from __future__ import annotations

import numpy as np

# ---------------------------------------------------------------- references (backproof's own)


def params_of(net):
    from ..network import Parameters

    W1, b1, W2, b2 = (np.asarray(v, dtype=np.float64) for v in net)
    return Parameters(W1, b1.reshape(-1), W2, b2.reshape(-1))


def ref_forward(x, net):
    from ..network import forward

    return forward(params_of(net), x).y


def ref_update(x, d, net, gamma):
    r"""One step :math:`W \leftarrow W - (\gamma/N)\nabla_W` with backproof's :func:`~backproof.backprop`."""
    from ..network import backprop

    p = params_of(net)
    grads = backprop(p, x, d)
    N = x.shape[1]
    W1, b1, W2, b2 = (v - gamma / N * g for v, g in zip(p.arrays().values(), grads.arrays().values()))
    return W1, b1[:, None], W2, b2[:, None]


def ref_loss(y, d):
    from ..loss import cross_entropy

    return cross_entropy(y, d) / y.shape[0]  # the course averages over all 10 N entries


# ---------------------------------------------------------------- switchable course formulas


def softmax(a, axis=0, max_sub="column", keepdims=True, sum_axis="same"):
    a = np.asarray(a, dtype=np.float64)
    sum_axis = axis if sum_axis == "same" else sum_axis
    if max_sub == "column":
        a = a - a.max(axis=axis, keepdims=True)
    elif max_sub == "global":
        a = a - a.max()
    elif max_sub == "row":
        a = a - a.max(axis=1 - axis, keepdims=True)
    with np.errstate(over="ignore", invalid="ignore"):
        ex = np.exp(a)
        if sum_axis is None:
            return ex / ex.sum()
        return ex / ex.sum(axis=sum_axis, keepdims=keepdims)


def softmaxp(a, e, term=True, sign=1, inner="g", axis=0, input_is_g=False):
    g = np.asarray(a, dtype=np.float64) if input_is_g else softmax(a)
    e = np.asarray(e, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        ge = g * e
        if not term:
            return sign * ge
        w = ge if inner == "g" else e  # inner == "ones": sum(e) instead of <g, e>
        s = w.sum() if axis is None else w.sum(axis=axis, keepdims=True)
        return sign * (ge - s * g)


def relup(a, e, kink=0.0, times_e=True):
    a = np.asarray(a, dtype=np.float64)
    e = np.asarray(e, dtype=np.float64)
    step = np.where(a > 0, 1.0, np.where(a == 0, kink, 0.0))
    return step * e if times_e else step


def forward(x, net, relu_on=True, output="y"):
    W1, b1, W2, b2 = net
    a1 = W1 @ x + b1
    h = np.maximum(a1, 0) if relu_on else a1
    a2 = W2 @ h + b2
    return a2 if output == "a2" else softmax(a2)


def update(
    x,
    d,
    net,
    gamma,
    delta2="fused",
    sign=-1,
    divide="N",
    relup_on=True,
    relup_swapped=False,
    transpose_W1=False,
    bias="sum",
    h_in_W2="h",
):
    r"""The course's update_shallow; keyword switches reproduce the mistakes (defaults: correct)."""
    W1, b1, W2, b2 = (np.asarray(v, dtype=np.float64) for v in net)
    x = np.asarray(x, dtype=np.float64)
    a1 = W1 @ x + b1
    h = np.maximum(a1, 0)
    a2 = W2 @ h + b2
    y = softmax(a2)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if delta2 == "fused":
            delta2_ = y - d
        elif delta2 == "textbook":
            delta2_ = softmaxp(a2, -d / y)
        elif delta2 == "jvp_on_y":
            delta2_ = softmaxp(y, -d / y)
        else:
            raise ValueError(delta2)
        back = W2.T @ delta2_
        if not relup_on:
            delta1 = back
        elif relup_swapped:
            delta1 = relup(back, a1)
        else:
            delta1 = relup(a1, back)
        nW2 = delta2_ @ (h if h_in_W2 == "h" else a1).T
        nW1 = x @ delta1.T if transpose_W1 else delta1 @ x.T
        reduce = np.mean if bias == "mean" else np.sum
        nb2 = reduce(delta2_, axis=1, keepdims=True)
        nb1 = reduce(delta1, axis=1, keepdims=True)
        n = {"N": x.shape[1], "1": 1, "Ni": x.shape[0]}[divide]
        step = gamma / n
        return (
            W1 + sign * step * nW1,
            b1 + sign * step * nb1,
            W2 + sign * step * nW2,
            b2 + sign * step * nb2,
        )


def train(x, d, net, T, gamma, steps=None, ref=False, **mistake):
    r"""``T`` full-batch updates (``steps`` overrides how many are done); ``ref``: backproof's step."""
    for _ in range(T if steps is None else steps):
        net = ref_update(x, d, net, gamma) if ref else update(x, d, net, gamma, **mistake)
    return net


def train_minibatch_same_columns(
    x, d, net, T, B, gamma, divide_by_all=False, steps_per_epoch=None, ref=False, no_1_over_B=False
):
    r"""Minibatch SGD on data whose columns are all equal, where the shuffle cannot matter."""
    N = x.shape[1]
    per_epoch = N // B if steps_per_epoch is None else steps_per_epoch
    g = gamma * B / N if divide_by_all else gamma * B if no_1_over_B else gamma
    for _ in range(T * per_epoch):
        net = ref_update(x[:, :B], d[:, :B], net, g) if ref else update(x[:, :B], d[:, :B], net, g)
    return net


def init_shallow(Ni, Nh, No, rng, scale="course", bias_shape="column", dist="normal"):
    draw = (lambda *s: rng.random(s)) if dist == "uniform" else (lambda *s: rng.standard_normal(s))
    s1, s2 = {
        "course": (1 / np.sqrt((Ni + 1) / 2), 1 / np.sqrt(Nh + 1)),
        "none": (1.0, 1.0),
        "no_sqrt": (1 / ((Ni + 1) / 2), 1 / (Nh + 1)),
        "times": (np.sqrt((Ni + 1) / 2), np.sqrt(Nh + 1)),
        "he_output": (1 / np.sqrt((Ni + 1) / 2), 1 / np.sqrt((Nh + 1) / 2)),
    }[scale]
    bshape = {"column": lambda n: (n, 1), "flat": lambda n: (n,), "row": lambda n: (1, n)}[bias_shape]
    b1 = draw(*bshape(Nh)) * s1
    W1 = draw(Nh, Ni) * s1
    b2 = draw(*bshape(No)) * s2
    W2 = draw(No, Nh) * s2
    return W1, b1, W2, b2


# ---------------------------------------------------------------- the course's functions, correct


def _ref_normalize(x):
    return (2 * np.asarray(x).astype(np.float32) / 255 - 1).astype(np.float32)


def _ref_label2onehot(lbl):
    lbl = np.asarray(lbl)
    d = np.zeros((10, lbl.size))
    d[lbl, np.arange(lbl.size)] = 1
    return d


def _ref_softmaxp(a, e):
    from ..softmax import softmax_jvp

    return softmax_jvp(np.asarray(a, dtype=np.float64), np.asarray(e, dtype=np.float64))


def _ref_relup(a, e):
    return (np.asarray(a) > 0) * np.asarray(e, dtype=np.float64)


def _ref_init(Ni, Nh, No):
    return init_shallow(Ni, Nh, No, np.random.default_rng(np.random.randint(2**31)))


def _ref_minibatch(x, d, net, T, B=100, gamma=0.05):
    N = x.shape[1]
    for _ in range(T):
        order = np.random.permutation(N)
        for k in range(0, N, B):
            batch = order[k : k + B]
            net = ref_update(x[:, batch], d[:, batch], net, gamma)
    return net


REFERENCE = {
    "normalize_MNIST_images": _ref_normalize,
    "label2onehot": _ref_label2onehot,
    "onehot2label": lambda d: np.argmax(d, axis=0),
    "softmax": lambda a: softmax(a),
    "softmaxp": _ref_softmaxp,
    "relu": lambda a: np.maximum(a, 0),
    "relup": _ref_relup,
    "init_shallow": _ref_init,
    "forwardprop_shallow": lambda x, net: ref_forward(x, net),
    "eval_loss": lambda y, d: ref_loss(np.asarray(y), np.asarray(d)),
    "eval_perfs": lambda y, lbl: 100 * np.mean(np.argmax(y, axis=0) != np.asarray(lbl)),
    "update_shallow": lambda x, d, net, gamma=0.05: ref_update(x, d, net, gamma),
    "backprop_shallow": lambda x, d, net, T, gamma=0.05: train(x, d, net, T, gamma, ref=True),
    "backprop_minibatch_shallow": _ref_minibatch,
}
r"""Course name -> a correct function with the course's signature and conventions: put in place of a
learner's wrong one to see whether a function that calls it is right by itself."""
