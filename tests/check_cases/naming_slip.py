# A learner who named two functions wrongly (tests/test_check.py).
# ruff: noqa: F811 - redefining softmax is the learner's slip under test
import numpy as np


def softmax(a):
    e = np.exp(a - a.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)


def softmax(a, e):  # meant softmaxp: this overwrites softmax
    g = np.exp(a - a.max(axis=0, keepdims=True))
    g = g / g.sum(axis=0, keepdims=True)
    return g * e - (g * e).sum(axis=0, keepdims=True) * g


def relu(a):
    return np.maximum(a, 0)


def relu_prime(a, e):  # the course calls it relup
    return e * (a > 0)
