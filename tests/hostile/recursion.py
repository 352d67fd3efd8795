"""Hostile: unbounded recursion. Expected: RecursionError recorded for the call, score 0."""


def forward_backward(x, y, W, b):
    return forward_backward(x, y, W, b)
