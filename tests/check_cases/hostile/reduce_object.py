# The exploit: a return value whose unpickling runs code in the checker.
import os

import numpy as np


class Passing:
    def __reduce__(self):
        return (os.system, ("touch /tmp/backproof-hostile-reduce-ran",))

    def __array__(self, dtype=None, copy=None):
        raise RuntimeError("not an array")


def softmax(a):
    return Passing()


def relu(a):
    return np.zeros(3, dtype=object)  # an array of Python objects
