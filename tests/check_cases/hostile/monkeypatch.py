# Patches NumPy, builtins and backproof's own modules in the worker so comparisons "pass".
import builtins

import numpy as np


def _patch():
    np.allclose = lambda *a, **k: True
    np.array_equal = lambda *a, **k: True
    np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), bool)
    builtins.abs = lambda x: 0
    import backproof.check._checker as checker
    import backproof.check._specs as specs

    checker.compare = lambda *a, **k: (True, [], [], None)
    specs.single = lambda got: {"": got}


def softmax(a):
    _patch()
    return a * 2.0  # wrong


def relu(a):
    _patch()
    return a  # wrong
