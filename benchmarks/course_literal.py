r"""A literal implementation of the course's algorithm, written for comparison only.

It follows the course notebook's structure and NumPy defaults: float64 images, the
softmax and its directional derivative ``softmaxp`` applied to ``e = -d/y``,
``relup``, fresh arrays at every step, and a minibatch gathered with fancy indexing
on the (784, N) column matrix. backproof's own code is in ``src/backproof``; this
file exists so that ``bench_training.py`` can time the two side by side.
"""

from __future__ import annotations

import numpy as np


def softmax(a):
    a = a - a.max(axis=0)
    e = np.exp(a)
    return e / e.sum(axis=0)


def softmaxp(a, e):
    g = softmax(a)
    return g * e - (g * e).sum(axis=0) * g


def relu(a):
    return a * (a > 0)


def relup(a, e):
    return e * (a > 0)


def init_shallow(Ni, Nh, No, rng):
    b1 = rng.standard_normal((Nh, 1)) / np.sqrt((Ni + 1) / 2)
    W1 = rng.standard_normal((Nh, Ni)) / np.sqrt((Ni + 1) / 2)
    b2 = rng.standard_normal((No, 1)) / np.sqrt(Nh + 1)
    W2 = rng.standard_normal((No, Nh)) / np.sqrt(Nh + 1)
    return [W1, b1, W2, b2]


def forwardprop_shallow(x, net):
    W1, b1, W2, b2 = net
    a1 = W1.dot(x) + b1
    h1 = relu(a1)
    a2 = W2.dot(h1) + b2
    return a1, h1, a2, softmax(a2)


def backprop_shallow(x, d, net):
    _W1, _b1, W2, _b2 = net
    a1, h1, a2, y = forwardprop_shallow(x, net)
    e = -d / y
    delta2 = softmaxp(a2, e)
    dW2 = delta2.dot(h1.T)
    db2 = delta2.sum(axis=1, keepdims=True)
    delta1 = relup(a1, W2.T.dot(delta2))
    dW1 = delta1.dot(x.T)
    db1 = delta1.sum(axis=1, keepdims=True)
    return dW1, db1, dW2, db2


def update_shallow(net, grads, gamma):
    return [p - gamma * g for p, g in zip(net, grads, strict=True)]


def full_batch_update(x, d, net, gamma=0.05):
    return update_shallow(net, backprop_shallow(x, d, net), gamma / x.shape[1])


def minibatch_epoch(x, d, net, rng, B=100, gamma=0.05):
    perm = rng.permutation(x.shape[1])
    for k in range(0, x.shape[1], B):
        idx = perm[k : k + B]
        net = update_shallow(net, backprop_shallow(x[:, idx], d[:, idx], net), gamma / idx.shape[0])
    return net
