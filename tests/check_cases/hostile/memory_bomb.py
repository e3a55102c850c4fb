# Allocates without end.
import numpy as np


def softmax(a):
    return np.ones((200_000, 200_000)) @ np.ones((200_000, 1))


def relu(a):
    grow = []
    while True:
        grow.append(" " * 10**7)
