"""Hostile: lifts the recursion limit and recurses through C code (map, sum) until the C stack
overflows: a segmentation fault, not a Python exception. Expected: the crash is recorded, score
0, the batch goes on."""
import sys

sys.setrecursionlimit(10**9)


def _down(n):
    return sum(map(_down, [n + 1]))


def forward_backward(x, y, W, b):
    return _down(0)
