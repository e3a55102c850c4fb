# Recursion without end: a RecursionError, and one that overflows the C stack.
import sys


def softmax(a):
    return softmax(a)


def relu(a):
    sys.setrecursionlimit(10**7)

    def down(n):
        return down(n + 1) + 1

    return down(0)


def relup(a, e):
    import ctypes

    return ctypes.string_at(0)  # what a C stack overflow ends in: a segmentation fault
