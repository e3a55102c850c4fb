# Mo's helpers, imported by assignment.ipynb
import numpy as np


def softmax(a):
    a = a - a.max(axis=0, keepdims=True)
    return np.exp(a) / np.exp(a).sum(axis=0, keepdims=True)


def softmaxp(a, e):
    g = softmax(a)
    return g * e - np.sum(g * e, axis=0, keepdims=True) * g


def relu(a):
    return np.maximum(a, 0)
