"""Hostile: os._exit(0) in the call: no exception, no cleanup, exit status 0. Expected: the
process's end is recorded as a crash of the call, score 0."""
import os


def forward_backward(x, y, W, b):
    os._exit(0)
