# Prints megabytes on stdout and stderr and returns what cannot be checked.
import sys

import numpy as np


def softmax(a):
    print("x" * 1_000_000)
    sys.stderr.write("y" * 1_000_000)
    return np.zeros((a.shape[0] + 1, 7))  # wrong shape


def relu(a):
    return np.zeros(10_000_000)  # 80 MB: more than a reply may carry
