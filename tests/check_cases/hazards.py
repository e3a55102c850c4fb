# Learner code that misbehaves in every way the checker must survive (tests/test_check.py).
# ruff: noqa: F821 - the undefined name Ntrain is the learner's mistake under test
import os
import sys

import numpy as np

data = np.load("mnist_train.npy")  # a training-time line: not run when checking definitions


def normalize_MNIST_images(x):  # correct: still checked although the others misbehave
    return (2 * x.astype(np.float32) / 255 - 1).astype(np.float32)


def relu(a):  # infinite loop: forgot i += 1
    out = a.copy()
    i = 0
    while i < out.size:
        if out.flat[i] < 0:
            out.flat[i] = 0
    return out


def relup(a, e):  # left-over debugging exit
    sys.exit("stop here")


def eval_loss(y, d):  # crash: a name that only exists in the training cells
    return -np.sum(d * np.log(y)) / Ntrain


def init_shallow(Ni, Nh, No):  # huge allocation: 60000 x 7840 float64, 3.8 GB
    scratch = np.ones((60000, 7840))
    W1 = np.random.randn(Nh, Ni) / np.sqrt((Ni + 1) / 2) + 0 * scratch[0, 0]
    return W1, np.zeros((Nh, 1)), np.random.randn(No, Nh), np.zeros((No, 1))


def onehot2label(d):  # kills the Python process
    os._exit(3)


while True:  # a top-level loop: not run when checking definitions
    pass
