"""Hostile: calls sys.exit(0) in the call, hoping "exit code 0" reads as success. Expected:
recorded as an error of the call ("called sys.exit(0)"), score 0."""
import sys


def forward_backward(x, y, W, b):
    sys.exit(0)
